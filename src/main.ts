/** Composition root: config → data dir (stores, keys) → pipeline → listeners. The only file that wires. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createAccount, createAccessKey } from './admin/accounts.js';
import { CredentialCache, secretContext } from './auth/credentials.js';
import { SigningKeyCache } from './auth/sigv4/verify.js';
import type { Config } from './config/config.js';
import { openSecret } from './crypto/sse/envelope.js';
import { openDataDir, StartupError } from './data-dir.js';
import { startServers, type Logger, type RunningServer } from './http/server.js';
import { createPipeline } from './pipeline.js';
import { collectGarbage } from './storage/gc.js';
import { loadOrCreateTls } from './tls.js';
import { availableParallelism } from 'node:os';
import { HashPool } from './util/hash-pool.js';
import { createIdentityServices } from './identity-wiring.js';
import { WebIdentityVerifier, type OidcIssuer } from './iam/sts/web-identity.js';
import { JwksFile } from './iam/sts/jwks-file.js';
import { createQueryApi } from './query-api.js';
import { FileAuditSink } from './audit/audit.js';
import { createKmsServices } from './kms-wiring.js';
import { BucketKeyCache } from './s3/sse.js';
import { systemClock, type Clock } from './util/clock.js';
import { createLogger } from './util/log.js';

export interface Kura {
  server: RunningServer;
  rootAccessKeyId: string;
  close(): Promise<void>;
}

/** Makes sure the root account exists and holds the configured key pair, if any. */
async function bootstrapRoot(config: Config, opened: Awaited<ReturnType<typeof openDataDir>>, log: Logger): Promise<string> {
  const { meta, keyring } = opened;
  const accounts = await meta.listAccounts();
  const given = config.rootAccessKeyId ? { accessKeyId: config.rootAccessKeyId, secretAccessKey: config.rootSecretAccessKey! } : undefined;
  let root = accounts.find((a) => a.name === 'root');
  if (root === undefined && given) {
    // A data directory from before this rule may hold the configured root key on an account
    // of another name (it used to become the root): keep serving it as the root.
    const holder = await meta.getAccessKey(given.accessKeyId);
    root = holder && accounts.find((a) => a.id === holder.accountId);
    if (root) log.warn('no account is named root; the one holding the configured root key serves as the root', { accountId: root.id, name: root.name });
  }
  // Otherwise accounts made with `kura account create` before the first start are not the
  // root: the root account is created now, and the configured key never lands on another.
  if (root === undefined) {
    const { account, key } = await createAccount(meta, keyring, { name: 'root', key: given });
    const file = join(config.dataDir, 'root-credentials.json');
    if (!given) {
      await writeFile(file, `${JSON.stringify({ accountId: account.id, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, null, 2)}\n`, { mode: 0o600 });
    }
    log.info('created root account', { accountId: account.id, accessKeyId: key.accessKeyId, secretIn: given ? 'environment' : file });
    return key.accessKeyId;
  }
  if (given) {
    const existing = await meta.getAccessKey(given.accessKeyId);
    if (!existing) {
      await createAccessKey(meta, keyring, root.id, given);
    } else if (existing.accountId !== root.id || openSecret(keyring, existing.secretSealed, secretContext(given.accessKeyId)) !== given.secretAccessKey) {
      throw new StartupError(`KURA_ROOT_ACCESS_KEY_ID ${given.accessKeyId} exists with a different secret or account`);
    }
    return given.accessKeyId;
  }
  const keys = await meta.listAccessKeys(root.id);
  return keys[0]?.accessKeyId ?? '(none)';
}

/**
 * Reads each configured issuer's JWKS file; a missing or malformed one is a start-up error,
 * never a silently untrusted issuer. The files are re-read when they change (jwks-file.ts).
 */
async function loadOidcIssuers(issuers: Config['oidcIssuers'], clock: Clock, log: Logger): Promise<OidcIssuer[]> {
  const out: OidcIssuer[] = [];
  for (const i of issuers) {
    const onReloadError = (reason: string): void =>
      log.error('oidcIssuers: the JWKS file no longer reads; tokens of this issuer are refused until it is fixed', { issuer: i.issuer, file: i.jwksFile, reason });
    try {
      out.push({ issuer: i.issuer, jwks: await JwksFile.load(i.jwksFile, clock.now().getTime(), onReloadError) });
    } catch (e) {
      throw new StartupError(`oidcIssuers: the JWKS of ${i.issuer}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Starts Kura with a validated configuration. */
export async function startKura(config: Config, opts: { clock?: Clock; log?: Logger } = {}): Promise<Kura> {
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger(config.logLevel);
  const opened = await openDataDir(config.dataDir, { masterKey: config.masterKey, create: true });
  const { meta, blobs, keyring } = opened;
  const removed = await collectGarbage(meta, blobs, { olderThanMs: clock.now().getTime() });
  if (removed > 0) log.info('removed unreferenced blobs from interrupted writes', { count: removed });
  const rootAccessKeyId = await bootstrapRoot(config, opened, log);
  if (!process.execArgv.some((a) => a.startsWith('--initial-old-space-size'))) {
    // Not an error: everything works, large-object streaming is just slower (README, Tuning).
    log.info('node runs without --initial-old-space-size=128: large transfers will spend time in full GCs (npm start sets it; see README "Tuning")');
  }
  const credentials = new CredentialCache(meta, keyring, clock);
  // One hashing worker per spare core: the event loop keeps one core for HTTP and encryption.
  const hashPool = new HashPool(Math.max(1, availableParallelism() - 1));
  const webIdentity = config.oidcIssuers.length > 0 ? new WebIdentityVerifier(await loadOidcIssuers(config.oidcIssuers, clock, log)) : undefined;
  const identity = createIdentityServices({ meta, keyring, clock, region: config.region, credentials, ...(webIdentity ? { webIdentity } : {}) });
  const audit = new FileAuditSink(join(config.dataDir, 'audit', 'audit.log'));
  const kms = createKmsServices({ meta, keyring, clock, region: config.region, identities: identity.identities, audit });
  const authn = { region: config.region, allowSigV2: config.allowSigV2, services: ['s3'], credentials, signingKeyCache: new SigningKeyCache(), sessions: identity.sessions };
  const queryApi = createQueryApi({
    authn: { ...authn, clock }, authorizer: identity.authorizer, region: config.region, log, iam: identity.iam, sts: identity.sts, kms: kms.endpoint,
    identityContext: async (p) => (await identity.identities.sideFor(p))?.context ?? new Map(),
    identitySide: async (p) => (await identity.identities.sideFor(p))?.side,
    iamContext: identity.iamContext,
  });
  const sse = { kms: kms.s3, bucketKeys: new BucketKeyCache(() => clock.now().getTime()), allowInsecureSse: config.allowSseOverHttp };
  const pipeline = createPipeline({
    config, meta, blobs, keyring, clock, log, credentials, hashPool, authorizer: identity.authorizer, authn, queryApi, sse,
  });
  const tls = config.httpsPort >= 0 ? await loadOrCreateTls(config.dataDir, config.tls) : undefined;
  const server = await startServers(pipeline, clock, log, {
    host: config.host,
    port: config.port,
    httpsPort: config.httpsPort,
    ...(tls ? { tls } : {}),
  });
  return {
    server,
    rootAccessKeyId,
    close: async () => {
      await server.close();
      await hashPool.close();
      await meta.close();
    },
  };
}
