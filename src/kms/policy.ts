/**
 * Key policies: the two AWS writes itself (a new key's default policy, and the policy of
 * the AWS managed key for S3), and the checks CreateKey/PutKeyPolicy run on one a user sends.
 * A key policy is a resource policy whose Resource is "*" (the key itself); evaluating it is
 * the injected authorizer's business, not this module's.
 */
import type { MetadataStore } from '../storage/ports.js';
import { loadPrincipalIndex } from '../iam/principal-index.js';
import { parsePolicy, POLICY_MESSAGES } from '../iam/policy/parse.js';
import { validatePolicy } from '../iam/policy/validate.js';
import { KmsError } from './errors.js';
import { PARTITION } from './model.js';

/** AWS's key policy document size quota. */
export const MAX_KEY_POLICY_BYTES = 32 * 1024;

/** What KMS calls a key policy that isn't valid JSON. */
const INVALID_JSON = 'The policy is not valid JSON.';
/** KMS's text for a principal that is malformed or does not exist. */
const INVALID_PRINCIPALS = 'Policy contains a statement with one or more invalid principals.';

/**
 * The default key policy of CreateKey without Policy: gives the account (and so, through
 * their IAM policies, its users and roles) full access to the key.
 */
export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:${PARTITION}:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  }, null, 2);
}

/** The S3 endpoint name that kms:ViaService carries for calls S3 makes on a principal's behalf. */
export const s3ViaService = (region: string): string => `s3.${region}.amazonaws.com`;

/**
 * The key policy of the AWS managed key `aws/s3`, as AWS writes it: any principal of the
 * account may use the key, but only through S3 in this region; the account may read the
 * key's metadata directly. Nothing allows managing the key, so users cannot change it.
 */
export function s3ManagedKeyPolicy(accountId: string, region: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'auto-s3-2',
    Statement: [
      {
        Sid: 'Allow access through S3 for all principals in the account that are authorized to use S3',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        Resource: '*',
        Condition: {
          StringEquals: { 'kms:CallerAccount': accountId, 'kms:ViaService': s3ViaService(region) },
        },
      },
      {
        Sid: 'Allow direct access to key metadata to the account',
        Effect: 'Allow',
        Principal: { AWS: `arn:${PARTITION}:iam::${accountId}:root` },
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*'],
        Resource: '*',
      },
    ],
  }, null, 2);
}

const malformed = (message: string): KmsError => new KmsError('MalformedPolicyDocumentException', message);

/**
 * Checks a key policy a user sends: size, JSON and grammar, and the resource-policy rules
 * (Principal required and existing, Resource required). Throws KmsError.
 */
export async function checkKeyPolicy(meta: MetadataStore, text: string): Promise<void> {
  if (Buffer.byteLength(text, 'utf8') > MAX_KEY_POLICY_BYTES) {
    throw new KmsError('LimitExceededException', `The key policy exceeds the maximum size of ${MAX_KEY_POLICY_BYTES} bytes.`);
  }
  const parsed = parsePolicy(text);
  if ('errors' in parsed) {
    const first = parsed.errors[0]?.message;
    throw malformed(first === undefined || first === POLICY_MESSAGES.invalidJson || first === POLICY_MESSAGES.firstByte ? INVALID_JSON : first);
  }
  // A key policy has the shape of an access point policy: Principal and Resource required,
  // no S3-specific resource or action rules. Principals must exist, as AWS requires.
  const principalExists = await loadPrincipalIndex(meta);
  const error = validatePolicy(parsed.ast, { kind: 'access-point', partition: PARTITION, principalExists }).find((f) => f.severity === 'error');
  if (error) throw malformed(error.message === POLICY_MESSAGES.invalidPrincipal ? INVALID_PRINCIPALS : error.message);
}
