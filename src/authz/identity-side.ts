/**
 * The caller's own side of a decision, loaded and compiled once and cached: identity
 * policies (a user's and its groups', or a role's), the permissions boundary, the
 * principal's tags, session policies, and the SCPs of its organization. IAM writes clear
 * the cache (IamService's onChange); organization changes made by `kura org` from another
 * process reach a running server within ORG_TTL_MS.
 */
import type { SignedPrincipal } from '../auth/principal.js';
import { compilePolicy } from '../iam/policy/compile.js';
import { parsePolicy } from '../iam/policy/parse.js';
import type { ContextValue } from '../iam/policy/request.js';
import { loadOrganization, orgPath, scpLevelsFor, type Organization } from '../iam/org/organization.js';
import type { MetadataStore } from '../storage/ports.js';
import type { Clock } from '../util/clock.js';
import type { IdentitySide, NamedPolicy } from './decide.js';

export interface PolicyText {
  id: string;
  document: string;
}

/** Reads what IAM stores about a user or role (src/iam/service). */
export interface IdentityLoader {
  load(accountId: string, who: { kind: 'user' | 'role'; name: string }): Promise<{ policies: PolicyText[]; boundary?: PolicyText; tags: Record<string, string>; id?: string } | undefined>;
  /** A managed policy's default version (session PolicyArns), AWS-managed ones included. */
  managedPolicy(accountId: string, arn: string): Promise<string | undefined>;
}

export interface LoadedIdentity {
  side: IdentitySide;
  /** Context keys the identity adds: aws:PrincipalTag/*, aws:PrincipalOrgID, aws:PrincipalOrgPaths. */
  context: Map<string, ContextValue>;
}

const ORG_TTL_MS = 2_000;
const ROOT_SIDE: LoadedIdentity = { side: { policies: [] }, context: new Map() };
const MAX_ENTRIES = 10_000;

/** Stored policies were validated on write; one that no longer parses fails closed. */
function compile(p: PolicyText): NamedPolicy {
  const parsed = parsePolicy(p.document);
  if (!('ast' in parsed)) throw new Error(`stored policy ${p.id} does not parse`);
  return { id: p.id, compiled: compilePolicy(parsed.ast, { policyId: p.id }) };
}

export class IdentityCache {
  private readonly principals = new Map<string, { policies: NamedPolicy[]; boundary?: NamedPolicy; tags: Record<string, string>; id?: string } | null>();
  private readonly compiled = new Map<string, NamedPolicy>();
  private org: { value: Organization | undefined; at: number } | undefined;

  constructor(private readonly meta: MetadataStore, private readonly loader: IdentityLoader, private readonly clock: Clock) {}

  /** Forgets everything (any IAM change). */
  clear(): void {
    this.principals.clear();
    this.compiled.clear();
  }

  /**
   * The common case without a turn of the event loop: a root key without a session, and no
   * organization (fresh cache). undefined = ask sideFor().
   */
  peekRoot(p: SignedPrincipal): LoadedIdentity | undefined {
    if (p.kind !== 'account-root' || p.session || !this.org || this.clock.now().getTime() - this.org.at >= ORG_TTL_MS) return undefined;
    return !this.org.value || this.org.value.accounts[p.accountId] === undefined ? ROOT_SIDE : undefined;
  }

  /** The caller's side; undefined when its user or role no longer exists (fail closed: deny). */
  async sideFor(p: SignedPrincipal): Promise<LoadedIdentity | undefined> {
    if (p.kind === 'account-root' && !p.session) {
      // The common case (a root key, no organization) allocates nothing.
      const org = await this.organization();
      if (!org || org.accounts[p.accountId] === undefined) return ROOT_SIDE;
    }
    const context = new Map<string, ContextValue>();
    const side: IdentitySide = { policies: [] };
    let tags: Record<string, string> = {};
    if (p.kind === 'iam-user' || p.kind === 'assumed-role') {
      const who = p.kind === 'iam-user' ? { kind: 'user' as const, name: p.userName } : { kind: 'role' as const, name: p.roleName };
      const key = `${p.accountId}\u0000${who.kind}\u0000${who.name.toLowerCase()}`;
      let entry = this.principals.get(key);
      if (entry === undefined) {
        const loaded = await this.loader.load(p.accountId, who);
        entry = loaded ? { policies: loaded.policies.map(compile), ...(loaded.boundary ? { boundary: compile(loaded.boundary) } : {}), tags: loaded.tags, ...(loaded.id !== undefined ? { id: loaded.id } : {}) } : null;
        if (this.principals.size >= MAX_ENTRIES) this.principals.clear();
        this.principals.set(key, entry);
      }
      if (entry === null) return undefined;
      // Credentials of a deleted user or role must not inherit a new one of the same name.
      const expectedId = p.kind === 'iam-user' ? p.userId : p.roleId;
      if (entry.id !== undefined && entry.id !== expectedId) return undefined;
      side.policies = entry.policies;
      if (entry.boundary) side.boundary = entry.boundary;
      tags = Object.fromEntries(Object.entries(entry.tags));
    }
    const s = p.session;
    if (s) {
      const texts: PolicyText[] = [];
      if (s.policy !== undefined) texts.push({ id: 'session policy', document: s.policy });
      for (const arn of s.policyArns ?? []) {
        const doc = await this.loader.managedPolicy(p.accountId, arn);
        // A session policy that has since been deleted grants nothing.
        texts.push({ id: `session policy ${arn}`, document: doc ?? '{"Version":"2012-10-17","Statement":[]}' });
      }
      if (texts.length > 0) side.sessionPolicies = texts.map((t) => this.compileCached(t));
      // Session tags override the role's tags of the same key (case-insensitively).
      const sessionKeys = new Set(Object.keys(s.tags ?? {}).map((k) => k.toLowerCase()));
      tags = Object.fromEntries([...Object.entries(tags).filter(([k]) => !sessionKeys.has(k.toLowerCase())), ...Object.entries(s.tags ?? {})]);
    }
    for (const [k, v] of Object.entries(tags)) context.set(`aws:principaltag/${k.toLowerCase()}`, v);
    const org = await this.organization();
    if (org && org.accounts[p.accountId] !== undefined) {
      context.set('aws:principalorgid', org.id);
      const path = orgPath(org, p.accountId);
      if (path) context.set('aws:principalorgpaths', [path]);
      const levels = scpLevelsFor(org, p.accountId);
      if (levels) side.scpLevels = levels.map((level) => level.map((t) => this.compileCached(t)));
    }
    return { side, context };
  }

  /** orgIdOf without a turn of the event loop: null = no organization, undefined = not cached. */
  peekOrgId(accountId: string): string | null | undefined {
    if (!this.org || this.clock.now().getTime() - this.org.at >= ORG_TTL_MS) return undefined;
    const org = this.org.value;
    return org && org.accounts[accountId] !== undefined ? org.id : null;
  }

  /** The organization id an account belongs to (aws:ResourceOrgID), if any. */
  async orgIdOf(accountId: string): Promise<string | undefined> {
    const org = await this.organization();
    return org && org.accounts[accountId] !== undefined ? org.id : undefined;
  }

  private compileCached(t: PolicyText): NamedPolicy {
    const key = `${t.id}\u0000${t.document}`;
    let c = this.compiled.get(key);
    if (!c) {
      c = compile(t);
      if (this.compiled.size >= MAX_ENTRIES) this.compiled.clear();
      this.compiled.set(key, c);
    }
    return c;
  }

  private async organization(): Promise<Organization | undefined> {
    const now = this.clock.now().getTime();
    if (this.org && now - this.org.at < ORG_TTL_MS) return this.org.value;
    const value = await loadOrganization(this.meta);
    this.org = { value, at: now };
    return value;
  }
}
