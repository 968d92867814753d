/**
 * Block Public Access at bucket level (Get/Put/DeletePublicAccessBlock). New buckets get all
 * four settings on, as S3 does since April 2023 (see buckets.ts).
 */
import { s3error } from '../errors/s3-errors.js';
import { accountPublicAccessBlock, bucketPublicAccessBlock, FIELDS, parsePublicAccessBlock, type PublicAccessBlock } from '../authz/bpa/settings.js';
import { header, type S3Result } from '../http/request.js';
import { toXml } from '../http/xml.js';
import type { AuthorizedRequest } from './context.js';
import { emptyResult, readSmallBody, xmlResult } from './common.js';
import type { Handler } from './context.js';

export const getPublicAccessBlock: Handler<'GetPublicAccessBlock'> = async (ctx, svc) => {
  const pab = await bucketPublicAccessBlock(svc.meta, ctx.op.bucket);
  if (!pab) throw s3error('NoSuchPublicAccessBlockConfiguration', undefined, { BucketName: ctx.op.bucket });
  return xmlResult('PublicAccessBlockConfiguration', pabXml(pab));
};

export const putPublicAccessBlock: Handler<'PutPublicAccessBlock'> = async (ctx, svc) => {
  const pab = parsePublicAccessBlock((await readSmallBody(ctx.body(), 64 * 1024)).toString('utf8'));
  await svc.meta.putBucketConfig(ctx.op.bucket, 'public-access-block', JSON.stringify(pab));
  svc.authorizer.access.invalidate(ctx.op.bucket);
  return emptyResult(200);
};

export const deletePublicAccessBlock: Handler<'DeletePublicAccessBlock'> = async (ctx, svc) => {
  await svc.meta.putBucketConfig(ctx.op.bucket, 'public-access-block', null);
  svc.authorizer.access.invalidate(ctx.op.bucket);
  return emptyResult(204);
};

function pabXml(pab: PublicAccessBlock): Record<string, string> {
  return Object.fromEntries(FIELDS.map(([f, el]) => [el, pab[f] ? 'true' : 'false']));
}

const CONTROL_XMLNS = 'http://awss3control.amazonaws.com/doc/2018-08-20/';

/** The account an S3 Control request names; it must be the caller's own. */
function controlAccount(ctx: AuthorizedRequest<'GetAccountPublicAccessBlock' | 'PutAccountPublicAccessBlock' | 'DeleteAccountPublicAccessBlock'>): string {
  const id = header(ctx.req, 'x-amz-account-id');
  if (id === undefined || !/^\d{12}$/.test(id)) throw s3error('InvalidRequest', 'Missing required header for this request: x-amz-account-id');
  if (ctx.principal.kind === 'anonymous' || ctx.principal.accountId !== id) throw s3error('AccessDenied');
  return id;
}

export const getAccountPublicAccessBlock: Handler<'GetAccountPublicAccessBlock'> = async (ctx, svc) => {
  const pab = await accountPublicAccessBlock(svc.meta, controlAccount(ctx));
  if (!pab) throw s3error('NoSuchPublicAccessBlockConfiguration');
  const r: S3Result = { status: 200, headers: { 'Content-Type': 'application/xml' }, body: toXml('PublicAccessBlockConfiguration', pabXml(pab), CONTROL_XMLNS) };
  return r;
};

export const putAccountPublicAccessBlock: Handler<'PutAccountPublicAccessBlock'> = async (ctx, svc) => {
  const account = controlAccount(ctx);
  const pab = parsePublicAccessBlock((await readSmallBody(ctx.body(), 64 * 1024)).toString('utf8'));
  await svc.meta.putAccountConfig(account, 'public-access-block', JSON.stringify(pab));
  svc.authorizer.access.clear();
  return emptyResult(200);
};

export const deleteAccountPublicAccessBlock: Handler<'DeleteAccountPublicAccessBlock'> = async (ctx, svc) => {
  await svc.meta.putAccountConfig(controlAccount(ctx), 'public-access-block', null);
  svc.authorizer.access.clear();
  return emptyResult(204);
};
