/**
 * Configuration: loaded and validated once (zod at the boundary), from defaults, an
 * optional JSON file, the environment and command-line flags, in that order of precedence
 * (flags win). Nothing else in Kura reads process.env.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);

export const ConfigSchema = z.object({
  dataDir: z.string().min(1),
  host: z.string().min(1),
  port,
  /** -1 disables the HTTPS listener; 0 picks a free port (tests). */
  httpsPort: z.number().int().min(-1).max(65535),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must look like us-east-1'),
  /** Host names under which `<bucket>.<name>` is virtual-hosted-style addressing. */
  baseDomains: z.array(z.string().min(1)).default(['localhost']),
  tls: z.object({ certFile: z.string(), keyFile: z.string() }).optional(),
  /** Base64 of a 256-bit master key given by configuration instead of the key file. */
  masterKey: z.string().optional(),
  rootAccessKeyId: z.string().regex(/^[A-Z0-9]{16,128}$/, 'must be 16-128 upper-case letters and digits').optional(),
  rootSecretAccessKey: z.string().min(16).max(128).optional(),
  /** Signature Version 2 is off by default: it is weaker (SHA-1, no scope). */
  allowSigV2: z.boolean().default(false),
  /**
   * Testing only: accept SSE-C keys and SSE-KMS requests over plain HTTP. AWS refuses both
   * without TLS; turning this on sends customer keys in clear over the network.
   */
  allowSseOverHttp: z.boolean().default(false),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /**
   * Identity-token issuers AssumeRoleWithWebIdentity trusts, each with a file holding its
   * public signing keys (a JWKS, as served at the issuer's jwks_uri). Kura never fetches
   * keys over the network; an issuer not listed here is refused (src/iam/sts/web-identity.ts).
   */
  oidcIssuers: z.array(z.object({ issuer: z.string().url().startsWith('https://'), jwksFile: z.string().min(1) }).strict()).default([]),
  /** Largest single PUT (S3: 5 GiB). */
  maxObjectSize: z.number().int().positive().default(5 * 1024 ** 3),
  /**
   * What a bucket gets when CreateBucket does not say: S3's defaults since April 2023
   * (ACLs disabled, all four Block Public Access settings on). Sites migrating clients
   * that rely on ACLs may choose e.g. ObjectWriter and `blockPublicAccess: false` — at the
   * risk of buckets and objects being made public by ACL. Account-level Block Public
   * Access still applies on top.
   */
  newBuckets: z.object({
    objectOwnership: z.enum(['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter']).default('BucketOwnerEnforced'),
    /** The bucket-level Block Public Access a new bucket gets; false = none. */
    blockPublicAccess: z.union([
      z.literal(false),
      z.object({
        blockPublicAcls: z.boolean(), ignorePublicAcls: z.boolean(), blockPublicPolicy: z.boolean(), restrictPublicBuckets: z.boolean(),
      }).strict(),
    ]).default({ blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true }),
  }).strict().default({ objectOwnership: 'BucketOwnerEnforced', blockPublicAccess: { blockPublicAcls: true, ignorePublicAcls: true, blockPublicPolicy: true, restrictPublicBuckets: true } }),
}).strict();

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Flags as commander hands them over (strings or numbers, all optional). */
export interface ConfigFlags {
  dataDir?: string;
  host?: string;
  port?: number;
  httpsPort?: number;
  region?: string;
  config?: string;
}

const DEFAULTS = {
  dataDir: './data',
  host: '127.0.0.1',
  port: 9000,
  httpsPort: 9443,
  region: 'us-east-1',
};

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (env.KURA_DATA_DIR) out.dataDir = env.KURA_DATA_DIR;
  if (env.KURA_ROOT_ACCESS_KEY_ID) out.rootAccessKeyId = env.KURA_ROOT_ACCESS_KEY_ID;
  if (env.KURA_ROOT_SECRET_ACCESS_KEY) out.rootSecretAccessKey = env.KURA_ROOT_SECRET_ACCESS_KEY;
  if (env.KURA_MASTER_KEY) out.masterKey = env.KURA_MASTER_KEY;
  if (env.KURA_LOG_LEVEL) out.logLevel = env.KURA_LOG_LEVEL;
  if (env.KURA_ALLOW_SIGV2) out.allowSigV2 = env.KURA_ALLOW_SIGV2 === 'true';
  return out;
}

/** Builds the configuration; any invalid value → ConfigError naming the field. */
export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): Config {
  let file: Record<string, unknown> = {};
  if (flags.config) {
    try {
      file = JSON.parse(readFileSync(flags.config, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`cannot read config file ${flags.config}: ${(e as Error).message}`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new ConfigError(`config file ${flags.config} must hold a JSON object`);
  }
  const cli: Record<string, unknown> = {};
  for (const k of ['dataDir', 'host', 'port', 'httpsPort', 'region'] as const) {
    if (flags[k] !== undefined) cli[k] = flags[k];
  }
  const merged = { ...DEFAULTS, ...file, ...fromEnv(env), ...cli };
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${msg}`);
  }
  const c = parsed.data;
  if ((c.rootAccessKeyId === undefined) !== (c.rootSecretAccessKey === undefined)) {
    throw new ConfigError('KURA_ROOT_ACCESS_KEY_ID and KURA_ROOT_SECRET_ACCESS_KEY must be given together');
  }
  return { ...c, dataDir: resolve(c.dataDir) };
}
