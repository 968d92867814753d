/**
 * Policy evaluation micro-benchmark (run by hand):
 * `node dist/src/iam/policy/bench.js [seconds] [full|authz|both]` (measure one mode per
 * process for stable figures: switching modes in one process re-optimises evaluatePolicy).
 * One core, one 20-statement bucket policy with IP, date, StringLike, tag, numeric and
 * variable conditions, a rotating set of realistic requests; prints evaluations per
 * second (one evaluatePolicy call = one policy decision) and compile time.
 */
import { pathToFileURL } from 'node:url';
import { compilePolicy } from './compile.js';
import { evaluatePolicy, type EvaluateOptions } from './evaluate.js';
import { parsePolicy } from './parse.js';
import type { ContextValue, EvalRequest, PrincipalFacts } from './request.js';

const A = '111122223333';
const B = '444455556666';
const BUCKET = 'arn:aws:s3:::media';

/** The benchmark's 20-statement bucket policy (IAM JSON). */
export const doc = {
  Version: '2012-10-17',
  Id: 'bench',
  Statement: [
    { Sid: 'DenyInsecure', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [BUCKET, `${BUCKET}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
    { Sid: 'DenyOutsideNetworks', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [BUCKET, `${BUCKET}/*`],
      Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.0.0/16', '203.0.113.0/24', '2001:db8::/32'] }, 'ForAnyValue:StringNotEquals': { 'aws:CalledVia': ['athena.amazonaws.com'] } } },
    { Sid: 'TeamRead', Effect: 'Allow', Principal: { AWS: A }, Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `${BUCKET}/teams/\${aws:PrincipalTag/team}/*`,
      Condition: { StringEquals: { 'aws:PrincipalTag/department': ['media', 'marketing'] } } },
    { Sid: 'TeamWrite', Effect: 'Allow', Principal: { AWS: A }, Action: 's3:PutObject', Resource: `${BUCKET}/teams/\${aws:PrincipalTag/team}/*`,
      Condition: { StringEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' }, StringLike: { 's3:x-amz-server-side-encryption-aws-kms-key-id': `arn:aws:kms:*:${A}:key/*` } } },
    { Sid: 'HomeList', Effect: 'Allow', Principal: { AWS: A }, Action: 's3:ListBucket', Resource: BUCKET,
      Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/*'] }, NumericLessThanEquals: { 's3:max-keys': '1000' } } },
    { Sid: 'HomeObjects', Effect: 'Allow', Principal: { AWS: A }, Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: `${BUCKET}/home/\${aws:username}/*` },
    { Sid: 'DenyBigLists', Effect: 'Deny', Principal: '*', Action: 's3:ListBucket', Resource: BUCKET, Condition: { NumericGreaterThan: { 's3:max-keys': '5000' } } },
    { Sid: 'Embargo', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `${BUCKET}/press/*`, Condition: { DateLessThan: { 'aws:CurrentTime': '2026-03-01T09:00:00Z' } } },
    { Sid: 'PartnerWindow', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:role/partner` }, Action: 's3:GetObject', Resource: `${BUCKET}/partner/*`,
      Condition: { DateGreaterThanEquals: { 'aws:CurrentTime': '2025-01-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' }, IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } },
    { Sid: 'PublicThumbs', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${BUCKET}/public/thumbs/*.jpg`, Condition: { StringLike: { 'aws:Referer': ['https://*.example.com/*'] } } },
    { Sid: 'RequireTags', Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `${BUCKET}/*`,
      Condition: { 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['team', 'cost-center', 'classification'] }, Null: { 's3:RequestObjectTagKeys': 'false' } } },
    { Sid: 'NoPublicAcl', Effect: 'Deny', Principal: '*', Action: ['s3:PutObject', 's3:PutObjectAcl'], Resource: `${BUCKET}/*`,
      Condition: { StringEqualsIgnoreCase: { 's3:x-amz-acl': ['public-read', 'public-read-write', 'authenticated-read'] } } },
    { Sid: 'Classified', Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `${BUCKET}/*`,
      Condition: { StringEquals: { 's3:ExistingObjectTag/classification': 'secret' }, StringNotEquals: { 'aws:PrincipalTag/clearance': 'secret' } } },
    { Sid: 'Admins', Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${A}:role/admin`, `arn:aws:iam::${A}:user/ops`] }, Action: 's3:*', Resource: [BUCKET, `${BUCKET}/*`],
      Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'true' }, NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' } } },
    { Sid: 'OldSignatures', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `${BUCKET}/*`, Condition: { NumericGreaterThan: { 's3:signatureAge': '600000' } } },
    { Sid: 'SigV4Only', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `${BUCKET}/*`, Condition: { StringNotEquals: { 's3:signatureversion': 'AWS4-HMAC-SHA256' } } },
    { Sid: 'Replication', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${B}:role/replication` }, Action: ['s3:ReplicateObject', 's3:ReplicateDelete', 's3:ReplicateTags'], Resource: `${BUCKET}/*` },
    { Sid: 'Logging', Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject', Resource: `${BUCKET}/logs/*`,
      Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::media*' }, StringEquals: { 'aws:SourceAccount': A } } },
    { Sid: 'TlsFloor', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [BUCKET, `${BUCKET}/*`], Condition: { NumericLessThan: { 's3:TlsVersion': '1.2' } } },
    { Sid: 'ListVersions', Effect: 'Allow', Principal: { AWS: A }, Action: ['s3:ListBucketVersions', 's3:GetObjectVersion*'], Resource: [BUCKET, `${BUCKET}/*`],
      Condition: { StringLike: { 'aws:PrincipalArn': `arn:aws:iam::${A}:role/auditor-*` } } },
  ],
};

const alice: PrincipalFacts = { kind: 'aws', account: A, arns: [`arn:aws:iam::${A}:user/alice`], isRoot: false };
const partner: PrincipalFacts = { kind: 'aws', account: B, arns: [`arn:aws:sts::${B}:assumed-role/partner/s1`, `arn:aws:iam::${B}:role/partner`], isRoot: false };

function ctx(extra: Record<string, ContextValue>): Map<string, ContextValue> {
  const base: Record<string, ContextValue> = {
    'aws:SecureTransport': 'true', 'aws:SourceIp': '10.1.2.3', 'aws:CurrentTime': '2026-06-01T12:00:00Z', 'aws:EpochTime': '1780315200',
    'aws:username': 'alice', 'aws:PrincipalTag/team': 'video', 'aws:PrincipalTag/department': 'media', 'aws:PrincipalAccount': A,
    'aws:PrincipalArn': `arn:aws:iam::${A}:user/alice`, 's3:signatureversion': 'AWS4-HMAC-SHA256', 's3:TlsVersion': '1.3', 's3:authType': 'REST-HEADER',
  };
  return new Map(Object.entries({ ...base, ...extra }).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The rotating benchmark requests. */
export const requests: EvalRequest[] = [
  { action: 's3:GetObject', resource: `${BUCKET}/teams/video/cut-01.mp4`, principal: alice, context: ctx({}) },
  { action: 's3:PutObject', resource: `${BUCKET}/teams/video/cut-02.mp4`, principal: alice,
    context: ctx({ 's3:x-amz-server-side-encryption': 'aws:kms', 's3:x-amz-server-side-encryption-aws-kms-key-id': `arn:aws:kms:us-east-1:${A}:key/1234`, 's3:RequestObjectTagKeys': ['team', 'cost-center'] }) },
  { action: 's3:ListBucket', resource: BUCKET, principal: alice, context: ctx({ 's3:prefix': 'home/alice/photos/', 's3:max-keys': '1000' }) },
  { action: 's3:GetObject', resource: `${BUCKET}/partner/feed.xml`, principal: partner, context: ctx({ 'aws:SourceIp': '203.0.113.50', 'aws:PrincipalAccount': B }) },
  { action: 's3:GetObject', resource: `${BUCKET}/public/thumbs/a.jpg`, principal: { kind: 'anonymous' }, context: ctx({ 'aws:SourceIp': '2001:db8::7', 'aws:Referer': 'https://www.example.com/gallery' }) },
  { action: 's3:DeleteObject', resource: `${BUCKET}/home/alice/old.txt`, principal: alice, context: ctx({ 'aws:SourceIp': '198.51.100.7' }) },
  { action: 's3:GetObject', resource: `${BUCKET}/press/launch.pdf`, principal: alice, context: ctx({ 's3:ExistingObjectTag/classification': 'public' }) },
  { action: 's3:PutObjectAcl', resource: `${BUCKET}/home/alice/x`, principal: alice, context: ctx({ 's3:x-amz-acl': 'Public-Read' }) },
];

/** Which evaluation mode(s) to measure. */
export type BenchMode = 'full' | 'authz' | 'both';

/**
 * Runs the benchmark for about `seconds` per mode: 'full' = evaluatePolicy(p, r) (with
 * missingKeys), 'authz' = evaluatePolicy(p, r, { missingKeys: false }).
 */
export function runBench(seconds = 3, mode: BenchMode = 'both'): { full?: number; authz?: number; compileMicros: number; matchesPerRequest: number[] } {
  const parsed = parsePolicy(JSON.stringify(doc));
  if (!('ast' in parsed)) throw new Error(`bench policy does not parse: ${JSON.stringify(parsed.errors)}`);
  const compiledN = 500;
  for (let i = 0; i < compiledN; i++) compilePolicy(parsed.ast); // warm-up
  const c0 = process.hrtime.bigint();
  for (let i = 0; i < compiledN; i++) compilePolicy(parsed.ast);
  const compileMicros = Number(process.hrtime.bigint() - c0) / 1000 / compiledN;
  const policy = compilePolicy(parsed.ast);
  const matchesPerRequest = requests.map((r) => evaluatePolicy(policy, r).matches.length);
  const measure = (opts: EvaluateOptions | undefined): number => {
    let sink = 0;
    for (let i = 0; i < 200_000; i++) sink += evaluatePolicy(policy, requests[i & 7] as EvalRequest, opts).matches.length; // warm-up
    const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
    const start = process.hrtime.bigint();
    let n = 0;
    while (process.hrtime.bigint() < deadline) {
      for (let i = 0; i < 10_000; i++) sink += evaluatePolicy(policy, requests[(n + i) & 7] as EvalRequest, opts).matches.length;
      n += 10_000;
    }
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    if (sink < 0) throw new Error('unreachable');
    return n / elapsed;
  };
  const out: { full?: number; authz?: number; compileMicros: number; matchesPerRequest: number[] } = { compileMicros, matchesPerRequest };
  if (mode !== 'authz') out.full = measure(undefined);
  if (mode !== 'full') out.authz = measure({ missingKeys: false });
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const mode = (process.argv[3] ?? 'both') as BenchMode;
  const r = runBench(Number(process.argv[2] ?? 3), mode);
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  if (r.full !== undefined) process.stdout.write(`policy evaluation: ${fmt(r.full)} decisions/s (20 statements, 1 core, with missingKeys)\n`);
  if (r.authz !== undefined) process.stdout.write(`policy evaluation: ${fmt(r.authz)} decisions/s (20 statements, 1 core, { missingKeys: false })\n`);
  process.stdout.write(`compile: ${r.compileMicros.toFixed(1)} µs per policy; matches per request: ${r.matchesPerRequest.join(' ')}\n`);
}
