/**
 * The `kura` command: `kura server` and the admin commands that provision accounts and
 * keys before the IAM API exists. Admin commands work on the data directory directly
 * (SQLite in WAL mode lets them run next to a live server).
 */
import { Command, InvalidArgumentError } from 'commander';
import { createAccessKey, createAccount, findAccount, AdminError } from './admin/accounts.js';
import { ConfigError, loadConfig, type ConfigFlags } from './config/config.js';
import { openDataDir, StartupError } from './data-dir.js';
import { startKura } from './main.js';
import { addPolicyCommands } from './cli-policy.js';
import { addOrgCommands } from './cli-org.js';
import { BucketAccessCache } from './authz/bucket-access.js';
import { isPublicAcl } from './authz/acl/acl.js';
import { isPublicPolicy } from './iam/policy/is-public.js';

const EXIT_USAGE = 2;

function intArg(name: string) {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer`);
    return Number(v);
  };
}

function out(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}

async function withDataDir<T>(flags: ConfigFlags, fn: (d: Awaited<ReturnType<typeof openDataDir>>) => Promise<T>): Promise<T> {
  const config = loadConfig(flags);
  const d = await openDataDir(config.dataDir, { masterKey: config.masterKey, create: true });
  try {
    return await fn(d);
  } finally {
    await d.meta.close();
  }
}

export function buildCli(): Command {
  const program = new Command('kura').description('Kura: an S3-compatible object store with S3\'s security model').exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program.command('server')
    .description('start the S3 server (HTTP and HTTPS) on the embedded default storage')
    .option('--data-dir <dir>', 'data directory (default ./data)')
    .option('--port <port>', 'HTTP port (default 9000)', intArg('--port'))
    .option('--https-port <port>', 'HTTPS port (default 9443; -1 disables)', intArg('--https-port'))
    .option('--host <host>', 'listen address (default 127.0.0.1)')
    .option('--region <region>', 'region (default us-east-1)')
    .option('--config <file>', 'JSON configuration file')
    .action(async (flags: ConfigFlags) => {
      const config = loadConfig(flags);
      const kura = await startKura(config);
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      process.stdout.write(`Kura listening on http://${host}:${kura.server.httpPort}`
        + (kura.server.httpsPort !== null ? ` and https://${host}:${kura.server.httpsPort}` : '')
        + `\nregion ${config.region}; root access key ${kura.rootAccessKeyId}`
        + (config.rootAccessKeyId ? '' : ` (secret in ${config.dataDir}/root-credentials.json)`) + '\n');
      const stop = (): void => {
        kura.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  const account = program.command('account').description('manage accounts (tenants)');
  account.command('create')
    .requiredOption('--name <name>', 'account name')
    .option('--email <email>', 'email address (for ACL grants by email)')
    .option('--access-key-id <id>', 'fixed access key id for the account root')
    .option('--secret-access-key <secret>', 'fixed secret for that key')
    .option('--json', 'print JSON')
    .option('--data-dir <dir>', 'data directory')
    .option('--config <file>', 'JSON configuration file')
    .action(async (o: { name: string; email?: string; accessKeyId?: string; secretAccessKey?: string; json?: boolean } & ConfigFlags) => {
      if ((o.accessKeyId === undefined) !== (o.secretAccessKey === undefined)) throw new AdminError('--access-key-id and --secret-access-key go together');
      await withDataDir(o, async ({ meta, keyring }) => {
        const key = o.accessKeyId ? { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey! } : undefined;
        const { account: a, key: k } = await createAccount(meta, keyring, { name: o.name, ...(o.email ? { email: o.email } : {}), ...(key ? { key } : {}) });
        out(!!o.json, { accountId: a.id, name: a.name, canonicalUserId: a.canonicalId, accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey },
          `account ${a.name} ${a.id}\ncanonical user id ${a.canonicalId}\naccess key ${k.accessKeyId}\nsecret ${k.secretAccessKey}`);
      });
    });
  account.command('list')
    .option('--json', 'print JSON')
    .option('--data-dir <dir>', 'data directory')
    .option('--config <file>', 'JSON configuration file')
    .action(async (o: { json?: boolean } & ConfigFlags) => {
      await withDataDir(o, async ({ meta }) => {
        const list = await meta.listAccounts();
        out(!!o.json, list.map((a) => ({ accountId: a.id, name: a.name, canonicalUserId: a.canonicalId, email: a.email, createdAt: a.createdAt })),
          list.map((a) => `${a.id}  ${a.name}`).join('\n'));
      });
    });

  const key = program.command('access-key').description('manage an account root\'s access keys');
  key.command('create')
    .requiredOption('--account <idOrName>', 'account id or name')
    .option('--access-key-id <id>', 'fixed access key id')
    .option('--secret-access-key <secret>', 'fixed secret')
    .option('--json', 'print JSON')
    .option('--data-dir <dir>', 'data directory')
    .option('--config <file>', 'JSON configuration file')
    .action(async (o: { account: string; accessKeyId?: string; secretAccessKey?: string; json?: boolean } & ConfigFlags) => {
      await withDataDir(o, async ({ meta, keyring }) => {
        const a = await findAccount(meta, o.account);
        const k = await createAccessKey(meta, keyring, a.id, { ...(o.accessKeyId ? { accessKeyId: o.accessKeyId } : {}), ...(o.secretAccessKey ? { secretAccessKey: o.secretAccessKey } : {}) });
        out(!!o.json, { accountId: a.id, accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey }, `access key ${k.accessKeyId}\nsecret ${k.secretAccessKey}`);
      });
    });
  key.command('list')
    .requiredOption('--account <idOrName>', 'account id or name')
    .option('--json', 'print JSON')
    .option('--data-dir <dir>', 'data directory')
    .option('--config <file>', 'JSON configuration file')
    .action(async (o: { account: string; json?: boolean } & ConfigFlags) => {
      await withDataDir(o, async ({ meta }) => {
        const a = await findAccount(meta, o.account);
        const keys = await meta.listAccessKeys(a.id);
        out(!!o.json, keys.map((k) => ({ accessKeyId: k.accessKeyId, status: k.status, createdAt: k.createdAt })), keys.map((k) => `${k.accessKeyId}  ${k.status}`).join('\n'));
      });
    });
  key.command('delete')
    .argument('<accessKeyId>')
    .option('--data-dir <dir>', 'data directory')
    .option('--config <file>', 'JSON configuration file')
    .action(async (id: string, o: ConfigFlags) => {
      await withDataDir(o, async ({ meta }) => {
        if (!(await meta.deleteAccessKey(id))) throw new AdminError(`no such access key: ${id}`);
        process.stdout.write(`deleted ${id}\n`);
      });
    });

  program.command('bucket').description('inspect buckets').command('list')
    .description('every bucket with its owner, effective Block Public Access, ownership mode and whether its policy is public (and why)')
    .option('--json', 'print JSON')
    .option('--data-dir <dir>', 'data directory')
    .option('--config <file>', 'JSON configuration file')
    .action(async (o: { json?: boolean } & ConfigFlags) => {
      await withDataDir(o, async ({ meta }) => {
        const rows = [];
        const cache = new BucketAccessCache(meta);
        for (const b of await meta.listBuckets()) {
          const a = await cache.get(b.name);
          const bpa = a.publicAccessBlock;
          const pub = a.policy ? isPublicPolicy(a.policy.ast, { kind: 'bucket' }) : undefined;
          const aclPublic = a.acl !== undefined && isPublicAcl(a.acl);
          // Public in effect: what Block Public Access and the ownership mode leave standing.
          const because: string[] = [];
          if (pub?.public && !bpa.restrictPublicBuckets) because.push(...pub.reasons.map((w) => `policy statement ${w.statement}: ${w.why}`));
          if (aclPublic && a.aclsEnabled && !bpa.ignorePublicAcls) because.push('bucket ACL grants AllUsers or AuthenticatedUsers');
          rows.push({
            bucket: b.name, owner: b.accountId, region: b.region, versioning: b.versioning,
            objectOwnership: a.ownershipConfigured ? a.ownership : `${a.ownership} (no ownership controls)`,
            blockPublicAccess: bpa, policyIsPublic: pub?.public ?? false, why: pub?.reasons ?? [], aclIsPublic: aclPublic,
            public: because.length > 0, publicBecause: because,
          });
        }
        out(!!o.json, rows, rows.map((r) => {
          const flags = Object.entries(r.blockPublicAccess).filter(([, v]) => v).map(([k]) => k).join(',') || 'none';
          const blocked = !r.public && (r.policyIsPublic || r.aclIsPublic) ? 'not public (public grants blocked by Block Public Access or ownership)' : 'not public';
          return `${r.bucket}  owner ${r.owner}  ${r.objectOwnership}  BPA ${flags}  ${r.public ? `PUBLIC (${r.publicBecause.join('; ')})` : blocked}`;
        }).join('\n'));
      });
    });

  addPolicyCommands(program);
  addOrgCommands(program, withDataDir, out);

  program.command('key-rotate')
    .description('add a new service master key and make it active (old keys stay to unwrap existing data)')
    .option('--data-dir <dir>', 'data directory')
    .option('--config <file>', 'JSON configuration file')
    .action(async (o: ConfigFlags) => {
      const config = loadConfig(o);
      if (config.masterKey) throw new AdminError('the master key is given by configuration; rotate it there');
      await withDataDir(o, async ({ keyring }) => {
        const id = await keyring.rotate(`${config.dataDir}/keys/master.json`);
        process.stdout.write(`active master key is now ${id}\n`);
      });
    });
  return program;
}

/** Runs the CLI; known user errors print one line and exit 2. */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      process.exit(err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : EXIT_USAGE);
    }
    if (e instanceof ConfigError || e instanceof AdminError || e instanceof StartupError) {
      process.stderr.write(`kura: ${e.message}\n`);
      process.exit(EXIT_USAGE);
    }
    process.stderr.write(`kura: ${err.message ?? String(e)}\n`);
    process.exit(1);
  }
}
