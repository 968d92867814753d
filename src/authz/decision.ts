/**
 * A decision is a value: its effect and the trace of what decided it. The trace is for the
 * operator (logs, CLI); callers only ever see AccessDenied.
 */
export type Effect = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

export interface TraceEntry {
  /** Which layer spoke. */
  layer: 'ownership' | 'scp' | 'identity-policy' | 'permissions-boundary' | 'session-policy' | 'resource-policy' | 'acl' | 'block-public-access';
  /** `<action> on <resource>` */
  check: string;
  effect: Effect;
  reason: string;
}

export interface Decision {
  effect: Effect;
  trace: TraceEntry[];
  /** An ACL grant was needed to allow the request (the aclRequired field of access logs). */
  aclRequired: boolean;
}

export const isAllowed = (d: Decision): boolean => d.effect === 'Allow';
