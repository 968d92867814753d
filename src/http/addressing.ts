/**
 * Virtual-hosted-style and path-style addressing → { bucket?, key? }.
 * A Host of `<bucket>.<base-domain>` names the bucket (virtual-hosted style); a Host that
 * is a base domain, an IP address or anything else is path-style (`/<bucket>/<key>`).
 */
import { s3error } from '../errors/s3-errors.js';

export interface Target {
  bucket: string | undefined;
  key: string | undefined;
  style: 'path' | 'virtual-hosted';
}

/** Decodes one percent-encoded path; a malformed escape → InvalidURI. */
function decodePath(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw s3error('InvalidURI');
  }
}

function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const i = host.lastIndexOf(':');
  return i >= 0 ? host.slice(0, i) : host;
}

/** Resolves the target of a request from its Host header and raw path. */
export function resolveTarget(hostHeader: string | undefined, rawPath: string, baseDomains: readonly string[]): Target {
  const host = hostWithoutPort((hostHeader ?? '').toLowerCase());
  if (!rawPath.startsWith('/')) throw s3error('InvalidURI');
  for (const base of baseDomains) {
    if (host.length > base.length + 1 && host.endsWith(`.${base}`)) {
      const bucket = host.slice(0, host.length - base.length - 1);
      const keyRaw = rawPath.slice(1);
      return { bucket, key: keyRaw === '' ? undefined : decodePath(keyRaw), style: 'virtual-hosted' };
    }
  }
  const rest = rawPath.slice(1);
  if (rest === '') return { bucket: undefined, key: undefined, style: 'path' };
  const slash = rest.indexOf('/');
  if (slash < 0) return { bucket: decodePath(rest), key: undefined, style: 'path' };
  const bucket = decodePath(rest.slice(0, slash));
  const keyRaw = rest.slice(slash + 1);
  return { bucket, key: keyRaw === '' ? undefined : decodePath(keyRaw), style: 'path' };
}
