/**
 * Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus. A policy is parsed and validated
 * on write (MalformedPolicy with S3's message naming the first problem), stored as sent
 * (GetBucketPolicy returns the document as stored) and compiled once for evaluation.
 */
import { loadPrincipalIndex } from '../iam/principal-index.js';
import { createHash } from 'node:crypto';
import { s3error } from '../errors/s3-errors.js';
import { header } from '../http/request.js';
import { isPublicPolicy } from '../iam/policy/is-public.js';
import { parsePolicy } from '../iam/policy/parse.js';
import { validatePolicy } from '../iam/policy/validate.js';
import type { PolicyAst } from '../iam/policy/ast.js';
import { emptyResult, readSmallBody, xmlResult } from './common.js';
import type { Handler, Services } from './context.js';
import { effectivePublicAccessBlock } from '../authz/bpa/settings.js';

/** S3's bucket policy size limit. */
export const MAX_POLICY_BYTES = 20 * 1024;

/** Parses and validates a bucket policy for `bucket`; the first problem → MalformedPolicy. */
export async function checkBucketPolicy(svc: Services, text: string, bucket: string): Promise<PolicyAst> {
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw s3error('MalformedPolicy', 'Policies cannot exceed 20 KB in size');
  const parsed = parsePolicy(text);
  if (!('ast' in parsed)) throw s3error('MalformedPolicy', parsed.errors[0]?.message ?? 'This policy contains invalid Json');
  // Principals must name accounts, users and roles this server knows (AWS rejects unknown principals).
  const principalExists = await loadPrincipalIndex(svc.meta);
  const errors = validatePolicy(parsed.ast, { kind: 'bucket', bucket, principalExists }).filter((f) => f.severity === 'error');
  if (errors.length > 0) throw s3error('MalformedPolicy', errors[0]!.message);
  return parsed.ast;
}

export const putBucketPolicy: Handler<'PutBucketPolicy'> = async (ctx, svc) => {
  const raw = await readSmallBody(ctx.body(), MAX_POLICY_BYTES + 1024);
  const md5 = header(ctx.req, 'content-md5');
  if (md5 !== undefined && createHash('md5').update(raw).digest('base64') !== md5) throw s3error('BadDigest');
  const text = raw.toString('utf8');
  const ast = await checkBucketPolicy(svc, text, ctx.op.bucket);
  if ((await effectivePublicAccessBlock(svc.meta, ctx.op.bucket)).blockPublicPolicy && isPublicPolicy(ast, { kind: 'bucket' }).public) {
    // BlockPublicPolicy: a public policy is refused (403), the stored one stays.
    throw s3error('AccessDenied');
  }
  await svc.meta.putBucketConfig(ctx.op.bucket, 'policy', text);
  svc.authorizer.access.invalidate(ctx.op.bucket);
  return emptyResult(204);
};

export const getBucketPolicy: Handler<'GetBucketPolicy'> = async (ctx, svc) => {
  const text = await svc.meta.getBucketConfig(ctx.op.bucket, 'policy');
  if (text === undefined) throw s3error('NoSuchBucketPolicy', undefined, { BucketName: ctx.op.bucket });
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: text };
};

export const deleteBucketPolicy: Handler<'DeleteBucketPolicy'> = async (ctx, svc) => {
  await svc.meta.putBucketConfig(ctx.op.bucket, 'policy', null);
  svc.authorizer.access.invalidate(ctx.op.bucket);
  return emptyResult(204);
};

export const getBucketPolicyStatus: Handler<'GetBucketPolicyStatus'> = async (ctx, svc) => {
  const p = (await svc.authorizer.access.get(ctx.op.bucket)).policy;
  if (!p) throw s3error('NoSuchBucketPolicy', undefined, { BucketName: ctx.op.bucket });
  return xmlResult('PolicyStatus', { IsPublic: isPublicPolicy(p.ast, { kind: 'bucket' }).public ? 'true' : 'false' });
};
