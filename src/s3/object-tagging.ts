/** Get/Put/DeleteObjectTagging. */
import { accessDenied } from '../authz/authorizer.js';
import { putObjectTaggingChecks } from '../authz/actions.js';
import { s3error } from '../errors/s3-errors.js';
import { emptyResult, readSmallBody, xmlResult } from './common.js';
import type { Handler } from './context.js';
import { loadForRead } from './objects.js';
import { parseTaggingXml, taggingXml } from './tags.js';
import { versionIdHeader } from './versions.js';

export const getObjectTagging: Handler<'GetObjectTagging'> = async (ctx, svc) => {
  const v = await loadForRead(ctx, svc);
  return xmlResult('Tagging', taggingXml(v.tags), 200, versionIdHeader(ctx.bucket!, v));
};

export const putObjectTagging: Handler<'PutObjectTagging'> = async (ctx, svc) => {
  const raw = (await readSmallBody(ctx.body(), 64 * 1024)).toString('utf8');
  const tags = parseTaggingXml(raw, 10);
  // The pipeline checked nothing for this operation (authz/actions.ts): the tags the body sets
  // are the request's s3:RequestObjectTag/* and s3:RequestObjectTagKeys, so it is decided now.
  const decision = await svc.authorizer.authorize({
    req: ctx.req, principal: ctx.principal, auth: ctx.auth, known: [ctx.bucket], versions: ctx.versions,
    checks: putObjectTaggingChecks(ctx.op, ctx.req), requestObjectTags: tags,
  });
  if (decision.effect !== 'Allow') {
    svc.log.debug('access denied', { requestId: ctx.req.requestId, operation: 'PutObjectTagging', trace: decision.trace });
    throw accessDenied(decision, ctx.principal, ctx.bucket?.accountId);
  }
  const v = await loadForRead(ctx, svc);
  if (!(await svc.meta.setObjectTags(v.bucket, v.key, v.versionId, tags))) throw s3error('NoSuchKey', undefined, { Key: v.key });
  return emptyResult(200, versionIdHeader(ctx.bucket!, v));
};

export const deleteObjectTagging: Handler<'DeleteObjectTagging'> = async (ctx, svc) => {
  const v = await loadForRead(ctx, svc);
  await svc.meta.setObjectTags(v.bucket, v.key, v.versionId, {});
  return emptyResult(204, versionIdHeader(ctx.bucket!, v));
};
