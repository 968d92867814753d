/**
 * Web identity federation end to end: an IAM OIDC provider made with @aws-sdk/client-iam and
 * the AWS CLI, a role trusting it, ID tokens signed by the test (RS256 and ES256) against a
 * JWKS the server is configured with, AssumeRoleWithWebIdentity sent unsigned by
 * @aws-sdk/client-sts and the AWS CLI, and the session's credentials used on S3.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddClientIDToOpenIDConnectProviderCommand, CreateOpenIDConnectProviderCommand, CreateRoleCommand, DeleteOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand, ListOpenIDConnectProvidersCommand, PutRolePolicyCommand, RemoveClientIDFromOpenIDConnectProviderCommand,
  UpdateOpenIDConnectProviderThumbprintCommand, type IAMClient,
} from '@aws-sdk/client-iam';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { aws, bucketName, cleanup, iam, outcome, s3, startKura, sts, type RunningKura } from './harness.js';

// Upper case in the path on purpose: condition keys must be found however the provider's path is written.
const ISSUER = 'https://token.example.test/Tenant-A';
const OTHER_ISSUER = 'https://unconfigured.example.test';
const CLIENT_ID = 'kura-e2e';

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** A compact JWS signed by the test, as an identity provider would issue it. */
function jwt(key: KeyObject, kid: string, alg: 'RS256' | 'ES256', claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ alg, typ: 'JWT', kid }));
  const body = b64url(JSON.stringify(claims));
  const input = `${head}.${body}`;
  const sig = alg === 'RS256' ? sign('sha256', Buffer.from(input), key) : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

describe('AssumeRoleWithWebIdentity (OIDC) through real clients', () => {
  let k: RunningKura;
  let rootIam: IAMClient;
  let account: string;
  let providerArn: string;
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const now = (): number => Math.floor(Date.now() / 1000);
  const claims = (over: Record<string, unknown> = {}): Record<string, unknown> =>
    ({ iss: ISSUER, sub: 'repo:acme/app:ref:refs/heads/main', aud: CLIENT_ID, iat: now(), exp: now() + 600, ...over });
  const anonymousSts = (): STSClient => new STSClient({ endpoint: k.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  const assume = (token: string, roleName = 'ci-deployer', extra: Record<string, unknown> = {}): Promise<unknown> =>
    anonymousSts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: `arn:aws:iam::${account}:role/${roleName}`, RoleSessionName: 'ci-run-1', WebIdentityToken: token, ...extra }));

  let jwksFile: string;
  let dir: string | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kura-oidc-'));
    const jwks = { keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', use: 'sig', alg: 'RS256' }, { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', use: 'sig', alg: 'ES256' }] };
    jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(jwks));
    writeFileSync(join(dir, 'kura.json'), JSON.stringify({ oidcIssuers: [{ issuer: ISSUER, jwksFile: join(dir, 'jwks.json') }] }));
    k = await startKura({ args: ['--config', join(dir, 'kura.json')] });
    rootIam = iam(k);
    account = (await sts(k).send(new GetCallerIdentityCommand({}))).Account!;
    providerArn = (await rootIam.send(new CreateOpenIDConnectProviderCommand({ Url: ISSUER, ClientIDList: [CLIENT_ID], ThumbprintList: ['a'.repeat(40)] }))).OpenIDConnectProviderArn!;
    const host = ISSUER.slice('https://'.length);
    await rootIam.send(new CreateRoleCommand({
      RoleName: 'ci-deployer',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{
          Effect: 'Allow', Principal: { Federated: providerArn }, Action: 'sts:AssumeRoleWithWebIdentity',
          // The request's own facts (aws:SourceIp) reach the trust policy next to the token's claims.
          Condition: { StringEquals: { [`${host}:aud`]: CLIENT_ID }, StringLike: { [`${host}:sub`]: 'repo:acme/app:*' }, IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } },
        }, {
          Effect: 'Deny', Principal: { Federated: providerArn }, Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${host}:sub`]: 'repo:acme/app:ref:refs/heads/blocked' } },
        }],
      }),
    }));
    await rootIam.send(new PutRolePolicyCommand({
      RoleName: 'ci-deployer', PolicyName: 'artifacts',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: 'arn:aws:s3:::*/artifacts/*' }] }),
    }));
    // A role whose trust also allows sts:TagSession: tokens may carry session tags, which its
    // policy reads as ${aws:PrincipalTag/team}.
    await rootIam.send(new CreateRoleCommand({
      RoleName: 'team-reader',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Federated: providerArn }, Action: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'], Condition: { StringEquals: { [`${host}:aud`]: CLIENT_ID } } }],
      }),
    }));
    await rootIam.send(new PutRolePolicyCommand({
      RoleName: 'team-reader', PolicyName: 'own-team',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: 'arn:aws:s3:::*/${aws:PrincipalTag/team}/*' }] }),
    }));
    // A role whose trust also allows sts:SetSourceIdentity; its policy requires one.
    await rootIam.send(new CreateRoleCommand({
      RoleName: 'audited',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Federated: providerArn }, Action: ['sts:AssumeRoleWithWebIdentity', 'sts:SetSourceIdentity'], Condition: { StringEquals: { [`${host}:aud`]: CLIENT_ID } } }],
      }),
    }));
    await rootIam.send(new PutRolePolicyCommand({
      RoleName: 'audited', PolicyName: 'attributed-only',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::*/audit/*', Condition: { StringLike: { 'aws:SourceIdentity': '*@example.com' } } }] }),
    }));
    // A role that trusts only AWS principals: a web identity must not get in.
    await rootIam.send(new CreateRoleCommand({
      RoleName: 'internal',
      AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'sts:AssumeRole' }] }),
    }));
  });
  after(async () => {
    await k?.stop();
    if (dir !== undefined) cleanup(dir);
  });

  it('manages OIDC providers through the IAM API (SDK and CLI)', async () => {
    assert.equal(providerArn, `arn:aws:iam::${account}:oidc-provider/token.example.test/Tenant-A`);
    const got = await rootIam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn }));
    assert.equal(got.Url, 'token.example.test/Tenant-A');
    assert.deepEqual(got.ClientIDList, [CLIENT_ID]);
    assert.deepEqual(got.ThumbprintList, ['a'.repeat(40)]);
    assert.ok(got.CreateDate instanceof Date);
    assert.match(await outcome(rootIam.send(new CreateOpenIDConnectProviderCommand({ Url: ISSUER, ClientIDList: ['x'] }))), /EntityAlreadyExists/);
    assert.match(await outcome(rootIam.send(new CreateOpenIDConnectProviderCommand({ Url: 'http://insecure.example.test', ClientIDList: ['x'] }))), /InvalidInput/);
    const listed = aws(k, ['iam', 'list-open-id-connect-providers']);
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { OpenIDConnectProviderList: { Arn: string }[] }).OpenIDConnectProviderList.map((p) => p.Arn), [providerArn]);
    // A second provider: add and remove a client id, replace thumbprints, delete.
    const other = await rootIam.send(new CreateOpenIDConnectProviderCommand({ Url: OTHER_ISSUER, ClientIDList: ['one'] }));
    await rootIam.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: other.OpenIDConnectProviderArn, ClientID: 'two' }));
    await rootIam.send(new RemoveClientIDFromOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: other.OpenIDConnectProviderArn, ClientID: 'one' }));
    await rootIam.send(new UpdateOpenIDConnectProviderThumbprintCommand({ OpenIDConnectProviderArn: other.OpenIDConnectProviderArn, ThumbprintList: ['B'.repeat(40)] }));
    const changed = await rootIam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: other.OpenIDConnectProviderArn }));
    assert.deepEqual(changed.ClientIDList, ['two']);
    assert.deepEqual(changed.ThumbprintList, ['b'.repeat(40)]);
    assert.equal((await rootIam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList?.length, 2);
    await rootIam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: other.OpenIDConnectProviderArn }));
    assert.match(await outcome(rootIam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: other.OpenIDConnectProviderArn }))), /NoSuchEntity/);
  });

  it('exchanges a valid RS256 or ES256 token for role credentials that work on S3 within the role\'s policy', async () => {
    for (const token of [jwt(rsa.privateKey, 'rsa-1', 'RS256', claims()), jwt(ec.privateKey, 'ec-1', 'ES256', claims())]) {
      const r = await assume(token) as { Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string }; SubjectFromWebIdentityToken: string; AssumedRoleUser: { Arn: string }; Provider: string; Audience: string };
      assert.match(r.Credentials.AccessKeyId, /^ASIA/);
      assert.equal(r.SubjectFromWebIdentityToken, 'repo:acme/app:ref:refs/heads/main');
      assert.equal(r.AssumedRoleUser.Arn, `arn:aws:sts::${account}:assumed-role/ci-deployer/ci-run-1`);
      assert.equal(r.Provider, ISSUER);
      assert.equal(r.Audience, CLIENT_ID);
      const creds = { accessKeyId: r.Credentials.AccessKeyId, secretAccessKey: r.Credentials.SecretAccessKey, sessionToken: r.Credentials.SessionToken };
      const who = await sts(k, creds).send(new GetCallerIdentityCommand({}));
      assert.equal(who.Arn, `arn:aws:sts::${account}:assumed-role/ci-deployer/ci-run-1`);
      const bucket = bucketName('oidc');
      await s3(k).send(new CreateBucketCommand({ Bucket: bucket }));
      const session = s3(k, creds);
      await session.send(new PutObjectCommand({ Bucket: bucket, Key: 'artifacts/build.txt', Body: 'built' }));
      assert.equal(await (await session.send(new GetObjectCommand({ Bucket: bucket, Key: 'artifacts/build.txt' }))).Body!.transformToString(), 'built');
      assert.match(await outcome(session.send(new PutObjectCommand({ Bucket: bucket, Key: 'secrets/x', Body: 'no' }))), /AccessDenied/);
    }
  });

  it('works from the AWS CLI, which sends the call unsigned', () => {
    const token = jwt(rsa.privateKey, 'rsa-1', 'RS256', claims());
    const r = aws(k, ['sts', 'assume-role-with-web-identity', '--role-arn', `arn:aws:iam::${account}:role/ci-deployer`, '--role-session-name', 'cli', '--web-identity-token', token, '--duration-seconds', '900']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { Credentials: { AccessKeyId: string; Expiration: string } };
    assert.match(out.Credentials.AccessKeyId, /^ASIA/);
    const lifetime = Date.parse(out.Credentials.Expiration) - Date.now();
    assert.ok(lifetime > 800_000 && lifetime <= 900_000, `expiration ${out.Credentials.Expiration}`);
  });

  it('refuses tokens that do not verify, have expired, name another audience or an unconfigured issuer', async () => {
    const expired = jwt(rsa.privateKey, 'rsa-1', 'RS256', claims({ iat: now() - 7200, exp: now() - 3600 }));
    assert.match(await outcome(assume(expired)), /ExpiredToken/);
    const forged = jwt(stranger.privateKey, 'rsa-1', 'RS256', claims());
    assert.match(await outcome(assume(forged)), /InvalidIdentityToken/);
    const tampered = jwt(rsa.privateKey, 'rsa-1', 'RS256', claims()).split('.');
    tampered[1] = b64url(JSON.stringify(claims({ sub: 'repo:acme/app:ref:refs/heads/evil' })));
    assert.match(await outcome(assume(tampered.join('.'))), /InvalidIdentityToken/);
    const unsigned = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims()))}.`;
    assert.match(await outcome(assume(unsigned)), /InvalidIdentityToken/);
    assert.match(await outcome(assume(jwt(rsa.privateKey, 'rsa-1', 'RS256', claims({ aud: 'someone-else' })))), /InvalidIdentityToken/);
    assert.match(await outcome(assume(jwt(rsa.privateKey, 'rsa-1', 'RS256', claims({ iss: OTHER_ISSUER })))), /InvalidIdentityToken/);
    assert.match(await outcome(assume('not-a-jwt')), /InvalidIdentityToken/);
  });

  it('applies the trust policy: its conditions on the token\'s claims, and only roles that trust the provider', async () => {
    // sub outside repo:acme/app:* fails the StringLike condition; a sub the Deny names is refused though the Allow matches.
    assert.match(await outcome(assume(jwt(rsa.privateKey, 'rsa-1', 'RS256', claims({ sub: 'repo:other/app:ref:refs/heads/main' })))), /AccessDenied/);
    assert.match(await outcome(assume(jwt(rsa.privateKey, 'rsa-1', 'RS256', claims({ sub: 'repo:acme/app:ref:refs/heads/blocked' })))), /AccessDenied/);
    // Another account: no provider there, whether or not the role exists (nothing to learn about its roles).
    const elsewhere = (role: string): Promise<unknown> => anonymousSts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: `arn:aws:iam::999988887777:role/${role}`, RoleSessionName: 'probe', WebIdentityToken: jwt(rsa.privateKey, 'rsa-1', 'RS256', claims()) }));
    assert.match(await outcome(elsewhere('ci-deployer')), /InvalidIdentityToken/);
    assert.match(await outcome(assume(jwt(rsa.privateKey, 'rsa-1', 'RS256', claims()), 'internal')), /AccessDenied/);
    assert.match(await outcome(assume(jwt(rsa.privateKey, 'rsa-1', 'RS256', claims()), 'no-such-role')), /AccessDenied/);
    // Longer than the role's MaxSessionDuration (1 hour by default).
    assert.match(await outcome(assume(jwt(rsa.privateKey, 'rsa-1', 'RS256', claims()), 'ci-deployer', { DurationSeconds: 7200 })), /ValidationError/);
    // Other STS actions still need a signature.
    const unsignedCaller = new STSClient({ endpoint: k.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, signer: { sign: async (r) => r } });
    assert.match(await outcome(unsignedCaller.send(new GetCallerIdentityCommand({}))), /MissingAuthenticationToken|InvalidClientTokenId|AccessDenied/);
  });

  it('takes session tags from the token\'s https://aws.amazon.com/tags claim when the trust policy allows sts:TagSession', async () => {
    const tagged = (tags: unknown): string => jwt(rsa.privateKey, 'rsa-1', 'RS256', claims({ 'https://aws.amazon.com/tags': tags }));
    const r = await assume(tagged({ principal_tags: { team: ['alpha'] }, transitive_tag_keys: ['team'] }), 'team-reader') as { Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string }; PackedPolicySize?: number };
    assert.ok(r.PackedPolicySize !== undefined);
    const session = s3(k, { accessKeyId: r.Credentials.AccessKeyId, secretAccessKey: r.Credentials.SecretAccessKey, sessionToken: r.Credentials.SessionToken });
    const bucket = bucketName('oidc-tags');
    await s3(k).send(new CreateBucketCommand({ Bucket: bucket }));
    await session.send(new PutObjectCommand({ Bucket: bucket, Key: 'alpha/report', Body: 'mine' }));
    assert.match(await outcome(session.send(new PutObjectCommand({ Bucket: bucket, Key: 'beta/report', Body: 'theirs' }))), /AccessDenied/);
    // The role without sts:TagSession in its trust refuses a token that carries tags.
    assert.match(await outcome(assume(tagged({ principal_tags: { team: ['alpha'] } }))), /AccessDenied/);
    // A malformed claim refuses the token.
    for (const bad of [{ principal_tags: { team: 'alpha' } }, { principal_tags: { team: ['a', 'b'] } }, { principal_tags: { team: ['alpha'] }, transitive_tag_keys: ['other'] }, 'team=alpha']) {
      assert.match(await outcome(assume(tagged(bad), 'team-reader')), /InvalidIdentityToken/, JSON.stringify(bad));
    }
  });

  it('takes a source identity from the token\'s https://aws.amazon.com/source_identity claim when the trust policy allows sts:SetSourceIdentity', async () => {
    const attributed = (who: unknown): string => jwt(rsa.privateKey, 'rsa-1', 'RS256', claims({ 'https://aws.amazon.com/source_identity': who }));
    const r = await assume(attributed('alice@example.com'), 'audited') as { SourceIdentity?: string; Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } };
    assert.equal(r.SourceIdentity, 'alice@example.com');
    const session = s3(k, { accessKeyId: r.Credentials.AccessKeyId, secretAccessKey: r.Credentials.SecretAccessKey, sessionToken: r.Credentials.SessionToken });
    const bucket = bucketName('oidc-source');
    await s3(k).send(new CreateBucketCommand({ Bucket: bucket }));
    // The role's policy sees it as aws:SourceIdentity.
    await session.send(new PutObjectCommand({ Bucket: bucket, Key: 'audit/entry', Body: 'by alice' }));
    // Without a source identity the same role's policy does not allow.
    const plain = await assume(jwt(rsa.privateKey, 'rsa-1', 'RS256', claims()), 'audited') as { SourceIdentity?: string; Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } };
    assert.equal(plain.SourceIdentity, undefined);
    const anonymousSession = s3(k, { accessKeyId: plain.Credentials.AccessKeyId, secretAccessKey: plain.Credentials.SecretAccessKey, sessionToken: plain.Credentials.SessionToken });
    assert.match(await outcome(anonymousSession.send(new PutObjectCommand({ Bucket: bucket, Key: 'audit/entry2', Body: 'by nobody' }))), /AccessDenied/);
    // A role whose trust does not allow sts:SetSourceIdentity refuses such a token; a malformed claim refuses it anywhere.
    assert.match(await outcome(assume(attributed('alice@example.com'))), /AccessDenied/);
    for (const bad of ['a', 'has space', 'x'.repeat(65), 42]) {
      assert.match(await outcome(assume(attributed(bad), 'audited')), /InvalidIdentityToken/, JSON.stringify(bad));
    }
  });

  it('picks up a rotated JWKS file without a restart: the new key verifies, the withdrawn one no longer does', async () => {
    const original = readFileSync(jwksFile, 'utf8');
    const next = generateKeyPairSync('rsa', { modulusLength: 2048 });
    try {
      writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...next.publicKey.export({ format: 'jwk' }), kid: 'rsa-2', use: 'sig', alg: 'RS256' }] }));
      // The server looks at the file at most once a second.
      await new Promise((r) => setTimeout(r, 1_100));
      assert.equal(await outcome(assume(jwt(next.privateKey, 'rsa-2', 'RS256', claims()))), 'OK');
      assert.match(await outcome(assume(jwt(rsa.privateKey, 'rsa-1', 'RS256', claims()))), /InvalidIdentityToken/);
    } finally {
      writeFileSync(jwksFile, original);
    }
  });
});
