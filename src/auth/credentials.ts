/**
 * The credential port's cache: access key id → (secret, principal). SigV4 verification is
 * synchronous and pure, so the secret is fetched (async) and unsealed before it runs, and
 * kept for a short time so the hot path neither queries the store nor unwraps per request.
 * The short TTL bounds how long a deleted or deactivated key keeps working.
 */
import type { Keyring } from '../crypto/keyring.js';
import { openSecret } from '../crypto/sse/envelope.js';
import type { MetadataStore } from '../storage/ports.js';
import type { Clock } from '../util/clock.js';
import type { SignedPrincipal } from './principal.js';
import type { IamUser } from '../iam/model.js';

export interface ResolvedCredential {
  secret: string;
  principal: SignedPrincipal;
}

interface Entry {
  value: ResolvedCredential | undefined;
  expiresAt: number;
}

const TTL_MS = 2_000;
const MAX_ENTRIES = 10_000;

/** The context a secret is sealed under: binds it to its access key id. */
export const secretContext = (accessKeyId: string): Record<string, string> => ({ purpose: 'access-key-secret', accessKeyId });

export class CredentialCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly meta: MetadataStore,
    private readonly keyring: Keyring,
    private readonly clock: Clock,
  ) {}

  /** Loads the credential into the cache (or confirms it is absent). */
  async prefetch(accessKeyId: string): Promise<void> {
    const now = this.clock.now().getTime();
    const hit = this.entries.get(accessKeyId);
    if (hit && hit.expiresAt > now) return;
    const value = await this.load(accessKeyId);
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(accessKeyId, { value, expiresAt: now + TTL_MS });
  }

  /** Forgets every entry (IAM changes: a key's status, a user's rename or deletion). */
  clear(): void {
    this.entries.clear();
  }

  /** Synchronous lookup after prefetch. */
  get(accessKeyId: string): ResolvedCredential | undefined {
    return this.entries.get(accessKeyId)?.value;
  }

  private async load(accessKeyId: string): Promise<ResolvedCredential | undefined> {
    const rec = await this.meta.getAccessKey(accessKeyId);
    if (!rec || rec.status !== 'Active') return undefined;
    const account = await this.meta.getAccount(rec.accountId);
    if (!account) return undefined;
    const secret = openSecret(this.keyring, rec.secretSealed, secretContext(accessKeyId));
    if (rec.userName === null) return { secret, principal: { kind: 'account-root', accountId: account.id, canonicalId: account.canonicalId, accessKeyId } };
    const doc = await this.meta.getIamEntity(account.id, 'user', rec.userName);
    if (doc === undefined) return undefined;
    const user = JSON.parse(doc) as IamUser;
    return {
      secret,
      principal: { kind: 'iam-user', accountId: account.id, canonicalId: account.canonicalId, accessKeyId, userName: user.name, userId: user.id, path: user.path },
    };
  }
}
