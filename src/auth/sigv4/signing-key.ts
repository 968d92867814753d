import { createHmac } from 'node:crypto';

/** The SigV4 credential scope: `<yyyymmdd>/<region>/<service>/aws4_request`. */
export interface CredentialScope {
  date: string;
  region: string;
  service: string;
}

export function scopeString(scope: CredentialScope): string {
  return `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
}

export function hmac(key: Buffer | string, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function deriveSigningKey(secret: string, scope: CredentialScope): Buffer {
  const kDate = hmac(`AWS4${secret}`, scope.date);
  const kRegion = hmac(kDate, scope.region);
  const kService = hmac(kRegion, scope.service);
  return hmac(kService, 'aws4_request');
}
