/**
 * The IAM Query API: dispatches a decoded request to its action and serialises the
 * result. Errors are thrown as IamError for the endpoint to serialise (errorResponse).
 * Writes to an account's IAM state are serialised by a per-account lock so every
 * read-check-write sequence (conflict checks, renames, quotas) sees a stable state, and
 * `onChange` is told after each one so authorization caches can drop what they hold.
 */
import type { SignedPrincipal } from '../../auth/principal.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { MetadataStore } from '../../storage/ports.js';
import type { Clock } from '../../util/clock.js';
import type { QueryRequest } from '../api/query.js';
import { IAM_VERSION, IAM_XMLNS, type QueryObject, invalidAction, queryResponse } from '../api/xml.js';
import { ACCOUNT_ACTIONS } from './account.js';
import { ATTACHMENT_ACTIONS } from './attachments.js';
import type { Ctx, Handler } from './common.js';
import { GROUP_ACTIONS } from './groups.js';
import { INLINE_ACTIONS } from './inline.js';
import { KEY_ACTIONS } from './keys.js';
import { withAccountLock } from './lock.js';
import { MFA_ACTIONS } from './mfa.js';
import { OIDC_ACTIONS } from './oidc.js';
import { POLICY_ACTIONS } from './policies.js';
import { ROLE_ACTIONS } from './roles.js';
import { USER_ACTIONS } from './users.js';

export { awsManagedPolicy } from '../managed/aws-managed.js';
export { isIamAction, iamAuthorizationTarget, resolveAuthorizationTarget, type AuthorizationTarget } from './authorization.js';
export { verifyMfaCode } from './mfa.js';
export { findOidcProvider, oidcProviderArn, providerNameOf } from './oidc.js';
export { loadIdentityPolicies, resolveManagedPolicyDocuments, type IdentityPolicies, type IdentityPolicy } from './read-model.js';

const HANDLERS = new Map<string, Handler>(Object.entries({
  ...USER_ACTIONS, ...KEY_ACTIONS, ...GROUP_ACTIONS, ...ROLE_ACTIONS, ...INLINE_ACTIONS, ...POLICY_ACTIONS,
  ...ATTACHMENT_ACTIONS, ...MFA_ACTIONS, ...ACCOUNT_ACTIONS, ...OIDC_ACTIONS,
}));

/** Reads change nothing; everything else takes the account lock. */
const isRead = (action: string): boolean => /^(?:Get|List)/.test(action);

export interface IamServiceDeps {
  meta: MetadataStore;
  keyring: Keyring;
  clock: Clock;
  /** Called after every mutating call (also a failed one: it may have written part of its work). */
  onChange?: (accountId: string) => void;
}

export interface IamCall {
  /** The account whose IAM is addressed: the caller's. */
  accountId: string;
  caller: SignedPrincipal;
  requestId: string;
  query: QueryRequest;
}

export class IamService {
  constructor(private readonly deps: IamServiceDeps) {}

  /** The response XML for a call; IAM errors are thrown as IamError. */
  async handle(call: IamCall): Promise<string> {
    const { action } = call.query;
    const handler = HANDLERS.get(action);
    if (!handler) throw invalidAction(action, call.query.version ?? IAM_VERSION);
    const ctx: Ctx = {
      meta: this.deps.meta, keyring: this.deps.keyring, clock: this.deps.clock,
      accountId: call.accountId, caller: call.caller, params: call.query.params,
    };
    let result: QueryObject | undefined;
    if (isRead(action)) {
      result = await handler(ctx);
    } else {
      try {
        result = await withAccountLock(call.accountId, () => handler(ctx));
      } finally {
        this.deps.onChange?.(call.accountId);
      }
    }
    return queryResponse(action, IAM_XMLNS, result, call.requestId);
  }
}
