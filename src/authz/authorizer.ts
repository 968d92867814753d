/**
 * The single authorization step, with its I/O: gathers what the pure decide() needs —
 * bucket owners, compiled bucket policies, the request context, stored object tags when a
 * policy reads them, and with ACLs enabled the ACLs and object owners — and returns the
 * Decision. The pipeline calls it once per request;
 * handlers that authorize per item (DeleteObjects keys, the 404-vs-403 rule, POST form
 * uploads) call the same method, so there is one decision procedure.
 */
import type { AuthInfo } from '../auth/authenticate.js';
import { callerArn, type Principal } from '../auth/principal.js';
import { s3error } from '../errors/s3-errors.js';
import { header, type S3Request } from '../http/request.js';
import type { CompiledPolicy } from '../iam/policy/compile.js';
import { objectTagReads, statementsForAction } from '../iam/policy/evaluate.js';
import { actionTakesExistingObjectTags } from '../iam/policy/s3-model.js';
import type { ContextValue } from '../iam/policy/request.js';
import type { BucketRecord, MetadataStore, ObjectVersion } from '../storage/ports.js';
import { parseCopySource, type Check } from './actions.js';
import { BucketAccessCache, type BucketAccess } from './bucket-access.js';
import { decide, decideUnlessObjectTagsNeeded, identityReadsObjectTags, type CheckAcl, type DecideInput } from './decide.js';
import { permissionsForAction, withoutPublicGrants, type Acl } from './acl/acl.js';
import { objectOwnerOf } from './ownership.js';
import type { IdentityCache, LoadedIdentity } from './identity-side.js';
import type { Decision } from './decision.js';
import { buildRequestContext, contextForAction, copyContext, withExistingObjectTags } from './request-context.js';

export interface AuthorizeInput {
  req: S3Request;
  principal: Principal;
  auth: AuthInfo;
  checks: readonly Check[];
  /** Buckets already loaded by the caller. */
  known?: readonly (BucketRecord | undefined)[];
  /** Tags the request sets on an object (x-amz-tagging), for s3:RequestObjectTag/*. */
  requestObjectTags?: Record<string, string>;
  /** Per-request memo of object lookups, shared with the handler so an object is read once. */
  versions?: Map<string, ObjectVersion | undefined>;
  /** Condition keys the caller supplies beyond the request's own (IAM calls: the target's tags, iam:PolicyARN, …). */
  extraContext?: ReadonlyMap<string, ContextValue>;
}

const bucketArnLength = (bucket: string): number => 'arn:aws:s3:::'.length + bucket.length;

/** Whether some statement of a bucket's policy names the action of a check on that bucket. */
function policyApplies(p: CompiledPolicy, checks: readonly Check[], bucket: string): boolean {
  for (const k of checks) if (k.bucket === bucket && statementsForAction(p, k.action).length > 0) return true;
  return false;
}

/** Key of the per-request object-lookup memo. */
export const versionMemoKey = (bucket: string, key: string, versionId: string | undefined): string => `${bucket}\u0000${key}\u0000${versionId ?? ''}`;

export class Authorizer {
  readonly access: BucketAccessCache;

  constructor(private readonly meta: MetadataStore, private readonly region: string, readonly identities?: IdentityCache) {
    this.access = new BucketAccessCache(meta);
  }

  /** Decides the checks. A bucket named by a check that does not exist → NoSuchBucket (except CreateBucket's). */
  async authorize(request: AuthorizeInput): Promise<Decision> {
    // Sets and maps are made when first needed: most requests name one bucket without ACLs.
    let input = request.checks.some((c) => c.ifCopySourceTagged) ? await this.withoutUntaggedCopyChecks(request) : request;
    const owners = new Map<string, string>();
    const policies = new Map<string, CompiledPolicy>();
    let restricted: Set<string> | undefined;
    let aclBuckets: Map<string, BucketAccess> | undefined;
    let withoutAcls: Set<string> | undefined;
    const seen = input.checks.length > 1 ? new Set<string>() : undefined;
    // Each bucket's state as read here is what the whole decision uses (a concurrent change
    // invalidating the cache must not drop its tags half-way).
    const accessOf = new Map<string, BucketAccess>();
    for (const b of input.known ?? []) if (b) owners.set(b.name, b.accountId);
    for (const c of input.checks) {
      if (c.bucket === undefined || seen?.has(c.bucket)) continue;
      seen?.add(c.bucket);
      if (!owners.has(c.bucket)) {
        const b = await this.meta.getBucket(c.bucket);
        if (b) owners.set(b.name, b.accountId);
        else if (c.creates !== 'bucket') throw s3error('NoSuchBucket', undefined, { BucketName: c.bucket });
        else continue;
      }
      // Cached state is read without a turn of the event loop (the hot path of every request).
      const a = this.access.peek(c.bucket) ?? await this.access.get(c.bucket);
      accessOf.set(c.bucket, a);
      if (!a.aclsEnabled) (withoutAcls ??= new Set()).add(c.bucket);
      const p = a.policy;
      // A policy none of whose statements names an action of this request decides nothing
      // for it: the request then needs no policy context at all.
      if (p && policyApplies(p.compiled, input.checks, c.bucket)) {
        policies.set(c.bucket, p.compiled);
        if (p.restricted) (restricted ??= new Set()).add(c.bucket);
      }
      if (a.aclsEnabled) (aclBuckets ??= new Map()).set(c.bucket, a);
    }
    // BucketOwnerEnforced: the ACL headers the handler accepts there (bucket-owner-full-control,
    // private) set nothing, so they need no ACL permission; any other is refused by the handler.
    if (withoutAcls !== undefined) {
      const off = withoutAcls;
      const unneeded = (c: Check): boolean => c.ifAclsEnabled === true && c.bucket !== undefined && off.has(c.bucket);
      if (input.checks.some(unneeded)) input = { ...input, checks: input.checks.filter((c) => !unneeded(c)) };
    }
    const aclInputs = aclBuckets === undefined ? undefined : await this.aclInputs(input, owners, aclBuckets);
    const p = input.principal;
    let identity: LoadedIdentity | undefined;
    if (p.kind !== 'anonymous') {
      identity = this.identities?.peekRoot(p) ?? await this.identities?.sideFor(p);
      if (!identity) {
        // Fail closed: a user or role that no longer exists (or no IAM wired) has no permissions.
        if (p.kind !== 'account-root') return { effect: 'ImplicitDeny', aclRequired: false, trace: [{ layer: 'identity-policy', check: '*', effect: 'ImplicitDeny', reason: 'the caller\'s user or role does not exist' }] };
      }
    }
    const side = identity?.side;
    const needsContext = policies.size > 0 || side !== undefined && (side.policies.length > 0 || side.boundary !== undefined || side.sessionPolicies !== undefined || side.scpLevels !== undefined);
    if (!needsContext) {
      // No policy to read: skip building the context (the common case stays cheap).
      return decide({ principal: p, checks: input.checks, bucketOwners: owners, authorities: aclInputs?.authorities, acls: aclInputs?.acls, identity: side });
    }
    // The resource account is per check (a copy source may belong to another account); the
    // first check's goes into the shared context, others get a copy.
    const firstOwner = input.checks[0]?.bucket === undefined ? undefined : owners.get(input.checks[0].bucket);
    const base = buildRequestContext({
      req: input.req,
      principal: input.principal,
      auth: input.auth,
      region: this.region,
      resourceAccount: firstOwner,
      requestObjectTags: input.requestObjectTags,
      action: input.checks[0]?.action,
    });
    if (identity !== undefined && identity.context.size > 0) for (const [k, v] of identity.context) base.set(k, v);
    if (input.extraContext !== undefined) for (const [k, v] of input.extraContext) base.set(k, v);
    if (firstOwner !== undefined) {
      const peeked = this.identities?.peekOrgId(firstOwner);
      const resourceOrg = peeked === undefined ? await this.identities?.orgIdOf(firstOwner) : peeked ?? undefined;
      if (resourceOrg !== undefined) base.set('aws:resourceorgid', resourceOrg);
    }
    // A request with one check owns the context outright; with several, a check that needs
    // its own keys gets a copy.
    const single = input.checks.length === 1;
    let deferred: Check[] | undefined;
    const perCheck = single ? undefined : new Map<Check, ReadonlyMap<string, ContextValue>>();
    let only: ReadonlyMap<string, ContextValue> = base;
    for (const c of input.checks) {
      // The request-derived s3: keys depend on the action: a check of another action than the
      // first gets its own context (ContextInput.action).
      let ctx: Map<string, ContextValue> = c.action === input.checks[0]!.action ? base : contextForAction(base, c.action);
      const own = (): Map<string, ContextValue> => (single || ctx !== base ? ctx : (ctx = copyContext(base)));
      const owner = c.bucket === undefined ? undefined : owners.get(c.bucket);
      if (owner !== firstOwner) {
        ctx = own();
        ctx.delete('aws:resourceorgid');
        if (owner === undefined) {
          ctx.delete('aws:resourceaccount');
          ctx.delete('s3:resourceaccount');
        } else {
          ctx.set('aws:resourceaccount', owner);
          ctx.set('s3:resourceaccount', owner);
          // Each check's resource has its own organization (CopyObject: source and destination).
          const peeked = this.identities?.peekOrgId(owner);
          const org = peeked === undefined ? await this.identities?.orgIdOf(owner) : peeked ?? undefined;
          if (org !== undefined) ctx.set('aws:resourceorgid', org);
        }
      }
      if (c.versionId !== undefined) own().set('s3:versionid', c.versionId);
      const bucketTags = c.bucket === undefined ? undefined : accessOf.get(c.bucket)?.tags;
      if (bucketTags) {
        for (const k of Object.keys(bucketTags)) own().set(`aws:resourcetag/${k.toLowerCase()}`, bucketTags[k]!);
      }
      // s3:ExistingObjectTag/* is in the context only of the actions that take it, and the
      // object is read only when a policy that applies to the action reads the key. Never for
      // a check on the object the request writes (the ACL and tagging checks a PutObject or
      // CopyObject implies): S3 UG "Tagging and access control policies" — no policy can grant
      // or deny overwriting an object based on its existing tags.
      if (c.bucket !== undefined && c.creates === undefined && actionTakesExistingObjectTags(c.action)) {
        const bucketPolicy = policies.get(c.bucket);
        const bucketReads = bucketPolicy === undefined ? undefined : objectTagReads(bucketPolicy, c.action);
        if (identityReadsObjectTags(side, c.action) || bucketReads?.deny === true) {
          const tags = await this.objectTags(input.req, c, input.versions);
          if (tags) ctx = withExistingObjectTags(ctx, tags, single || ctx !== base);
        } else if (bucketReads?.allow === true) {
          // Only the bucket policy's grants read them: a caller whose access is settled
          // without those grants does not wait for the object (decideUnlessObjectTagsNeeded).
          (deferred ??= []).push(c);
        }
      }
      if (perCheck) perCheck.set(c, ctx);
      else only = ctx;
    }
    const decideInput = (): DecideInput => ({
      principal: input.principal,
      checks: input.checks,
      bucketOwners: owners,
      bucketPolicies: policies,
      restrictedBuckets: restricted,
      context: perCheck ? undefined : only,
      contextFor: perCheck ? (c: Check) => perCheck.get(c) : undefined,
      authorities: aclInputs?.authorities,
      acls: aclInputs?.acls,
      identity: side,
    });
    if (deferred !== undefined) {
      const early = decideUnlessObjectTagsNeeded(decideInput(), deferred);
      if (early !== undefined) return early;
      for (const c of deferred) {
        const tags = await this.objectTags(input.req, c, input.versions);
        if (!tags) continue;
        if (perCheck) {
          const ctx = perCheck.get(c)!;
          perCheck.set(c, withExistingObjectTags(ctx, tags, ctx !== base));
        } else {
          only = withExistingObjectTags(only as Map<string, ContextValue>, tags, true);
        }
      }
    }
    return decide(decideInput());
  }

  /**
   * With ACLs enabled (S3 UG "How Amazon S3 authorizes a request for an object operation"):
   * bucket permissions (listing, writing and deleting objects, the bucket's own ACL) are
   * granted by the bucket ACL in the bucket owner's context; object permissions by the
   * object's ACL in its owner's context. A new object's owner is the account that will own it.
   */
  private async aclInputs(input: AuthorizeInput, owners: ReadonlyMap<string, string>, buckets: ReadonlyMap<string, BucketAccess>): Promise<{ authorities: Map<Check, string>; acls: Map<Check, CheckAcl> }> {
    const authorities = new Map<Check, string>();
    const acls = new Map<Check, CheckAcl>();
    const p = input.principal;
    for (const c of input.checks) {
      const a = c.bucket === undefined ? undefined : buckets.get(c.bucket);
      const owner = c.bucket === undefined ? undefined : owners.get(c.bucket);
      if (!a || owner === undefined) continue;
      const view = (acl: Acl | undefined): Acl | undefined => acl && a.publicAccessBlock.ignorePublicAcls ? withoutPublicGrants(acl) : acl;
      const isObject = c.resource.length > bucketArnLength(c.bucket!);
      if (!isObject || permissionsForAction(c.action, 'bucket').length > 0) {
        const acl = view(a.acl);
        if (acl) acls.set(c, { acl, target: 'bucket' });
        continue;
      }
      if (c.creates === 'object') {
        const writer = p.kind === 'anonymous' ? undefined : p.accountId;
        const objectOwner = objectOwnerOf(a.ownership, owner, writer, header(input.req, 'x-amz-acl')?.trim());
        if (objectOwner !== owner) authorities.set(c, objectOwner);
        continue;
      }
      const v = await this.objectVersion(input.req, c, input.versions);
      if (!v || v.isDeleteMarker) continue;
      if (v.ownerAccountId !== owner) authorities.set(c, v.ownerAccountId);
      const acl = view(v.acl);
      if (acl) acls.set(c, { acl, target: 'object' });
    }
    return { authorities, acls };
  }

  /** Drops the tag checks of a copy whose source has no tags to copy (see Check.ifCopySourceTagged). */
  private async withoutUntaggedCopyChecks(input: AuthorizeInput): Promise<AuthorizeInput> {
    if (!input.checks.some((c) => c.ifCopySourceTagged)) return input;
    const src = parseCopySource(header(input.req, 'x-amz-copy-source'));
    const mk = versionMemoKey(src.bucket, src.key, src.versionId);
    const v = input.versions?.has(mk) ? input.versions.get(mk) : await this.meta.getObjectVersion(src.bucket, src.key, src.versionId);
    input.versions?.set(mk, v);
    if (v !== undefined && !v.isDeleteMarker && Object.keys(v.tags).length > 0) return input;
    return { ...input, checks: input.checks.filter((c) => !c.ifCopySourceTagged) };
  }

  /** Tags of the object a check names. */
  private async objectTags(req: S3Request, c: Check, memo: Map<string, ObjectVersion | undefined> | undefined): Promise<Record<string, string> | undefined> {
    const v = await this.objectVersion(req, c, memo);
    return v && !v.isDeleteMarker ? v.tags : undefined;
  }

  /** The version a check names (the copy source's own version for a source check), read once per request. */
  private async objectVersion(req: S3Request, c: Check, memo: Map<string, ObjectVersion | undefined> | undefined): Promise<ObjectVersion | undefined> {
    const key = c.resource.slice(c.resource.indexOf('/') + 1);
    let versionId = req.query.get('versionId');
    const copy = header(req, 'x-amz-copy-source');
    if (copy !== undefined) {
      const src = parseCopySource(copy);
      if (src.bucket === c.bucket && src.key === key) versionId = src.versionId;
    }
    const mk = versionMemoKey(c.bucket!, key, versionId);
    const v = memo?.has(mk) ? memo.get(mk) : await this.meta.getObjectVersion(c.bucket!, key, versionId);
    memo?.set(mk, v);
    return v;
  }
}

const DENY_KIND: Partial<Record<Decision['trace'][number]['layer'], string>> = {
  'resource-policy': 'a resource-based policy',
  'identity-policy': 'an identity-based policy',
  'permissions-boundary': 'a permissions boundary',
  'session-policy': 'a session policy',
  scp: 'a service control policy',
};

/** The AccessDenied a caller sees: which kind of policy denied, never its content (and only to the owner's account). */
export function accessDenied(decision: Decision, principal: Principal, owner: string | undefined): Error {
  const first = decision.trace.find((t) => t.effect !== 'Allow');
  if (principal.kind !== 'anonymous' && owner === principal.accountId && first && decision.effect === 'ExplicitDeny') {
    const [action, resource] = first.check.split(' on ');
    const where = DENY_KIND[first.layer] ?? 'a policy';
    return s3error('AccessDenied', `User: ${callerArn(principal)!} is not authorized to perform: ${action} on resource: "${resource}" with an explicit deny in ${where}`);
  }
  return s3error('AccessDenied');
}
