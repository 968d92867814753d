// Stored-policy compatibility: every accepted policy must keep parsing and validating as a
// bucket policy (removing one is a breaking change for stored policies); every rejected one
// must keep failing with the same first MalformedPolicy message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import accepted from './accepted.json' with { type: 'json' };
import rejected from './rejected.json' with { type: 'json' };
import { parsePolicy } from '../parse.js';
import { validatePolicy } from '../validate.js';
import { isPublicPolicy } from '../is-public.js';

interface Accepted { name: string; bucket: string; policy: unknown; public?: boolean }
interface Rejected { name: string; bucket: string; policy: string; message: string }

/** First error of parse-then-validate, as PutBucketPolicy would report it. */
function firstError(text: string, bucket: string): string | undefined {
  const r = parsePolicy(text);
  if ('errors' in r) return r.errors[0]?.message;
  return validatePolicy(r.ast, { kind: 'bucket', bucket }).find((f) => f.severity === 'error')?.message;
}

test('corpus sizes', () => {
  assert.ok((accepted as Accepted[]).length >= 40);
  assert.ok((rejected as Rejected[]).length >= 30);
});

for (const p of accepted as Accepted[]) {
  test(`accepted: ${p.name}`, () => {
    const text = JSON.stringify(p.policy);
    assert.equal(firstError(text, p.bucket), undefined);
    if (p.public !== undefined) {
      const r = parsePolicy(text);
      assert.ok('ast' in r);
      assert.equal(isPublicPolicy(r.ast, { kind: 'bucket' }).public, p.public);
    }
  });
}

for (const p of rejected as Rejected[]) {
  test(`rejected: ${p.name}`, () => {
    assert.equal(firstError(p.policy, p.bucket), p.message);
  });
}
