/**
 * The policy language's abstract syntax: IAM JSON normalised once (string-or-array values
 * become arrays, "*" vs {"AWS": "*"} becomes one form, Not* elements become a flag), with
 * a JSON pointer on every node so findings can say exactly where a problem is.
 * parse.ts builds it, validate.ts checks it, compile.ts turns it into the evaluable form.
 * Pure: no I/O.
 */

/** RFC 6901 JSON pointer into the policy document, e.g. `/Statement/0/Action/1`. */
export type Pointer = string;

export interface Located<T> {
  value: T;
  pointer: Pointer;
}

export type PolicyVersion = '2012-10-17' | '2008-10-17';

export type Effect = 'Allow' | 'Deny';

/** Principal or NotPrincipal. `any` is "*" or {"AWS": "*"}: everyone, including anonymous. */
export type PrincipalAst =
  | { kind: 'any'; pointer: Pointer }
  | {
      kind: 'set';
      pointer: Pointer;
      /** Account ids, account root ARNs, user/role/assumed-role/federated-user ARNs. */
      aws: Located<string>[];
      /** Service principals, e.g. logging.s3.amazonaws.com. */
      service: Located<string>[];
      federated: Located<string>[];
      canonicalUser: Located<string>[];
    };

export interface ListElement {
  /** NotAction / NotResource / NotPrincipal. */
  negated: boolean;
  values: Located<string>[];
  pointer: Pointer;
}

/** Condition operators without modifiers. */
export const CONDITION_OPERATORS = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress',
  'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike',
  'Null',
] as const;

export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export type SetQualifier = 'ForAnyValue' | 'ForAllValues';

/** One (operator, key) pair of a Condition block, with its values (OR-ed). */
export interface ConditionAst {
  pointer: Pointer;
  /** The operator as written, e.g. `ForAnyValue:StringLikeIfExists`. */
  operatorText: string;
  operator: ConditionOperator;
  ifExists: boolean;
  set: SetQualifier | null;
  /** The key as written (names are case-insensitive; compare `keyLower`). */
  key: string;
  keyLower: string;
  /** Values as strings (JSON numbers and booleans are coerced, as IAM does). */
  values: Located<string>[];
}

export interface StatementAst {
  index: number;
  pointer: Pointer;
  sid: string | undefined;
  effect: Effect;
  /** Absent in identity policies. */
  principal: { negated: boolean; value: PrincipalAst } | undefined;
  action: ListElement;
  /** Absent only in trust policies. */
  resource: ListElement | undefined;
  /** All of these must hold (AND across operators and keys). */
  conditions: ConditionAst[];
}

export interface PolicyAst {
  /** '2008-10-17' when the document has no Version (policy variables are then literal text). */
  version: PolicyVersion;
  versionGiven: boolean;
  id: string | undefined;
  statements: StatementAst[];
}

/** A problem found in a policy, located by JSON pointer. */
export interface Finding {
  severity: 'error' | 'security-warning' | 'warning' | 'suggestion';
  pointer: Pointer;
  /** For errors of bucket policies: exactly S3's MalformedPolicy message. */
  message: string;
}
