/**
 * Bucket policies, parsed and compiled once when stored or first used and then cached by
 * bucket: no request re-parses policy JSON. Writes through the S3 API invalidate the entry;
 * policies only change through that API, so the cache cannot go stale within a server.
 */
import { compilePolicy, type CompiledPolicy } from '../iam/policy/compile.js';
import { parsePolicy } from '../iam/policy/parse.js';
import type { PolicyAst } from '../iam/policy/ast.js';
import type { MetadataStore } from '../storage/ports.js';
import { isPublicPolicy } from '../iam/policy/is-public.js';
import { effectivePublicAccessBlock } from './bpa/settings.js';

export interface LoadedPolicy {
  ast: PolicyAst;
  compiled: CompiledPolicy;
  /** Whether any statement reads s3:ExistingObjectTag/* (so object tags must be loaded). */
  usesObjectTags: boolean;
  /**
   * RestrictPublicBuckets is in force and the policy is public: its grants reach only the
   * bucket owner's account and AWS service principals (cached with the policy; changing
   * either the policy or Block Public Access invalidates the entry).
   */
  restricted: boolean;
}

const MAX_ENTRIES = 10_000;

export class BucketPolicies {
  private readonly cache = new Map<string, LoadedPolicy | null>();

  constructor(private readonly meta: MetadataStore) {}

  /** Synchronous cache lookup: the policy, null when the bucket has none, undefined when not cached. */
  peek(bucket: string): LoadedPolicy | null | undefined {
    return this.cache.get(bucket);
  }

  /** The bucket's compiled policy, or undefined when it has none. */
  async get(bucket: string): Promise<LoadedPolicy | undefined> {
    const hit = this.cache.get(bucket);
    if (hit !== undefined) return hit ?? undefined;
    const text = await this.meta.getBucketConfig(bucket, 'policy');
    const loaded = text === undefined ? null : load(text, bucket, (await effectivePublicAccessBlock(this.meta, bucket)).restrictPublicBuckets);
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(bucket, loaded);
    return loaded ?? undefined;
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
    usesObjectTags: ast.statements.some((s) => s.conditions.some((c) => c.keyLower.startsWith('s3:existingobjecttag/'))),
    restricted: restrictPublicBuckets && isPublicPolicy(ast, { kind: 'bucket' }).public,
  };
}
