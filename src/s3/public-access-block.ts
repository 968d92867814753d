/**
 * Block Public Access at bucket level (Get/Put/DeletePublicAccessBlock). New buckets get all
 * four settings on, as S3 does since April 2023 (see buckets.ts).
 */
import { s3error } from '../errors/s3-errors.js';
import { bucketPublicAccessBlock, FIELDS, parsePublicAccessBlock } from '../authz/bpa/settings.js';
import { emptyResult, readSmallBody, xmlResult } from './common.js';
import type { Handler } from './context.js';

export const getPublicAccessBlock: Handler<'GetPublicAccessBlock'> = async (ctx, svc) => {
  const pab = await bucketPublicAccessBlock(svc.meta, ctx.op.bucket);
  if (!pab) throw s3error('NoSuchPublicAccessBlockConfiguration', undefined, { BucketName: ctx.op.bucket });
  return xmlResult('PublicAccessBlockConfiguration', Object.fromEntries(FIELDS.map(([f, el]) => [el, pab[f] ? 'true' : 'false'])));
};

export const putPublicAccessBlock: Handler<'PutPublicAccessBlock'> = async (ctx, svc) => {
  const pab = parsePublicAccessBlock((await readSmallBody(ctx.body(), 64 * 1024)).toString('utf8'));
  await svc.meta.putBucketConfig(ctx.op.bucket, 'public-access-block', JSON.stringify(pab));
  svc.authorizer.policies.invalidate(ctx.op.bucket);
  return emptyResult(200);
};

export const deletePublicAccessBlock: Handler<'DeletePublicAccessBlock'> = async (ctx, svc) => {
  await svc.meta.putBucketConfig(ctx.op.bucket, 'public-access-block', null);
  svc.authorizer.policies.invalidate(ctx.op.bucket);
  return emptyResult(204);
};
