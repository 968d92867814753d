/**
 * SimulatePrincipalPolicy and SimulateCustomPolicy: the server's own evaluator answering
 * "would this be allowed", with the statements that matched and the context keys a
 * statement needed but the simulation was not given (MissingContextValues), as IAM reports
 * them. Identity side only, plus an optional resource policy in the same account (IAM's
 * simulator does the same); SCPs are not simulated.
 */
import { stringList, memberList, ParamReader } from './api/query.js';
import { iamError, type QueryObject } from './api/xml.js';
import { compilePolicy, type CompiledPolicy } from './policy/compile.js';
import { evaluatePolicy } from './policy/evaluate.js';
import { parsePolicy } from './policy/parse.js';
import type { ContextValue, PrincipalFacts } from './policy/request.js';

export interface SimPolicy {
  id: string;
  type: 'IAM Policy' | 'user' | 'group' | 'role' | 'aws-managed' | 'user-managed' | 'resource' | 'none';
  document: string;
}

function compile(p: SimPolicy): CompiledPolicy {
  const parsed = parsePolicy(p.document);
  if (!('ast' in parsed)) throw iamError('MalformedPolicyDocument', parsed.errors[0]?.message ?? 'Syntax errors in policy.');
  return compilePolicy(parsed.ast, { policyId: p.id });
}

/** ContextEntries.member.N.{ContextKeyName, ContextKeyValues.member.M, ContextKeyType}. */
function contextEntries(params: ReadonlyMap<string, string>): Map<string, ContextValue> {
  const ctx = new Map<string, ContextValue>();
  for (const e of memberList(params, 'ContextEntries')) {
    const name = e.ContextKeyName;
    if (!name) throw iamError('InvalidInput', 'ContextKeyName is required in every context entry');
    const values = stringList(new Map(Object.entries(e)), 'ContextKeyValues');
    const type = e.ContextKeyType ?? 'string';
    ctx.set(name.toLowerCase(), type.endsWith('List') || values.length > 1 ? values : (values[0] ?? ''));
  }
  return ctx;
}

export interface SimulationInput {
  params: ReadonlyMap<string, string>;
  /** The principal's own policies (SimulatePrincipalPolicy) or none. */
  principalPolicies: SimPolicy[];
  principal: PrincipalFacts;
  boundary?: SimPolicy;
}

/** Runs a simulation; returns the Result element of the response. */
export function simulate(input: SimulationInput): QueryObject {
  const r = new ParamReader(input.params);
  const actions = r.stringList('ActionNames', { required: true, min: 1 });
  const resources = r.stringList('ResourceArns');
  const inputs = r.stringList('PolicyInputList');
  const boundaries = r.stringList('PermissionsBoundaryPolicyInputList');
  const resourcePolicyText = r.string('ResourcePolicy');
  r.done();
  const policies = [...input.principalPolicies, ...inputs.map((document, i): SimPolicy => ({ id: `PolicyInputList.${i + 1}`, type: 'IAM Policy', document }))];
  const compiled = policies.map((p) => ({ p, c: compile(p) }));
  const boundaryPolicies = [...(input.boundary ? [input.boundary] : []), ...boundaries.map((document, i): SimPolicy => ({ id: `PermissionsBoundaryPolicyInputList.${i + 1}`, type: 'IAM Policy', document }))];
  const boundaryCompiled = boundaryPolicies.map((p) => ({ p, c: compile(p) }));
  const resourcePolicy = resourcePolicyText !== undefined ? { p: { id: 'ResourcePolicy', type: 'resource' as const, document: resourcePolicyText }, c: compile({ id: 'ResourcePolicy', type: 'resource', document: resourcePolicyText }) } : undefined;
  const context = contextEntries(input.params);
  const results: QueryObject[] = [];
  for (const action of actions) {
    for (const resource of resources.length > 0 ? resources : ['*']) {
      const req = { action, resource, principal: input.principal, context };
      const matched: QueryObject[] = [];
      const missing = new Set<string>();
      let allow = false;
      let deny = false;
      for (const { p, c } of compiled) {
        const res = evaluatePolicy(c, req);
        res.missingKeys.forEach((k) => missing.add(k));
        for (const m of res.matches) {
          matched.push({ SourcePolicyId: p.id, SourcePolicyType: p.type });
          if (m.effect === 'Deny') deny = true;
          else allow = true;
        }
      }
      if (resourcePolicy) {
        const res = evaluatePolicy(resourcePolicy.c, req);
        res.missingKeys.forEach((k) => missing.add(k));
        for (const m of res.matches) {
          matched.push({ SourcePolicyId: resourcePolicy.p.id, SourcePolicyType: 'resource' });
          if (m.effect === 'Deny') deny = true;
          else if (m.principalMatch === 'direct' || m.principalMatch === 'any') allow = true;
        }
      }
      let boundaryAllows = boundaryCompiled.length === 0;
      for (const { c } of boundaryCompiled) {
        const res = evaluatePolicy(c, req);
        res.missingKeys.forEach((k) => missing.add(k));
        if (res.matches.some((m) => m.effect === 'Deny')) deny = true;
        if (res.matches.some((m) => m.effect === 'Allow')) boundaryAllows = true;
      }
      const decision = deny ? 'explicitDeny' : allow && boundaryAllows ? 'allowed' : 'implicitDeny';
      results.push({
        EvalActionName: action,
        EvalResourceName: resource,
        EvalDecision: decision,
        MatchedStatements: matched,
        MissingContextValues: [...missing],
        ...(boundaryCompiled.length > 0 ? { PermissionsBoundaryDecisionDetail: { AllowedByPermissionsBoundary: boundaryAllows } } : {}),
      });
    }
  }
  return { EvaluationResults: results, IsTruncated: false };
}
