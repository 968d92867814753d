/**
 * Managed policies and their versions: CreatePolicy, GetPolicy, ListPolicies, DeletePolicy,
 * the *PolicyVersion actions and policy tags. Customer managed policies are stored;
 * AWS managed ones are built in (../managed/aws-managed.ts) and read-only. Attachment
 * counts are computed from the users, groups and roles that reference a policy, since the
 * relationships live in those documents.
 */
import { RULES } from '../api/query.js';
import { IamError, type QueryObject } from '../api/xml.js';
import { AWS_MANAGED_POLICIES, awsManagedPolicy } from '../managed/aws-managed.js';
import type { IamGroup, IamManagedPolicy, IamRole, IamUser, PolicyVersion, Tag } from '../model.js';
import type { MetadataStore } from '../../storage/ports.js';
import {
  type Ctx, type Handler, checkUniqueTagKeys, date, errors, iamArn, mergeTags, nameKey, newEntityId, nowIso, pageResult, paginate, parseIamArn, readPaging, readTagKeys, readTags, reader, removeTags, tagList, tagsPage,
} from './common.js';
import { checkIdentityPolicy, checkManagedPolicySize } from './policy-docs.js';
import { create, list, load, remove, save } from './store.js';

export const ARN_RULE = { min: 20, max: 2048 } as const;
const VERSION_ID_RULE = { pattern: /^v[1-9][0-9]*(?:\.[A-Za-z0-9-]*)?$/, patternText: 'v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?' } as const;
const DESCRIPTION_RULE = { max: 1000 } as const;
const MAX_VERSIONS = 5;

/** A managed policy, customer or AWS managed, as the read actions present it. */
export interface PolicyView {
  name: string;
  id: string;
  arn: string;
  path: string;
  description: string | undefined;
  defaultVersionId: string;
  createDate: string;
  updateDate: string;
  versions: PolicyVersion[];
  tags: Tag[];
  aws: boolean;
}

function localView(p: IamManagedPolicy): PolicyView {
  return {
    name: p.name, id: p.id, arn: p.arn, path: p.path, description: p.description, defaultVersionId: p.defaultVersionId,
    createDate: p.createDate, updateDate: p.updateDate, versions: p.versions, tags: p.tags, aws: false,
  };
}

function awsViews(): PolicyView[] {
  return AWS_MANAGED_POLICIES.map((p) => ({
    name: p.name, id: p.id, arn: p.arn, path: p.path, description: p.description, defaultVersionId: p.defaultVersionId,
    createDate: p.createDate, updateDate: p.updateDate, tags: [], aws: true,
    versions: [{ versionId: p.defaultVersionId, document: p.document, createDate: p.updateDate }],
  }));
}

/** The customer managed policy stored under this exact ARN in the account. */
export async function findLocalPolicy(meta: MetadataStore, accountId: string, arn: string): Promise<IamManagedPolicy | undefined> {
  const parts = parseIamArn(arn, 'policy');
  if (!parts || parts.account !== accountId) return undefined;
  const p = await load(meta, accountId, 'policy', parts.name);
  return p && p.arn === arn ? p : undefined;
}

/** A customer managed policy of this account or a built-in AWS managed one, by exact ARN. */
export async function findPolicy(meta: MetadataStore, accountId: string, arn: string): Promise<PolicyView | undefined> {
  const local = await findLocalPolicy(meta, accountId, arn);
  if (local) return localView(local);
  return awsViews().find((p) => p.arn === arn);
}

/** The document of a policy's default version. */
export function defaultDocument(p: PolicyView | IamManagedPolicy): string | undefined {
  return p.versions.find((v) => v.versionId === p.defaultVersionId)?.document;
}

export function isWellFormedPolicyArn(arn: string): boolean {
  return parseIamArn(arn, 'policy') !== undefined;
}

/** Who references each policy ARN in the account, as a permissions policy or as a boundary. */
export interface PolicyUsage {
  users: IamUser[];
  groups: IamGroup[];
  roles: IamRole[];
  boundaryUsers: IamUser[];
  boundaryRoles: IamRole[];
}

export async function policyUsage(meta: MetadataStore, accountId: string): Promise<Map<string, PolicyUsage>> {
  const out = new Map<string, PolicyUsage>();
  const of = (arn: string): PolicyUsage => {
    let u = out.get(arn);
    if (!u) out.set(arn, (u = { users: [], groups: [], roles: [], boundaryUsers: [], boundaryRoles: [] }));
    return u;
  };
  const [users, groups, roles] = await Promise.all([list(meta, accountId, 'user'), list(meta, accountId, 'group'), list(meta, accountId, 'role')]);
  for (const u of users) {
    for (const a of u.attachedPolicies) of(a).users.push(u);
    if (u.permissionsBoundary) of(u.permissionsBoundary).boundaryUsers.push(u);
  }
  for (const g of groups) for (const a of g.attachedPolicies) of(a).groups.push(g);
  for (const r of roles) {
    for (const a of r.attachedPolicies) of(a).roles.push(r);
    if (r.permissionsBoundary) of(r.permissionsBoundary).boundaryRoles.push(r);
  }
  return out;
}

export const attachmentCount = (u: PolicyUsage | undefined): number => (u ? u.users.length + u.groups.length + u.roles.length : 0);
export const boundaryCount = (u: PolicyUsage | undefined): number => (u ? u.boundaryUsers.length + u.boundaryRoles.length : 0);

/** The Policy structure. Description and tags only where IAM returns them (not in ListPolicies). */
export function policyShape(p: PolicyView, usage: PolicyUsage | undefined, full: boolean): QueryObject {
  return {
    PolicyName: p.name,
    PolicyId: p.id,
    Arn: p.arn,
    Path: p.path,
    DefaultVersionId: p.defaultVersionId,
    AttachmentCount: attachmentCount(usage),
    PermissionsBoundaryUsageCount: boundaryCount(usage),
    IsAttachable: true,
    Description: full ? p.description : undefined,
    CreateDate: date(p.createDate),
    UpdateDate: date(p.updateDate),
    Tags: full && p.tags.length > 0 ? tagList(p.tags) : undefined,
  };
}

export function versionShape(p: PolicyView | IamManagedPolicy, v: PolicyVersion, withDocument: boolean): QueryObject {
  return {
    Document: withDocument ? encodeURIComponent(v.document) : undefined,
    VersionId: v.versionId,
    IsDefaultVersion: v.versionId === p.defaultVersionId,
    CreateDate: date(v.createDate),
  };
}

/** Reads PolicyArn and resolves it; malformed → InvalidInput, unknown → NoSuchEntity. */
async function readExistingPolicy(ctx: Ctx, arn: string): Promise<PolicyView> {
  if (!isWellFormedPolicyArn(arn)) throw errors.invalidArn(arn);
  const p = await findPolicy(ctx.meta, ctx.accountId, arn);
  if (!p) throw errors.policyNotFound(arn);
  return p;
}

/** A customer managed policy that a write action may change; AWS managed ones are protected. */
async function readWritablePolicy(ctx: Ctx, arn: string): Promise<IamManagedPolicy> {
  if (!isWellFormedPolicyArn(arn)) throw errors.invalidArn(arn);
  if (awsManagedPolicy(arn)) throw new IamError('UnmodifiableEntity', `Cannot modify AWS managed policy ${arn}.`);
  const p = await findLocalPolicy(ctx.meta, ctx.accountId, arn);
  if (!p) throw errors.policyNotFound(arn);
  return p;
}

const createPolicy: Handler = async (ctx) => {
  const r = reader(ctx);
  const name = r.string('PolicyName', { ...RULES.policyName, required: true });
  const path = r.string('Path', RULES.path) ?? '/';
  const document = r.string('PolicyDocument', { ...RULES.policyDocument, required: true });
  const description = r.string('Description', DESCRIPTION_RULE);
  const tags = readTags(r);
  r.done();
  checkUniqueTagKeys(tags);
  checkIdentityPolicy(document);
  checkManagedPolicySize(document);
  const now = nowIso(ctx);
  const policy: IamManagedPolicy = {
    kind: 'policy', name, id: newEntityId('ANPA'), path, arn: iamArn(ctx.accountId, 'policy', path, name), createDate: now,
    description, updateDate: now, defaultVersionId: 'v1', versions: [{ versionId: 'v1', document, createDate: now }], nextVersion: 2, tags,
  };
  await create(ctx.meta, ctx.accountId, policy, () => new IamError('EntityAlreadyExists', `A policy called ${name} already exists. Duplicate names are not allowed.`));
  return { Policy: policyShape(localView(policy), undefined, true) };
};

const getPolicy: Handler = async (ctx) => {
  const r = reader(ctx);
  const arn = r.string('PolicyArn', { ...ARN_RULE, required: true });
  r.done();
  const p = await readExistingPolicy(ctx, arn);
  const usage = (await policyUsage(ctx.meta, ctx.accountId)).get(p.arn);
  return { Policy: policyShape(p, usage, true) };
};

const SCOPES = ['All', 'AWS', 'Local'] as const;
const USAGES = ['PermissionsPolicy', 'PermissionsBoundary'] as const;

/** Sort key for policy listings: by name, then customer before AWS managed (names may coincide). */
const policyKey = (p: PolicyView): string => `${nameKey(p.name)}/${p.aws ? 1 : 0}`;

const listPolicies: Handler = async (ctx) => {
  const r = reader(ctx);
  const scope = r.enum('Scope', SCOPES) ?? 'All';
  const onlyAttached = r.bool('OnlyAttached') ?? false;
  const prefix = r.string('PathPrefix', RULES.pathPrefix) ?? '/';
  const usageFilter = r.enum('PolicyUsageFilter', USAGES);
  const paging = readPaging(r);
  r.done();
  const usage = await policyUsage(ctx.meta, ctx.accountId);
  const candidates = [
    ...(scope === 'AWS' ? [] : (await list(ctx.meta, ctx.accountId, 'policy')).map(localView)),
    ...(scope === 'Local' ? [] : awsViews()),
  ];
  const selected = candidates.filter((p) => {
    if (!p.path.startsWith(prefix)) return false;
    const u = usage.get(p.arn);
    const used = usageFilter === 'PermissionsPolicy' ? attachmentCount(u) > 0
      : usageFilter === 'PermissionsBoundary' ? boundaryCount(u) > 0
        : attachmentCount(u) + boundaryCount(u) > 0;
    return !onlyAttached || used;
  });
  const page = paginate(selected, policyKey, paging);
  return pageResult('Policies', page.page.map((p) => policyShape(p, usage.get(p.arn), false)), page);
};

const deletePolicy: Handler = async (ctx) => {
  const r = reader(ctx);
  const arn = r.string('PolicyArn', { ...ARN_RULE, required: true });
  r.done();
  const p = await readWritablePolicy(ctx, arn);
  const u = (await policyUsage(ctx.meta, ctx.accountId)).get(p.arn);
  if (attachmentCount(u) + boundaryCount(u) > 0) throw new IamError('DeleteConflict', 'Cannot delete a policy attached to entities.');
  if (p.versions.length > 1) {
    throw new IamError('DeleteConflict', "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.");
  }
  await remove(ctx.meta, ctx.accountId, 'policy', p.name);
  return undefined;
};

const createPolicyVersion: Handler = async (ctx) => {
  const r = reader(ctx);
  const arn = r.string('PolicyArn', { ...ARN_RULE, required: true });
  const document = r.string('PolicyDocument', { ...RULES.policyDocument, required: true });
  const setAsDefault = r.bool('SetAsDefault') ?? false;
  r.done();
  const p = await readWritablePolicy(ctx, arn);
  checkIdentityPolicy(document);
  checkManagedPolicySize(document);
  if (p.versions.length >= MAX_VERSIONS) {
    throw new IamError('LimitExceeded', `A managed policy can have up to ${MAX_VERSIONS} versions. Before you create a new version, you must delete an existing version.`);
  }
  const now = nowIso(ctx);
  const v: PolicyVersion = { versionId: `v${p.nextVersion}`, document, createDate: now };
  // UpdateDate is when the newest version was created, whether or not it is the default.
  const updated: IamManagedPolicy = {
    ...p, versions: [...p.versions, v], nextVersion: p.nextVersion + 1, updateDate: now,
    defaultVersionId: setAsDefault ? v.versionId : p.defaultVersionId,
  };
  await save(ctx.meta, ctx.accountId, updated);
  return { PolicyVersion: versionShape(updated, v, false) };
};

function readVersionParams(ctx: Ctx): { arn: string; versionId: string } {
  const r = reader(ctx);
  const arn = r.string('PolicyArn', { ...ARN_RULE, required: true });
  const versionId = r.string('VersionId', { ...VERSION_ID_RULE, required: true });
  r.done();
  return { arn, versionId };
}

const noSuchVersion = (arn: string, versionId: string): IamError =>
  new IamError('NoSuchEntity', `Policy ${arn} version ${versionId} does not exist or is not attachable.`);

const getPolicyVersion: Handler = async (ctx) => {
  const { arn, versionId } = readVersionParams(ctx);
  const p = await readExistingPolicy(ctx, arn);
  const v = p.versions.find((x) => x.versionId === versionId);
  if (!v) throw noSuchVersion(arn, versionId);
  return { PolicyVersion: versionShape(p, v, true) };
};

const listPolicyVersions: Handler = async (ctx) => {
  const r = reader(ctx);
  const arn = r.string('PolicyArn', { ...ARN_RULE, required: true });
  const paging = readPaging(r);
  r.done();
  const p = await readExistingPolicy(ctx, arn);
  // Newest first; version numbers are compared numerically (v10 after v9).
  const rank = (v: PolicyVersion): string => String(1e9 - Number.parseInt(v.versionId.slice(1), 10)).padStart(10, '0');
  const page = paginate(p.versions, rank, paging);
  return pageResult('Versions', page.page.map((v) => versionShape(p, v, false)), page);
};

const setDefaultPolicyVersion: Handler = async (ctx) => {
  const { arn, versionId } = readVersionParams(ctx);
  const p = await readWritablePolicy(ctx, arn);
  if (!p.versions.some((v) => v.versionId === versionId)) throw noSuchVersion(arn, versionId);
  await save(ctx.meta, ctx.accountId, { ...p, defaultVersionId: versionId });
  return undefined;
};

const deletePolicyVersion: Handler = async (ctx) => {
  const { arn, versionId } = readVersionParams(ctx);
  const p = await readWritablePolicy(ctx, arn);
  if (!p.versions.some((v) => v.versionId === versionId)) throw noSuchVersion(arn, versionId);
  if (p.defaultVersionId === versionId) throw new IamError('DeleteConflict', 'Cannot delete the default version of a policy.');
  await save(ctx.meta, ctx.accountId, { ...p, versions: p.versions.filter((v) => v.versionId !== versionId) });
  return undefined;
};

const tagPolicy: Handler = async (ctx) => {
  const r = reader(ctx);
  const arn = r.string('PolicyArn', { ...ARN_RULE, required: true });
  const tags = readTags(r, true);
  r.done();
  const p = await readWritablePolicy(ctx, arn);
  await save(ctx.meta, ctx.accountId, { ...p, tags: mergeTags(p.tags, tags) });
  return undefined;
};

const untagPolicy: Handler = async (ctx) => {
  const r = reader(ctx);
  const arn = r.string('PolicyArn', { ...ARN_RULE, required: true });
  const keys = readTagKeys(r);
  r.done();
  const p = await readWritablePolicy(ctx, arn);
  await save(ctx.meta, ctx.accountId, { ...p, tags: removeTags(p.tags, keys) });
  return undefined;
};

const listPolicyTags: Handler = async (ctx) => {
  const r = reader(ctx);
  const arn = r.string('PolicyArn', { ...ARN_RULE, required: true });
  const paging = readPaging(r);
  r.done();
  const p = await readExistingPolicy(ctx, arn);
  return tagsPage(p.tags, paging);
};

export const POLICY_ACTIONS = {
  CreatePolicy: createPolicy,
  GetPolicy: getPolicy,
  ListPolicies: listPolicies,
  DeletePolicy: deletePolicy,
  CreatePolicyVersion: createPolicyVersion,
  GetPolicyVersion: getPolicyVersion,
  ListPolicyVersions: listPolicyVersions,
  SetDefaultPolicyVersion: setDefaultPolicyVersion,
  DeletePolicyVersion: deletePolicyVersion,
  TagPolicy: tagPolicy,
  UntagPolicy: untagPolicy,
  ListPolicyTags: listPolicyTags,
} satisfies Record<string, Handler>;

/** For GetAccountAuthorizationDetails. */
export { localView, awsViews };
