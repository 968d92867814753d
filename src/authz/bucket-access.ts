/**
 * Everything about a bucket that authorization reads, loaded once and cached by bucket:
 * its compiled policy (no request re-parses policy JSON), its Object Ownership mode, its
 * ACL, and the Block Public Access setting in force. Writes through the S3 API invalidate
 * the entry (an account-level Block Public Access change clears them all); these only
 * change through that API, so the cache cannot go stale within a server.
 */
import { compilePolicy, type CompiledPolicy } from '../iam/policy/compile.js';
import { parsePolicy } from '../iam/policy/parse.js';
import type { PolicyAst } from '../iam/policy/ast.js';
import type { MetadataStore } from '../storage/ports.js';
import { isPublicPolicy } from '../iam/policy/is-public.js';
import { effectivePublicAccessBlock, type PublicAccessBlock } from './bpa/settings.js';
import type { Acl } from './acl/acl.js';
import { effectiveOwnership, type ObjectOwnership } from './ownership.js';

export interface LoadedPolicy {
  ast: PolicyAst;
  compiled: CompiledPolicy;
  /**
   * RestrictPublicBuckets is in force and the policy is public: its grants reach only the
   * bucket owner's account and AWS service principals.
   */
  restricted: boolean;
}

export interface BucketAccess {
  policy: LoadedPolicy | undefined;
  ownership: ObjectOwnership;
  /** Whether the bucket has Object Ownership controls at all (GetBucketOwnershipControls). */
  ownershipConfigured: boolean;
  /** ACLs take part in decisions: every mode but BucketOwnerEnforced. */
  aclsEnabled: boolean;
  /** The stored bucket ACL; undefined = the default (owner FULL_CONTROL only). */
  acl: Acl | undefined;
  /** The Block Public Access setting in force: bucket OR account level. */
  publicAccessBlock: PublicAccessBlock;
  /** Bucket tags, for aws:ResourceTag/* (attribute-based access control on buckets). */
  tags: Record<string, string>;
  /** The default-encryption document (s3/sse.ts owns its shape); undefined = the default. */
  encryption: string | undefined;
}

const MAX_ENTRIES = 10_000;

export class BucketAccessCache {
  private readonly cache = new Map<string, BucketAccess>();

  constructor(private readonly meta: MetadataStore) {}

  /** Synchronous cache lookup; undefined when not cached. */
  peek(bucket: string): BucketAccess | undefined {
    return this.cache.get(bucket);
  }

  /** The bucket's access state (of an existing bucket). */
  async get(bucket: string): Promise<BucketAccess> {
    const hit = this.cache.get(bucket);
    if (hit !== undefined) return hit;
    const [text, ownershipText, aclText, pab, tagsText, encryption] = await Promise.all([
      this.meta.getBucketConfig(bucket, 'policy'),
      this.meta.getBucketConfig(bucket, 'ownership'),
      this.meta.getBucketConfig(bucket, 'acl'),
      effectivePublicAccessBlock(this.meta, bucket),
      this.meta.getBucketConfig(bucket, 'tagging'),
      this.meta.getBucketConfig(bucket, 'encryption'),
    ]);
    const ownership = effectiveOwnership(ownershipText);
    const entry: BucketAccess = {
      policy: text === undefined ? undefined : load(text, bucket, pab.restrictPublicBuckets),
      ownership,
      ownershipConfigured: ownershipText !== undefined,
      aclsEnabled: ownership !== 'BucketOwnerEnforced',
      acl: aclText === undefined ? undefined : (JSON.parse(aclText) as Acl),
      publicAccessBlock: pab,
      tags: tagsText === undefined ? {} : (JSON.parse(tagsText) as Record<string, string>),
      encryption,
    };
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(bucket, entry);
    return entry;
  }

  invalidate(bucket: string): void {
    this.cache.delete(bucket);
  }

  /** Forgets every entry (an account-level Block Public Access change touches all its buckets). */
  clear(): void {
    this.cache.clear();
  }
}

/** Compiles a stored policy. A stored policy was validated on write; if it no longer parses, fail closed. */
function load(text: string, bucket: string, restrictPublicBuckets: boolean): LoadedPolicy {
  const parsed = parsePolicy(text);
  if (!('ast' in parsed)) throw new Error(`stored bucket policy of ${bucket} does not parse`);
  const ast = parsed.ast;
  return {
    ast,
    compiled: compilePolicy(ast, { policyId: `bucket-policy:${bucket}` }),
    restricted: restrictPublicBuckets && isPublicPolicy(ast, { kind: 'bucket' }).public,
  };
}
