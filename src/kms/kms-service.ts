/**
 * Kura's built-in KMS: the AWS KMS JSON 1.1 API (`handle`) and the in-process calls S3
 * makes on a principal's behalf (`resolveKeyFor`, `generateDataKeyFor`, `decryptFor`).
 * See ./README.md for the key hierarchy, the ciphertext format and what is implemented.
 *
 * The endpoint (not this module) authenticates the request, parses the JSON body and takes
 * the operation from `X-Amz-Target: TrentService.<Operation>`; it serialises the returned
 * object as the response body, and a thrown KmsError with `kmsErrorBody(err)` and
 * `err.status`. Every call is authorized through the injected `authorize` and produces one
 * audit event, whatever its outcome.
 */
import { randomUUID } from 'node:crypto';
import { IntegrityError } from '../crypto/errors.js';
import { callerArn, type SignedPrincipal } from '../auth/principal.js';
import type { ContextValue } from '../iam/policy/request.js';
import {
  Call, type Env, type KmsAuditEvent, type KmsDeps, type KmsStats, type Via,
} from './core.js';
import { KmsError } from './errors.js';
import { Input } from './input.js';
import { MaterialCache } from './material.js';
import { S3_MANAGED_ALIAS, type KeyManager } from './model.js';
import { ALIAS_OPS } from './ops-aliases.js';
import { CRYPTO_OPS, decryptBlob, generateDataKey } from './ops-crypto.js';
import { GRANT_OPS } from './ops-grants.js';
import { KEY_OPS, type Op } from './ops-keys.js';
import { ROTATION_OPS } from './ops-rotation.js';

export { KmsError, kmsErrorBody, type KmsErrorCode } from './errors.js';
export type { KmsAuditEvent, KmsAuthorize, KmsAuthorizeRequest, KmsAuthorizeResult, KmsDeps, KmsStats, Via } from './core.js';
export { s3ViaService } from './policy.js';

const OPS = new Map<string, Op>(Object.entries({ ...KEY_OPS, ...ROTATION_OPS, ...ALIAS_OPS, ...CRYPTO_OPS, ...GRANT_OPS }));

/** The operations `handle` serves (X-Amz-Target names without the `TrentService.` prefix). */
export const KMS_OPERATIONS: readonly string[] = [...OPS.keys()];

/** Real AWS KMS operations this KMS does not offer: a clear UnsupportedOperationException rather than "unknown operation". */
const UNSUPPORTED = new Set([
  'Sign', 'Verify', 'GenerateMac', 'VerifyMac', 'GetPublicKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext',
  'DeriveSharedSecret', 'GetParametersForImport', 'ImportKeyMaterial', 'DeleteImportedKeyMaterial',
  'ReplicateKey', 'UpdatePrimaryRegion', 'CreateCustomKeyStore', 'DeleteCustomKeyStore', 'DescribeCustomKeyStores',
  'UpdateCustomKeyStore', 'ConnectCustomKeyStore', 'DisconnectCustomKeyStore',
]);

export interface KmsCall {
  caller: SignedPrincipal;
  requestId: string;
  /** From `X-Amz-Target: TrentService.CreateKey`, without the prefix. */
  operation: string;
  /** The parsed JSON body. */
  input: unknown;
  /** The request's condition keys (aws:SourceIp, aws:PrincipalTag/…), lower-cased. */
  context: ReadonlyMap<string, ContextValue>;
}

/** The S3 data key length (AES-256). */
const S3_DATA_KEY_BYTES = 32;

const EMPTY_CONTEXT: ReadonlyMap<string, ContextValue> = new Map();

/** Anything a call throws, as the KmsError the client gets; internal failures reveal nothing. */
function toKmsError(err: unknown): KmsError {
  if (err instanceof KmsError) return err;
  if (err instanceof IntegrityError) return new KmsError('KMSInternalException', 'The key material could not be read.', { cause: err });
  return new KmsError('KMSInternalException', 'An internal error occurred.', { cause: err });
}

interface RunSpec {
  caller: SignedPrincipal;
  operation: string;
  requestId: string;
  viaRequestId?: string;
  input: unknown;
  context: ReadonlyMap<string, ContextValue>;
  via?: Via;
}

export class KmsService {
  /** Counters for the benchmark report: successful data-key generations and decryptions, direct and for S3. */
  readonly stats: KmsStats = { dataKeyOperations: 0, decryptOperations: 0 };
  private readonly env: Env;

  constructor(deps: KmsDeps) {
    this.env = { deps, materials: new MaterialCache(deps.keyring, deps.materialCacheSize), stats: this.stats };
  }

  /** One KMS JSON API call; the response object, or a thrown KmsError. */
  async handle(call: KmsCall): Promise<object> {
    return this.run({ ...call }, (c) => {
      const op = OPS.get(call.operation);
      if (!op && UNSUPPORTED.has(call.operation)) throw new KmsError('UnsupportedOperationException', `${call.operation} is not supported by this KMS.`);
      if (!op) throw new KmsError('UnknownOperationException', `Unknown operation ${call.operation}.`);
      return op(c);
    });
  }

  /**
   * The key S3 will use for an object: `keyRef` as given in
   * x-amz-server-side-encryption-aws-kms-key-id (key id, key ARN, alias name, alias ARN),
   * or, when absent, the account's AWS managed key aws/s3, created on first use. Checks
   * existence only: permission is checked when S3 asks for a data key.
   */
  async resolveKeyFor(caller: SignedPrincipal, keyRef: string | undefined, via: Via): Promise<{ keyArn: string; keyId: string; accountId: string; keyManager: KeyManager }> {
    const call = new Call(this.env, caller, 'ResolveKey', new Input({}), via.context ?? EMPTY_CONTEXT, via);
    try {
      const { key } = await call.resolveKey(keyRef ?? S3_MANAGED_ALIAS, { aliases: true, crossAccount: true, createManaged: true });
      return { keyArn: key.arn, keyId: key.keyId, accountId: key.accountId, keyManager: key.keyManager };
    } catch (err) {
      throw toKmsError(err);
    }
  }

  /** GenerateDataKey (AES-256) for S3: authorized as kms:GenerateDataKey with kms:ViaService = s3.<region>.amazonaws.com. */
  async generateDataKeyFor(
    caller: SignedPrincipal, keyRef: string | undefined, encryptionContext: Record<string, string>, via: Via,
  ): Promise<{ keyArn: string; plaintext: Buffer; ciphertextBlob: Buffer }> {
    return this.run(this.viaSpec(caller, 'GenerateDataKey', via), async (call) => {
      const ref = keyRef ?? S3_MANAGED_ALIAS;
      const opts = { aliases: true, crossAccount: true, createManaged: true };
      const { key, plaintext, ciphertext } = await generateDataKey(call, ref, encryptionContext, S3_DATA_KEY_BYTES, 'kms:GenerateDataKey', opts);
      return { keyArn: key.arn, plaintext, ciphertextBlob: ciphertext };
    });
  }

  /** Decrypt for S3: the blob names its key; authorized as kms:Decrypt with kms:ViaService = s3.<region>.amazonaws.com. */
  async decryptFor(
    caller: SignedPrincipal, ciphertextBlob: Buffer, encryptionContext: Record<string, string>, via: Via,
  ): Promise<{ keyArn: string; plaintext: Buffer }> {
    return this.run(this.viaSpec(caller, 'Decrypt', via), async (call) => {
      const { key, plaintext } = await decryptBlob(call, ciphertextBlob, encryptionContext, undefined, 'kms:Decrypt');
      this.stats.decryptOperations++;
      return { keyArn: key.arn, plaintext };
    });
  }

  private viaSpec(caller: SignedPrincipal, operation: string, via: Via): RunSpec {
    return { caller, operation, requestId: randomUUID(), viaRequestId: via.requestId, input: {}, context: via.context ?? EMPTY_CONTEXT, via };
  }

  /** Runs one call and records its audit event. */
  private async run<T>(spec: RunSpec, fn: (call: Call) => Promise<T>): Promise<T> {
    let call: Call | undefined;
    try {
      call = new Call(this.env, spec.caller, spec.operation, new Input(spec.input), spec.context, spec.via);
      const out = await fn(call);
      this.emit(spec, call, 'allowed');
      return out;
    } catch (err) {
      const e = toKmsError(err);
      this.emit(spec, call, e.code === 'AccessDeniedException' ? 'denied' : 'error', e.code);
      throw e;
    }
  }

  private emit(spec: RunSpec, call: Call | undefined, outcome: KmsAuditEvent['outcome'], errorCode?: string): void {
    const sink = this.env.deps.audit;
    if (!sink) return;
    const e: KmsAuditEvent = {
      time: this.env.deps.clock.now().toISOString(),
      requestId: spec.requestId,
      service: 'kms',
      operation: spec.operation,
      callerArn: callerArn(spec.caller) ?? spec.caller.accountId,
      accountId: spec.caller.accountId,
      outcome,
    };
    if (spec.viaRequestId !== undefined) e.viaRequestId = spec.viaRequestId;
    if (call?.keyArn !== undefined) e.keyArn = call.keyArn;
    if (errorCode !== undefined) e.errorCode = errorCode;
    if (call?.reason !== undefined && outcome === 'denied') e.reason = call.reason;
    else if (call && call.grantsUsed.length > 0) e.reason = call.grantsUsed.map((id) => `allowed by grant ${id}`).join('; ');
    try {
      sink(e);
    } catch {
      // The call's outcome is already decided (and any write done): a failing sink must not change what the client is told.
    }
  }
}
