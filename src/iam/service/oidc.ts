/**
 * OpenID Connect identity providers: CreateOpenIDConnectProvider, GetOpenIDConnectProvider,
 * ListOpenIDConnectProviders, DeleteOpenIDConnectProvider, Add/RemoveClientID…,
 * UpdateOpenIDConnectProviderThumbprint and the provider's tags. A provider is what
 * AssumeRoleWithWebIdentity trusts (sts/web-identity.ts): tokens whose `iss` is its URL and
 * whose audience is one of its client ids.
 */
import { IamError } from '../api/xml.js';
import type { OidcProvider } from '../model.js';
import {
  PARTITION, type Ctx, type Handler, date, mergeTags, nowIso, readPaging, readTagKeys, readTags, reader, removeTags, tagList, checkUniqueTagKeys, tagsPage,
} from './common.js';
import { create, list, load, remove, save } from './store.js';

const MAX_CLIENT_IDS = 100;
const MAX_THUMBPRINTS = 5;
const URL_RULE = { min: 1, max: 255 } as const;
const CLIENT_ID_RULE = { min: 1, max: 255 } as const;
const THUMBPRINT_RULE = { min: 40, max: 40, pattern: /^[0-9a-fA-F]{40}$/, patternText: '[0-9a-fA-F]{40}' } as const;
const ARN_RULE = { min: 20, max: 2048 } as const;

// Plain characters only — no credentials, query, fragment, percent-escapes, blanks,
// backslashes or non-ASCII hosts — so nothing a URL parser would rewrite gets through.
const PROVIDER_URL = /^https:\/\/[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?$/;

/**
 * The provider name an issuer URL gives: host (lower-cased), optional port (the URL parser
 * drops :443) and path, without the scheme or a trailing slash; undefined for anything but
 * a plain https URL, or one with dot segments.
 */
export function providerNameOf(url: string): string | undefined {
  if (!PROVIDER_URL.test(url) || /\/\.\.?(?:\/|$)/.test(url)) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  return `${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, '')}`;
}

export const oidcProviderArn = (accountId: string, name: string): string => `arn:${PARTITION}:iam::${accountId}:oidc-provider/${name}`;

const ARN_RE = /^arn:aws:iam::(\d{12}):oidc-provider\/(.+)$/;

const notFound = (arn: string): IamError => new IamError('NoSuchEntity', `OpenIDConnect Provider not found for arn ${arn}`);

/** The provider an ARN names in the caller's account; NoSuchEntity otherwise. */
async function requireProvider(ctx: Ctx, arn: string): Promise<OidcProvider> {
  const m = ARN_RE.exec(arn);
  const p = m && m[1] === ctx.accountId ? await load(ctx.meta, ctx.accountId, 'oidc-provider', m[2]!) : undefined;
  if (!p || p.arn !== arn) throw notFound(arn);
  return p;
}

/** The provider for an issuer in an account (AssumeRoleWithWebIdentity), if one is registered. */
export async function findOidcProvider(meta: Ctx['meta'], accountId: string, issuer: string): Promise<OidcProvider | undefined> {
  const name = providerNameOf(issuer);
  if (name === undefined) return undefined;
  const p = await load(meta, accountId, 'oidc-provider', name);
  return p && p.name === name ? p : undefined;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

const createOidcProvider: Handler = async (ctx) => {
  const r = reader(ctx);
  const url = r.string('Url', { ...URL_RULE, required: true });
  const clientIds = r.stringList('ClientIDList', { max: MAX_CLIENT_IDS, each: CLIENT_ID_RULE });
  const thumbprints = r.stringList('ThumbprintList', { max: MAX_THUMBPRINTS, each: THUMBPRINT_RULE });
  const tags = readTags(r);
  r.done();
  checkUniqueTagKeys(tags);
  const name = providerNameOf(url);
  if (name === undefined) throw new IamError('InvalidInput', 'Invalid Url: it must be a plain https URL (host, optional port and path; no query, fragment, credentials, escapes or dot segments).');
  const p: OidcProvider = {
    kind: 'oidc-provider', name, arn: oidcProviderArn(ctx.accountId, name),
    clientIds: unique(clientIds), thumbprints: unique(thumbprints.map((t) => t.toLowerCase())), createDate: nowIso(ctx), tags,
  };
  await create(ctx.meta, ctx.accountId, p, () => new IamError('EntityAlreadyExists', `Provider with url https://${name} already exists.`));
  return { OpenIDConnectProviderArn: p.arn, Tags: tags.length > 0 ? tagList(tags) : undefined };
};

const getOidcProvider: Handler = async (ctx) => {
  const r = reader(ctx);
  const arn = r.string('OpenIDConnectProviderArn', { ...ARN_RULE, required: true });
  r.done();
  const p = await requireProvider(ctx, arn);
  return {
    Url: p.name, ClientIDList: p.clientIds, ThumbprintList: p.thumbprints, CreateDate: date(p.createDate),
    Tags: p.tags.length > 0 ? tagList(p.tags) : undefined,
  };
};

const listOidcProviders: Handler = async (ctx) => {
  reader(ctx).done();
  const all = await list(ctx.meta, ctx.accountId, 'oidc-provider');
  return { OpenIDConnectProviderList: all.map((p) => ({ Arn: p.arn })) };
};

const deleteOidcProvider: Handler = async (ctx) => {
  const r = reader(ctx);
  const arn = r.string('OpenIDConnectProviderArn', { ...ARN_RULE, required: true });
  r.done();
  const p = await requireProvider(ctx, arn);
  await remove(ctx.meta, ctx.accountId, 'oidc-provider', p.name);
  return undefined;
};

/** A change to one provider: read the ARN (and whatever else `read` takes), then save what `change` returns. */
function update(read: (r: ReturnType<typeof reader>) => (p: OidcProvider) => OidcProvider): Handler {
  return async (ctx) => {
    const r = reader(ctx);
    const arn = r.string('OpenIDConnectProviderArn', { ...ARN_RULE, required: true });
    const change = read(r);
    r.done();
    const p = await requireProvider(ctx, arn);
    await save(ctx.meta, ctx.accountId, change(p));
    return undefined;
  };
}

const addClientId = update((r) => {
  const id = r.string('ClientID', { ...CLIENT_ID_RULE, required: true });
  return (p) => {
    if (p.clientIds.includes(id)) return p;
    if (p.clientIds.length >= MAX_CLIENT_IDS) throw new IamError('LimitExceeded', `Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: ${MAX_CLIENT_IDS}`);
    return { ...p, clientIds: [...p.clientIds, id] };
  };
});

const removeClientId = update((r) => {
  const id = r.string('ClientID', { ...CLIENT_ID_RULE, required: true });
  return (p) => ({ ...p, clientIds: p.clientIds.filter((c) => c !== id) });
});

const updateThumbprints = update((r) => {
  const thumbprints = r.stringList('ThumbprintList', { required: true, max: MAX_THUMBPRINTS, each: THUMBPRINT_RULE });
  return (p) => ({ ...p, thumbprints: unique(thumbprints.map((t) => t.toLowerCase())) });
});

const tagProvider = update((r) => {
  const tags = readTags(r, true);
  return (p) => ({ ...p, tags: mergeTags(p.tags, tags) });
});

const untagProvider = update((r) => {
  const keys = readTagKeys(r);
  return (p) => ({ ...p, tags: removeTags(p.tags, keys) });
});

const listProviderTags: Handler = async (ctx) => {
  const r = reader(ctx);
  const arn = r.string('OpenIDConnectProviderArn', { ...ARN_RULE, required: true });
  const paging = readPaging(r);
  r.done();
  const p = await requireProvider(ctx, arn);
  return tagsPage(p.tags, paging);
};

export const OIDC_ACTIONS = {
  CreateOpenIDConnectProvider: createOidcProvider,
  GetOpenIDConnectProvider: getOidcProvider,
  ListOpenIDConnectProviders: listOidcProviders,
  DeleteOpenIDConnectProvider: deleteOidcProvider,
  AddClientIDToOpenIDConnectProvider: addClientId,
  RemoveClientIDFromOpenIDConnectProvider: removeClientId,
  UpdateOpenIDConnectProviderThumbprint: updateThumbprints,
  TagOpenIDConnectProvider: tagProvider,
  UntagOpenIDConnectProvider: untagProvider,
  ListOpenIDConnectProviderTags: listProviderTags,
} satisfies Record<string, Handler>;
