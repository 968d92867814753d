/**
 * Bucket CORS: the configuration API, preflight (OPTIONS) answers, and the CORS headers
 * added to actual requests. A rule matches when the Origin matches one of its
 * AllowedOrigins (one '*' wildcard allowed), the method is allowed, and every requested
 * header matches an AllowedHeaders pattern (case-insensitive).
 */
import { s3error } from '../errors/s3-errors.js';
import { header, type S3Request, type S3Result } from '../http/request.js';
import { listOf, parseXml, textOf, type XmlObject } from '../http/xml.js';
import { emptyResult, readSmallBody, xmlResult } from './common.js';
import type { Handler, Services } from './context.js';

export interface CorsRule {
  id?: string;
  allowedMethods: string[];
  allowedOrigins: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

const METHODS = new Set(['GET', 'PUT', 'HEAD', 'POST', 'DELETE']);

/** Parses <CORSConfiguration>; invalid → MalformedXML / InvalidRequest as S3. */
export function parseCorsXml(body: string): CorsRule[] {
  const root = parseXml(body, 'CORSConfiguration', ['CORSConfiguration.CORSRule', 'CORSConfiguration.CORSRule.AllowedMethod', 'CORSConfiguration.CORSRule.AllowedOrigin', 'CORSConfiguration.CORSRule.AllowedHeader', 'CORSConfiguration.CORSRule.ExposeHeader']);
  const rules = listOf(root, 'CORSRule');
  if (rules.length === 0 || rules.length > 100) throw s3error('MalformedXML');
  const texts = (node: Record<string, unknown>, name: string): string[] => {
    const v = node[name];
    if (v === undefined) return [];
    return (Array.isArray(v) ? v : [v]).map((x) => {
      if (typeof x !== 'string') throw s3error('MalformedXML');
      return x;
    });
  };
  return rules.map((r) => {
    const allowedMethods = texts(r, 'AllowedMethod');
    const allowedOrigins = texts(r, 'AllowedOrigin');
    if (allowedMethods.length === 0 || allowedOrigins.length === 0) throw s3error('MalformedXML');
    for (const m of allowedMethods) {
      if (!METHODS.has(m)) throw s3error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
    for (const o of allowedOrigins) {
      if ((o.match(/\*/g) ?? []).length > 1) throw s3error('InvalidRequest', `AllowedOrigin "${o}" can not have more than one wildcard.`);
    }
    const allowedHeaders = texts(r, 'AllowedHeader');
    for (const h of allowedHeaders) {
      if ((h.match(/\*/g) ?? []).length > 1) throw s3error('InvalidRequest', `AllowedHeader "${h}" can not have more than one wildcard.`);
    }
    const maxAge = textOf(r, 'MaxAgeSeconds');
    const rule: CorsRule = { allowedMethods, allowedOrigins, allowedHeaders, exposeHeaders: texts(r, 'ExposeHeader') };
    const id = textOf(r, 'ID');
    if (id !== undefined) rule.id = id;
    if (maxAge !== undefined) {
      if (!/^\d+$/.test(maxAge)) throw s3error('MalformedXML');
      rule.maxAgeSeconds = Number(maxAge);
    }
    return rule;
  });
}

function corsXml(rules: CorsRule[]): XmlObject {
  return {
    CORSRule: rules.map((r) => ({
      ID: r.id,
      AllowedHeader: r.allowedHeaders,
      AllowedMethod: r.allowedMethods,
      AllowedOrigin: r.allowedOrigins,
      ExposeHeader: r.exposeHeaders,
      MaxAgeSeconds: r.maxAgeSeconds,
    })),
  };
}

/** One '*' wildcard, case-sensitive for origins, case-insensitive for headers. */
function wildcardMatch(pattern: string, value: string, ci: boolean): boolean {
  const p = ci ? pattern.toLowerCase() : pattern;
  const v = ci ? value.toLowerCase() : value;
  const star = p.indexOf('*');
  if (star < 0) return p === v;
  const pre = p.slice(0, star);
  const post = p.slice(star + 1);
  return v.length >= pre.length + post.length && v.startsWith(pre) && v.endsWith(post);
}

/** The first rule allowing (origin, method, requested headers), as S3 picks it. */
export function matchRule(rules: readonly CorsRule[], origin: string, method: string, requestHeaders: readonly string[]): CorsRule | undefined {
  return rules.find((r) => r.allowedOrigins.some((o) => wildcardMatch(o, origin, false))
    && r.allowedMethods.includes(method)
    && requestHeaders.every((h) => r.allowedHeaders.some((a) => wildcardMatch(a, h, true))));
}

async function loadRules(svc: Services, bucket: string): Promise<CorsRule[] | undefined> {
  const raw = await svc.meta.getBucketConfig(bucket, 'cors');
  return raw === undefined ? undefined : (JSON.parse(raw) as CorsRule[]);
}

function ruleHeaders(rule: CorsRule, origin: string): Record<string, string> {
  const wildcardOnly = rule.allowedOrigins.length === 1 && rule.allowedOrigins[0] === '*';
  const h: Record<string, string> = {
    'Access-Control-Allow-Origin': wildcardOnly ? '*' : origin,
    'Access-Control-Allow-Methods': rule.allowedMethods.join(', '),
    Vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
  if (!wildcardOnly) h['Access-Control-Allow-Credentials'] = 'true';
  if (rule.exposeHeaders.length) h['Access-Control-Expose-Headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) h['Access-Control-Max-Age'] = String(rule.maxAgeSeconds);
  return h;
}

/** CORS headers for an actual (non-preflight) request that carries an Origin. */
export async function corsHeadersFor(svc: Services, bucket: string, req: S3Request): Promise<Record<string, string>> {
  const origin = header(req, 'origin');
  if (origin === undefined) return {};
  const rules = await loadRules(svc, bucket);
  if (!rules) return {};
  const rule = matchRule(rules, origin, req.method, []);
  return rule ? ruleHeaders(rule, origin) : {};
}

async function preflight(svc: Services, bucket: string, req: S3Request): Promise<S3Result> {
  const origin = header(req, 'origin');
  const method = header(req, 'access-control-request-method');
  // A preflight that does not say what it asks for is malformed (400), not refused (403).
  if (origin === undefined) throw s3error('BadRequest', 'Insufficient information. Origin request header needed.');
  if (method === undefined) throw s3error('BadRequest', 'Invalid Access-Control-Request-Method: null');
  const rules = await loadRules(svc, bucket);
  if (!rules) throw s3error('CORSForbidden', 'CORSResponse: CORS is not enabled for this bucket.');
  const requested = (header(req, 'access-control-request-headers') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const rule = matchRule(rules, origin, method, requested);
  if (!rule) throw s3error('CORSForbidden', 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.');
  const h = ruleHeaders(rule, origin);
  if (requested.length) h['Access-Control-Allow-Headers'] = requested.join(', ');
  return emptyResult(200, h);
}

export const bucketOptions: Handler<'BucketOptions'> = async (ctx, svc) => preflight(svc, ctx.op.bucket, ctx.req);
export const objectOptions: Handler<'ObjectOptions'> = async (ctx, svc) => preflight(svc, ctx.op.bucket, ctx.req);

export const getBucketCors: Handler<'GetBucketCors'> = async (ctx, svc) => {
  const rules = await loadRules(svc, ctx.op.bucket);
  if (!rules) throw s3error('NoSuchCORSConfiguration', undefined, { BucketName: ctx.op.bucket });
  return xmlResult('CORSConfiguration', corsXml(rules));
};

export const putBucketCors: Handler<'PutBucketCors'> = async (ctx, svc) => {
  const raw = (await readSmallBody(ctx.body(), 64 * 1024)).toString('utf8');
  const rules = parseCorsXml(raw);
  await svc.meta.putBucketConfig(ctx.op.bucket, 'cors', JSON.stringify(rules));
  return emptyResult(200);
};

export const deleteBucketCors: Handler<'DeleteBucketCors'> = async (ctx, svc) => {
  await svc.meta.putBucketConfig(ctx.op.bucket, 'cors', null);
  return emptyResult(204);
};


