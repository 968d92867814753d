/**
 * What an evaluation is asked and what it answers. The request context is built once per
 * request by authz/request-context.ts (typed facts, server-vouched values apart from
 * client-supplied ones); here it is only a lookup table from lower-cased key names.
 */
import type { Effect } from './ast.js';

/** Who is asking, as Principal elements see it. */
export type PrincipalFacts =
  | { kind: 'anonymous' }
  | {
      kind: 'aws';
      /** The principal's 12-digit account. */
      account: string;
      /**
       * Every ARN a Principal element may name to mean this caller, most specific first:
       * e.g. a user ARN; or an assumed-role session ARN then its role ARN; the account
       * root ARN for the account's root user. (Account-id/root forms match via `account`.)
       */
      arns: readonly string[];
      /** True for the account's root user. */
      isRoot: boolean;
    }
  | { kind: 'service'; service: string }
  /** A web identity federated through an identity provider (AssumeRoleWithWebIdentity): the provider's ARN. */
  | { kind: 'federated'; provider: string };

export type ContextValue = string | readonly string[];

export interface EvalRequest {
  /** e.g. 's3:GetObject' (matched case-insensitively). */
  action: string;
  /** Resource ARN (matched case-sensitively, segment-wise). */
  resource: string;
  principal: PrincipalFacts;
  /** Condition keys by lower-cased name; multi-valued keys are arrays. Absent = not in the context. */
  context: ReadonlyMap<string, ContextValue>;
}

/** How a statement's Principal matched the caller (resource policies). */
export type PrincipalMatch =
  | 'none' // identity policy: no Principal element
  | 'any' // "*" / {"AWS":"*"} / NotPrincipal not naming the caller
  | 'account' // account id or account root ARN: delegation to the account
  | 'direct' // the caller's own ARN (user, role, session) or service principal
  ;

/** One statement that applies to the request (action, resource, principal and conditions all matched). */
export interface StatementMatch {
  index: number;
  sid: string | undefined;
  effect: Effect;
  principalMatch: PrincipalMatch;
}

/** The result of evaluating one policy. */
export interface PolicyResult {
  /** Every applying statement (Deny and Allow), in document order. */
  readonly matches: readonly StatementMatch[];
  /** Condition keys a statement needed but the context did not have (for simulation output). */
  readonly missingKeys: readonly string[];
}
