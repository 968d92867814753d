/**
 * `kura org …`: the operator's organization — OUs, member accounts and service control
 * policies. AWS's Organizations API is not served; SCPs still bind requests exactly as on
 * AWS (src/authz/decide.ts), and a running server sees changes within two seconds.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AdminError } from './admin/accounts.js';
import type { ConfigFlags } from './config/config.js';
import { parsePolicy } from './iam/policy/parse.js';
import { validatePolicy } from './iam/policy/validate.js';
import {
  loadOrganization, newOrganization, newOuId, newPolicyId, saveOrganization, FULL_AWS_ACCESS, type Organization,
} from './iam/org/organization.js';
import type { MetadataStore } from './storage/ports.js';

type WithMeta = <T>(flags: ConfigFlags, fn: (d: { meta: MetadataStore }) => Promise<T>) => Promise<T>;
type Out = (json: boolean, value: unknown, text: string) => void;

/** SCPs may be at most 5,120 characters, as in AWS Organizations. */
const MAX_SCP_CHARS = 5120;

async function requireOrg(meta: MetadataStore): Promise<Organization> {
  const org = await loadOrganization(meta);
  if (!org) throw new AdminError('no organization: run `kura org create --management <account>` first');
  return org;
}

function requireTarget(org: Organization, id: string): void {
  if (id !== org.rootId && !org.ous.some((o) => o.id === id) && org.accounts[id] === undefined) {
    throw new AdminError(`no such root, OU or member account: ${id}`);
  }
}

export function addOrgCommands(program: Command, withDataDir: WithMeta, out: Out): void {
  const org = program.command('org').description('organization: OUs, member accounts and service control policies (SCPs)');
  const common = (c: Command): Command => c.option('--data-dir <dir>', 'data directory').option('--config <file>', 'JSON configuration file').option('--json', 'print JSON');

  common(org.command('create').requiredOption('--management <account>', 'the management account (never restricted by SCPs)'))
    .action(async (o: { management: string; json?: boolean } & ConfigFlags) => {
      await withDataDir(o, async ({ meta }) => {
        if (!(await meta.getAccount(o.management))) throw new AdminError(`no such account: ${o.management}`);
        if (await loadOrganization(meta)) throw new AdminError('an organization already exists');
        const created = newOrganization(o.management);
        await saveOrganization(meta, created, 'create');
        out(!!o.json, created, `organization ${created.id}, root ${created.rootId}, management account ${o.management}`);
      });
    });

  common(org.command('show')).action(async (o: { json?: boolean } & ConfigFlags) => {
    await withDataDir(o, async ({ meta }) => {
      const g = await requireOrg(meta);
      const lines = [`organization ${g.id}  root ${g.rootId}  management ${g.managementAccountId}`];
      for (const ou of g.ous) lines.push(`OU ${ou.id} ${ou.name} (parent ${ou.parentId})`);
      for (const [a, parent] of Object.entries(g.accounts)) lines.push(`account ${a} in ${parent}`);
      for (const [t, ps] of Object.entries(g.attachments)) lines.push(`${t}: ${ps.join(', ')}`);
      out(!!o.json, g, lines.join('\n'));
    });
  });

  common(org.command('create-ou').requiredOption('--name <name>', 'OU name').option('--parent <id>', 'parent root or OU (default: the root)'))
    .action(async (o: { name: string; parent?: string; json?: boolean } & ConfigFlags) => {
      await withDataDir(o, async ({ meta }) => {
        const g = await requireOrg(meta);
        const parentId = o.parent ?? g.rootId;
        if (parentId !== g.rootId && !g.ous.some((x) => x.id === parentId)) throw new AdminError(`no such parent: ${parentId}`);
        const ou = { id: newOuId(g), name: o.name, parentId };
        g.ous.push(ou);
        // New OUs get FullAWSAccess, as AWS attaches it by default.
        g.attachments[ou.id] = [FULL_AWS_ACCESS.id];
        await saveOrganization(meta, g, 'replace');
        out(!!o.json, ou, ou.id);
      });
    });

  common(org.command('move-account').argument('<account>', 'account id').requiredOption('--to <id>', 'the root or an OU'))
    .action(async (account: string, o: { to: string; json?: boolean } & ConfigFlags) => {
      await withDataDir(o, async ({ meta }) => {
        const g = await requireOrg(meta);
        if (!(await meta.getAccount(account))) throw new AdminError(`no such account: ${account}`);
        if (o.to !== g.rootId && !g.ous.some((x) => x.id === o.to)) throw new AdminError(`no such root or OU: ${o.to}`);
        if (g.accounts[account] === undefined) g.attachments[account] = [FULL_AWS_ACCESS.id];
        g.accounts[account] = o.to;
        await saveOrganization(meta, g, 'replace');
        out(!!o.json, { account, parent: o.to }, `${account} → ${o.to}`);
      });
    });

  common(org.command('create-policy').requiredOption('--name <name>', 'policy name').requiredOption('--file <file>', 'SCP JSON'))
    .action(async (o: { name: string; file: string; json?: boolean } & ConfigFlags) => {
      let text: string;
      try {
        text = readFileSync(o.file, 'utf8');
      } catch (e) {
        throw new AdminError(`cannot read ${o.file}: ${(e as Error).message}`);
      }
      if (text.replace(/\s/g, '').length > MAX_SCP_CHARS) throw new AdminError(`an SCP may have at most ${MAX_SCP_CHARS} characters`);
      const parsed = parsePolicy(text);
      const errors = 'ast' in parsed ? validatePolicy(parsed.ast, { kind: 'identity' }).filter((f) => f.severity === 'error') : parsed.errors;
      if (errors.length > 0) throw new AdminError(`invalid SCP: ${errors[0]!.message}`);
      await withDataDir(o, async ({ meta }) => {
        const g = await requireOrg(meta);
        if (g.policies.some((p) => p.name.toLowerCase() === o.name.toLowerCase())) throw new AdminError(`a policy named ${o.name} exists`);
        const p = { id: newPolicyId(), name: o.name, document: text };
        g.policies.push(p);
        await saveOrganization(meta, g, 'replace');
        out(!!o.json, { id: p.id, name: p.name }, p.id);
      });
    });

  for (const verb of ['attach-policy', 'detach-policy'] as const) {
    common(org.command(verb).argument('<policy>', 'policy id (p-…)').requiredOption('--target <id>', 'root, OU or account id'))
      .action(async (policyId: string, o: { target: string; json?: boolean } & ConfigFlags) => {
        await withDataDir(o, async ({ meta }) => {
          const g = await requireOrg(meta);
          if (!g.policies.some((p) => p.id === policyId)) throw new AdminError(`no such policy: ${policyId}`);
          requireTarget(g, o.target);
          const list = g.attachments[o.target] ?? [];
          g.attachments[o.target] = verb === 'attach-policy' ? [...new Set([...list, policyId])] : list.filter((x) => x !== policyId);
          await saveOrganization(meta, g, 'replace');
          out(!!o.json, { target: o.target, policies: g.attachments[o.target] }, `${o.target}: ${g.attachments[o.target]!.join(', ') || '(none)'}`);
        });
      });
  }
}
