/**
 * `kura policy validate` and `kura policy simulate`: the operator's view of a decision,
 * offline, with the same parser, validator and decide() the server runs.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AdminError } from './admin/accounts.js';
import type { Principal } from './auth/principal.js';
import type { Check } from './authz/actions.js';
import { decide } from './authz/decide.js';
import { compilePolicy } from './iam/policy/compile.js';
import { parsePolicy } from './iam/policy/parse.js';
import { validatePolicy, type ValidationContext } from './iam/policy/validate.js';
import type { ContextValue } from './iam/policy/request.js';

function readPolicy(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new AdminError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

function bucketOfArn(arn: string): string | undefined {
  const m = /^arn:aws:s3:::([^/]+)/.exec(arn);
  return m ? m[1] : undefined;
}

/** Principal from an ARN or account id: `*`/anonymous, `123456789012`, `arn:aws:iam::123456789012:root`. */
function parsePrincipal(s: string): Principal {
  if (s === 'anonymous' || s === '*') return { kind: 'anonymous' };
  const m = /^(?:arn:aws:iam::)?(\d{12})(?::root)?$/.exec(s);
  if (!m) throw new AdminError(`unsupported --principal ${s}: use anonymous, an account id or arn:aws:iam::<account>:root (users and roles arrive with IAM)`);
  return { kind: 'account-root', accountId: m[1]!, canonicalId: '', accessKeyId: '' };
}

/** Registers the `policy` command group. */
export function addPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('validate and simulate policies offline');
  policy.command('validate')
    .argument('<file>', 'policy JSON file')
    .option('--bucket <name>', 'validate as the bucket policy of this bucket (default: an identity policy)')
    .option('--json', 'print JSON')
    .action((file: string, o: { bucket?: string; json?: boolean }) => {
      const parsed = parsePolicy(readPolicy(file));
      const ctx: ValidationContext = o.bucket ? { kind: 'bucket', bucket: o.bucket } : { kind: 'identity' };
      const findings = 'ast' in parsed ? validatePolicy(parsed.ast, ctx) : parsed.errors;
      if (o.json) process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
      else if (findings.length === 0) process.stdout.write('no findings\n');
      else for (const f of findings) process.stdout.write(`${f.severity.padEnd(16)} ${f.pointer || '/'}  ${f.message}\n`);
      if (findings.some((f) => f.severity === 'error')) process.exitCode = 1;
    });
  policy.command('simulate')
    .requiredOption('--policy <file>', 'bucket policy JSON file')
    .requiredOption('--principal <arn>', 'caller: anonymous, an account id or arn:aws:iam::<account>:root')
    .requiredOption('--action <action>', 'e.g. s3:GetObject')
    .requiredOption('--resource <arn>', 'e.g. arn:aws:s3:::bucket/key')
    .option('--owner <account>', 'account that owns the bucket (default: the principal\'s account)')
    .option('--context <key=value...>', 'condition keys, e.g. aws:SourceIp=10.1.2.3 (repeat a key for multiple values)')
    .option('--json', 'print JSON')
    .action((o: { policy: string; principal: string; action: string; resource: string; owner?: string; context?: string[]; json?: boolean }) => {
      const parsed = parsePolicy(readPolicy(o.policy));
      if (!('ast' in parsed)) throw new AdminError(`policy does not parse: ${parsed.errors[0]?.message}`);
      const principal = parsePrincipal(o.principal);
      const bucket = bucketOfArn(o.resource);
      if (!bucket) throw new AdminError('--resource must be an S3 ARN (arn:aws:s3:::bucket[/key])');
      const owner = o.owner ?? (principal.kind === 'account-root' ? principal.accountId : undefined);
      if (!owner || !/^\d{12}$/.test(owner)) throw new AdminError('--owner <12-digit account> is needed for an anonymous principal');
      const context = new Map<string, ContextValue>();
      for (const kv of o.context ?? []) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new AdminError(`--context ${kv}: expected key=value`);
        const k = kv.slice(0, eq).toLowerCase();
        const v = kv.slice(eq + 1);
        const prev = context.get(k);
        context.set(k, prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev as string]), v]);
      }
      context.set('aws:resourceaccount', owner);
      context.set('s3:resourceaccount', owner);
      const check: Check = { action: o.action, resource: o.resource, bucket };
      const decision = decide({
        principal,
        checks: [check],
        bucketOwners: new Map([[bucket, owner]]),
        bucketPolicies: new Map([[bucket, compilePolicy(parsed.ast, { policyId: o.policy })]]),
        context,
      });
      if (o.json) process.stdout.write(`${JSON.stringify(decision, null, 2)}\n`);
      else {
        process.stdout.write(`${decision.effect}\n`);
        for (const t of decision.trace) process.stdout.write(`  [${t.layer}] ${t.check}: ${t.effect} — ${t.reason}\n`);
      }
      if (decision.effect !== 'Allow') process.exitCode = 3;
    });
}
