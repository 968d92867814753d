/**
 * The IAM service model (actions, resource types, condition keys and their types) for the
 * services Kura speaks: s3, and iam/sts/kms for later. Data: data/iam-model.json, generated
 * from the Service Authorization Reference by scripts/gen-iam-model.mjs — never edited by hand.
 * Lookups are case-insensitive like IAM's names; answers use the SAR's canonical spelling.
 * Pure: the JSON is a module import, no I/O at run time.
 */
import model from './data/iam-model.json' with { type: 'json' };

/** SAR condition key types: String, Numeric, Date, Bool, ARN, IPAddress, ArrayOfString, … */
export type ConditionKeyType = string;

export interface ActionResourceType {
  name: string;
  required: boolean;
}

export interface ActionInfo {
  /** Canonical `service:Name`, e.g. `s3:GetObject`. */
  action: string;
  service: string;
  name: string;
  /** SAR access level, e.g. `Read`, `List`, `Permissions management, Write`. */
  accessLevel: string;
  resourceTypes: readonly ActionResourceType[];
  /** Keys of the action itself (and of its per-resource-type entries), canonical spelling. */
  conditionKeys: readonly string[];
}

export interface ResourceTypeInfo {
  service: string;
  name: string;
  /** e.g. `arn:${Partition}:s3:::${BucketName}`. */
  arnTemplate: string;
  conditionKeys: readonly string[];
}

interface RawAction { accessLevel: string; resourceTypes: ActionResourceType[]; conditionKeys: string[] }
interface RawService {
  actions: Record<string, RawAction>;
  resourceTypes: Record<string, { arnTemplate: string; conditionKeys: string[] }>;
  conditionKeys: Record<string, string>;
}
interface RawModel {
  source: { package: string; version: string; dataUpdatedAt: string; generator: string };
  services: Record<string, RawService>;
  globalConditionKeys: Record<string, string>;
}

const raw = model as RawModel;

/** Where the model came from (package and data version), for diagnostics. */
export const MODEL_SOURCE: Readonly<RawModel['source']> = raw.source;

// ---- indexes, built once at module load -------------------------------------------------

const actionsByService = new Map<string, Map<string, ActionInfo>>();
const allActions: ActionInfo[] = [];
const resourceTypes = new Map<string, ResourceTypeInfo>(); // key: `service:name` lower-case

for (const [service, s] of Object.entries(raw.services)) {
  const m = new Map<string, ActionInfo>();
  for (const [name, a] of Object.entries(s.actions)) {
    const info: ActionInfo = {
      action: `${service}:${name}`, service, name,
      accessLevel: a.accessLevel, resourceTypes: a.resourceTypes, conditionKeys: a.conditionKeys,
    };
    m.set(name.toLowerCase(), info);
    allActions.push(info);
  }
  actionsByService.set(service, m);
  for (const [name, r] of Object.entries(s.resourceTypes)) {
    resourceTypes.set(`${service}:${name}`.toLowerCase(), { service, name, arnTemplate: r.arnTemplate, conditionKeys: r.conditionKeys });
  }
}

/** A condition key name as a matcher: `${X}` / `<x>` parts are templates (one or more characters). */
interface KeyEntry { canonical: string; type: ConditionKeyType; global: boolean; pattern: RegExp | null }

const isTemplate = (k: string): boolean => /\$\{[^}]*\}|<[^>]*>/.test(k);
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const templateCache = new Map<string, RegExp>();
function templateRegExp(k: string): RegExp {
  const cached = templateCache.get(k);
  if (cached) return cached;
  const parts = k.split(/\$\{[^}]*\}|<[^>]*>/);
  const re = new RegExp(`^${parts.map(escapeRe).join('.+')}$`, 'i');
  templateCache.set(k, re);
  return re;
}

const exactKeys = new Map<string, KeyEntry>();
const templateKeys: KeyEntry[] = [];
function addKey(canonical: string, type: string, global: boolean): void {
  const entry: KeyEntry = { canonical, type, global, pattern: isTemplate(canonical) ? templateRegExp(canonical) : null };
  if (entry.pattern) {
    if (!templateKeys.some((e) => e.canonical.toLowerCase() === canonical.toLowerCase())) templateKeys.push(entry);
  } else if (!exactKeys.has(canonical.toLowerCase())) {
    exactKeys.set(canonical.toLowerCase(), entry);
  }
}
// Global keys first: their types win over a service's copy of the same aws: key.
for (const [k, t] of Object.entries(raw.globalConditionKeys)) addKey(k, t, true);
for (const s of Object.values(raw.services)) for (const [k, t] of Object.entries(s.conditionKeys)) addKey(k, t, false);

function keyEntry(key: string): KeyEntry | undefined {
  const exact = exactKeys.get(key.toLowerCase());
  if (exact) return exact;
  // Longest template first so `s3:ExistingObjectTag/<key>` beats any shorter look-alike.
  let best: KeyEntry | undefined;
  for (const e of templateKeys) {
    if (e.pattern!.test(key) && (!best || e.canonical.length > best.canonical.length)) best = e;
  }
  return best;
}

// ---- actions ----------------------------------------------------------------------------

/** Services present in the model (`s3`, `iam`, `sts`, `kms`). */
export function knownServices(): string[] {
  return [...actionsByService.keys()];
}

/** True if `service:name` is an action of the model (case-insensitive, no wildcards). */
export function isKnownAction(service: string, name: string): boolean {
  return actionsByService.get(service.toLowerCase())?.has(name.toLowerCase()) ?? false;
}

/** Details of one action given as `service:Name` (case-insensitive), or undefined. */
export function actionInfo(action: string): ActionInfo | undefined {
  const i = action.indexOf(':');
  if (i < 0) return undefined;
  return actionsByService.get(action.slice(0, i).toLowerCase())?.get(action.slice(i + 1).toLowerCase());
}

/**
 * Case-insensitive IAM glob match (`*` any run, `?` one character). The classic two-pointer
 * algorithm, O(n·m): a RegExp built from a hostile `a*a*a*…b` pattern could backtrack
 * exponentially, and Action patterns come from users.
 */
export function globMatchIgnoreCase(glob: string, text: string): boolean {
  const g = glob.toLowerCase();
  const t = text.toLowerCase();
  let gi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (gi < g.length && (g[gi] === '?' || (g[gi] !== '*' && g[gi] === t[ti]))) { gi++; ti++; }
    else if (gi < g.length && g[gi] === '*') { star = gi++; mark = ti; }
    else if (star >= 0) { gi = star + 1; ti = ++mark; }
    else return false;
  }
  while (gi < g.length && g[gi] === '*') gi++;
  return gi === g.length;
}

/**
 * Every model action an Action pattern covers, canonical `service:Name`:
 * `s3:Get*` → GetObject, GetBucketPolicy, …; `*` → every action of every modelled service.
 * The service part takes no wildcards (IAM has none there); unknown service → [].
 */
export function expandActionPattern(pattern: string): string[] {
  if (pattern === '*') return allActions.map((a) => a.action);
  const i = pattern.indexOf(':');
  if (i < 0) return [];
  const m = actionsByService.get(pattern.slice(0, i).toLowerCase());
  if (!m) return [];
  const glob = pattern.slice(i + 1);
  return [...m.values()].filter((a) => globMatchIgnoreCase(glob, a.name)).map((a) => a.action);
}

/** Resource types an action applies to, with their ARN templates; [] for `Resource: "*"`-only actions. */
export function actionResourceTypes(action: string): (ActionResourceType & { arnTemplate: string })[] {
  const a = actionInfo(action);
  if (!a) return [];
  return a.resourceTypes.map((r) => ({
    ...r,
    arnTemplate: resourceTypes.get(`${a.service}:${r.name}`.toLowerCase())?.arnTemplate ?? '',
  }));
}

/** One resource type of a service, or undefined. */
export function resourceTypeInfo(service: string, name: string): ResourceTypeInfo | undefined {
  return resourceTypes.get(`${service}:${name}`.toLowerCase());
}

// ---- condition keys ---------------------------------------------------------------------

/**
 * The SAR type of a condition key, case-insensitively, including tag templates
 * (`s3:ExistingObjectTag/<key>`, `aws:PrincipalTag/<k>`, `aws:RequestTag/<k>`, `aws:ResourceTag/<k>`);
 * undefined for keys the model doesn't know.
 */
export function conditionKeyType(key: string): ConditionKeyType | undefined {
  return keyEntry(key)?.type;
}

/** The model's spelling of a key (`S3:PREFIX` → `s3:prefix`; a tag key → its template). */
export function canonicalConditionKey(key: string): string | undefined {
  return keyEntry(key)?.canonical;
}

/** True for AWS-wide keys (`aws:SourceIp`, `aws:PrincipalTag/<k>`, …) as opposed to service keys. */
export function isGlobalConditionKey(key: string): boolean {
  return keyEntry(key)?.global ?? false;
}

/** Multi-valued keys (type ArrayOf…) need ForAnyValue/ForAllValues and can't be policy variables. */
export function isMultiValuedKeyType(type: ConditionKeyType | undefined): boolean {
  return type !== undefined && type.startsWith('ArrayOf');
}

/** Does the model key (possibly a template) name the concrete key? */
function keyNameMatches(modelKey: string, key: string): boolean {
  return isTemplate(modelKey) ? templateRegExp(modelKey).test(key) : modelKey.toLowerCase() === key.toLowerCase();
}

/**
 * The condition keys (canonical, templates kept) that can apply to the given actions:
 * each action's own keys ∪ the keys of its resource types. The SAR puts access-point and
 * bucket-tag keys on resource types, not actions, so both must be unioned.
 * `resourceTypeNames`, when given, restricts which of an action's resource types count.
 */
export function keysForActionsAndResources(actions: readonly string[], resourceTypeNames?: readonly string[]): string[] {
  const out = new Set<string>();
  const only = resourceTypeNames ? new Set(resourceTypeNames.map((n) => n.toLowerCase())) : undefined;
  for (const action of actions) {
    const a = actionInfo(action);
    if (!a) continue;
    for (const k of a.conditionKeys) out.add(k);
    for (const r of a.resourceTypes) {
      if (only && !only.has(r.name.toLowerCase())) continue;
      for (const k of resourceTypes.get(`${a.service}:${r.name}`.toLowerCase())?.conditionKeys ?? []) out.add(k);
    }
  }
  return [...out];
}

/** True if `key` (concrete, e.g. `s3:ExistingObjectTag/team`) is one of the action's keys (see keysForActionsAndResources). */
export function conditionKeyAppliesToAction(key: string, action: string, resourceTypeNames?: readonly string[]): boolean {
  return keysForActionsAndResources([action], resourceTypeNames).some((k) => keyNameMatches(k, key));
}

const objectTagActions = new Map<string, boolean>();

/**
 * Whether the request context of an action carries s3:ExistingObjectTag/* (the model lists it
 * for GetObject, the ACL and tagging actions, …; not for PutObject or DeleteObject, where a
 * condition on it sees an absent key, as on AWS). Memoised per action.
 */
export function actionTakesExistingObjectTags(action: string): boolean {
  let yes = objectTagActions.get(action);
  if (yes === undefined) {
    yes = keysForActionsAndResources([action]).some((k) => k.toLowerCase().startsWith('s3:existingobjecttag/'));
    if (objectTagActions.size < 1024) objectTagActions.set(action, yes);
  }
  return yes;
}
