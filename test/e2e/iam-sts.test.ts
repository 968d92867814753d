/**
 * Identities end to end through real clients (@aws-sdk/client-iam, client-sts, client-s3
 * and the AWS CLI v2): IAM users, groups, managed and inline policies, boundaries,
 * cross-account access, AssumeRole with session policies, MFA through GetSessionToken,
 * ${aws:username} home prefixes and an organization SCP (semantics.md a.1–a.2).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddUserToGroupCommand, AttachGroupPolicyCommand, AttachUserPolicyCommand, CreateAccessKeyCommand, CreateGroupCommand, CreatePolicyCommand,
  CreateRoleCommand, CreateUserCommand, CreateVirtualMFADeviceCommand, DeleteUserCommand, DeleteUserPolicyCommand, PutGroupPolicyCommand, PutRolePolicyCommand, DeleteRoleCommand, DeleteRolePolicyCommand, UpdateAssumeRolePolicyCommand, EnableMFADeviceCommand, GetUserCommand,
  ListUsersCommand, PutUserPermissionsBoundaryCommand, PutUserPolicyCommand, TagUserCommand, UpdateAccessKeyCommand, type IAMClient,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import {
  CreateBucketCommand, DeleteBucketCommand, GetObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutObjectCommand,
} from '@aws-sdk/client-s3';
import { aws, bucketName, cleanup, iam, kuraCli, s3, startKura, sts, type Credentials, type RunningKura, outcome, sigv4Headers } from './harness.js';

const doc = (statements: unknown[]): string => JSON.stringify({ Version: '2012-10-17', Statement: statements });

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s), computed by the test as an authenticator app would. */
function totp(seedBase32: string, timeMs: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of seedBase32.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(timeMs / 30_000)));
  const h = createHmac('sha1', key).update(counter).digest();
  const off = h[h.length - 1]! & 0xf;
  const code = ((h.readUInt32BE(off) & 0x7fffffff) % 1_000_000).toString().padStart(6, '0');
  return code;
}

describe('IAM and STS through real clients', () => {
  let k: RunningKura;
  let rootIam: IAMClient;
  let rootAccount: string;
  let partner: Credentials & { accountId: string };

  /** Creates a user with a key; returns its credentials. */
  async function userWithKey(client: IAMClient, name: string): Promise<Credentials> {
    await client.send(new CreateUserCommand({ UserName: name }));
    const key = await client.send(new CreateAccessKeyCommand({ UserName: name }));
    return { accessKeyId: key.AccessKey!.AccessKeyId!, secretAccessKey: key.AccessKey!.SecretAccessKey! };
  }

  before(async () => {
    k = await startKura();
    rootIam = iam(k);
    rootAccount = (await sts(k).send(new GetCallerIdentityCommand({}))).Account!;
    partner = JSON.parse(kuraCli(['account', 'create', '--name', 'partner', '--json', '--data-dir', k.dataDir]).stdout) as Credentials & { accountId: string };
  });
  after(async () => {
    await k.stop();
  });

  it('GetCallerIdentity reports the root, and GetUser without a name the caller', async () => {
    const me = await sts(k).send(new GetCallerIdentityCommand({}));
    assert.equal(me.Arn, `arn:aws:iam::${rootAccount}:root`);
    assert.equal(me.UserId, rootAccount);
    const cli = aws(k, ['sts', 'get-caller-identity']);
    assert.equal(cli.status, 0, cli.stderr);
    assert.equal((JSON.parse(cli.stdout) as { Account: string }).Account, rootAccount);
  });

  it('a new user is denied until a policy allows, and a deactivated key stops at once', async () => {
    const b = bucketName();
    await s3(k).send(new CreateBucketCommand({ Bucket: b }));
    await s3(k).send(new PutObjectCommand({ Bucket: b, Key: 'doc', Body: 'doc' }));
    const alice = await userWithKey(rootIam, 'alice');
    const who = await sts(k, alice).send(new GetCallerIdentityCommand({}));
    assert.equal(who.Arn, `arn:aws:iam::${rootAccount}:user/alice`);
    assert.match(who.UserId!, /^AIDA[A-Z0-9]{17}$/);
    assert.equal(await outcome(s3(k, alice).send(new GetObjectCommand({ Bucket: b, Key: 'doc' }))), 'AccessDenied');
    assert.equal(await outcome(iam(k, alice).send(new ListUsersCommand({}))), 'AccessDenied');
    await rootIam.send(new PutUserPolicyCommand({
      UserName: 'alice', PolicyName: 'read', PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }]),
    }));
    assert.equal(await outcome(s3(k, alice).send(new GetObjectCommand({ Bucket: b, Key: 'doc' }))), 'OK');
    assert.equal(await outcome(s3(k, alice).send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x' }))), 'AccessDenied');
    // ListAllMyBuckets has no resource type: AWS's own examples grant it on arn:aws:s3:::*.
    assert.equal(await outcome(s3(k, alice).send(new ListBucketsCommand({}))), 'AccessDenied');
    await rootIam.send(new PutUserPolicyCommand({
      UserName: 'alice', PolicyName: 'list', PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: 'arn:aws:s3:::*' }]),
    }));
    assert.equal(await outcome(s3(k, alice).send(new ListBucketsCommand({}))), 'OK');
    await rootIam.send(new PutUserPolicyCommand({
      UserName: 'alice', PolicyName: 'no-list', PolicyDocument: doc([{ Effect: 'Deny', Action: 's3:ListAllMyBuckets', Resource: 'arn:aws:s3:::*' }]),
    }));
    assert.equal(await outcome(s3(k, alice).send(new ListBucketsCommand({}))), 'AccessDenied');
    // The AWS CLI, with the same key.
    assert.equal(aws(k, ['s3api', 'get-object', '--bucket', b, '--key', 'doc', '/dev/null'], alice).status, 0);
    await rootIam.send(new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: alice.accessKeyId, Status: 'Inactive' }));
    assert.equal(await outcome(s3(k, alice).send(new GetObjectCommand({ Bucket: b, Key: 'doc' }))), 'InvalidAccessKeyId');
    assert.equal(await outcome(rootIam.send(new DeleteUserCommand({ UserName: 'alice' }))), 'DeleteConflictException');
  });

  it('group and managed policies allow; an explicit deny in another policy wins; a boundary caps an admin', async () => {
    const b = bucketName();
    await s3(k).send(new CreateBucketCommand({ Bucket: b }));
    const bob = await userWithKey(rootIam, 'bob');
    await rootIam.send(new CreateGroupCommand({ GroupName: 'readers' }));
    await rootIam.send(new AddUserToGroupCommand({ GroupName: 'readers', UserName: 'bob' }));
    const managed = await rootIam.send(new CreatePolicyCommand({
      PolicyName: 'list-and-write', PolicyDocument: doc([{ Effect: 'Allow', Action: ['s3:ListBucket', 's3:PutObject'], Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`] }]),
    }));
    await rootIam.send(new AttachGroupPolicyCommand({ GroupName: 'readers', PolicyArn: managed.Policy!.Arn! }));
    assert.equal(await outcome(s3(k, bob).send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: 'a' }))), 'OK');
    assert.equal(await outcome(s3(k, bob).send(new ListObjectsV2Command({ Bucket: b }))), 'OK');
    await rootIam.send(new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'no-writes', PolicyDocument: doc([{ Effect: 'Deny', Action: 's3:PutObject', Resource: '*' }]) }));
    assert.equal(await outcome(s3(k, bob).send(new PutObjectCommand({ Bucket: b, Key: 'b', Body: 'b' }))), 'AccessDenied');
    assert.equal(await outcome(s3(k, bob).send(new ListObjectsV2Command({ Bucket: b }))), 'OK');

    const admin = await userWithKey(rootIam, 'admin');
    await rootIam.send(new AttachUserPolicyCommand({ UserName: 'admin', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    assert.equal(await outcome(s3(k, admin).send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'c' }))), 'OK');
    assert.equal(await outcome(iam(k, admin).send(new ListUsersCommand({}))), 'OK');
    await rootIam.send(new PutUserPermissionsBoundaryCommand({ UserName: 'admin', PermissionsBoundary: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
    assert.equal(await outcome(s3(k, admin).send(new PutObjectCommand({ Bucket: b, Key: 'd', Body: 'd' }))), 'AccessDenied');
    assert.equal(await outcome(s3(k, admin).send(new ListObjectsV2Command({ Bucket: b }))), 'OK');
    assert.equal(await outcome(iam(k, admin).send(new ListUsersCommand({}))), 'AccessDenied');
  });

  it('cross-account: the bucket policy (user ARN, account ARN or account id) and the identity policy must both allow', async () => {
    const b = bucketName();
    await s3(k).send(new CreateBucketCommand({ Bucket: b }));
    await s3(k).send(new PutObjectCommand({ Bucket: b, Key: 'shared', Body: 'shared' }));
    const partnerIam = iam(k, partner);
    const carol = await userWithKey(partnerIam, 'carol');
    for (const principal of [`arn:aws:iam::${partner.accountId}:user/carol`, `arn:aws:iam::${partner.accountId}:root`, partner.accountId]) {
      await s3(k).send(new PutBucketPolicyCommand({ Bucket: b, Policy: doc([{ Effect: 'Allow', Principal: { AWS: principal }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }]) }));
      assert.equal(await outcome(s3(k, carol).send(new GetObjectCommand({ Bucket: b, Key: 'shared' }))), 'AccessDenied', `no identity policy yet (${principal})`);
      await partnerIam.send(new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'get', PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]) }));
      assert.equal(await outcome(s3(k, carol).send(new GetObjectCommand({ Bucket: b, Key: 'shared' }))), 'OK', principal);
      await partnerIam.send(new DeleteUserPolicyCommand({ UserName: 'carol', PolicyName: 'get' }));
    }
  });

  it('AssumeRole, same- and cross-account, with a session policy that narrows the role', async () => {
    const b = bucketName();
    await s3(k).send(new CreateBucketCommand({ Bucket: b }));
    await s3(k).send(new PutObjectCommand({ Bucket: b, Key: 'r', Body: 'r' }));
    const role = await rootIam.send(new CreateRoleCommand({
      RoleName: 'reader',
      AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${rootAccount}:root`, partner.accountId] }, Action: 'sts:AssumeRole' }]),
    }));
    await rootIam.send(new PutRolePolicyCommand({
      RoleName: 'reader', PolicyName: 'rw', PolicyDocument: doc([{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${b}/*` }]),
    }));
    // Root users may not assume roles (AWS: "Roles may not be assumed by root accounts.").
    assert.equal(await outcome(sts(k).send(new AssumeRoleCommand({ RoleArn: role.Role!.Arn!, RoleSessionName: 'root' }))), 'AccessDenied');
    // The trust policy delegates to the account: a user needs its own permission too.
    const assumer = await userWithKey(rootIam, 'assumer');
    assert.equal(await outcome(sts(k, assumer).send(new AssumeRoleCommand({ RoleArn: role.Role!.Arn!, RoleSessionName: 'same' }))), 'AccessDenied');
    const mayAssume = doc([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: role.Role!.Arn! }]);
    await rootIam.send(new PutUserPolicyCommand({ UserName: 'assumer', PolicyName: 'assume', PolicyDocument: mayAssume }));
    const same = await sts(k, assumer).send(new AssumeRoleCommand({ RoleArn: role.Role!.Arn!, RoleSessionName: 'same' }));
    const sameCreds = { accessKeyId: same.Credentials!.AccessKeyId!, secretAccessKey: same.Credentials!.SecretAccessKey!, sessionToken: same.Credentials!.SessionToken! };
    assert.match(sameCreds.accessKeyId, /^ASIA/);
    assert.equal((await sts(k, sameCreds).send(new GetCallerIdentityCommand({}))).Arn, `arn:aws:sts::${rootAccount}:assumed-role/reader/same`);
    assert.equal(await outcome(s3(k, sameCreds).send(new PutObjectCommand({ Bucket: b, Key: 'w', Body: 'w' }))), 'OK');

    const narrowed = await sts(k, assumer).send(new AssumeRoleCommand({
      RoleArn: role.Role!.Arn!, RoleSessionName: 'narrow', Policy: doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]),
    }));
    const n = { accessKeyId: narrowed.Credentials!.AccessKeyId!, secretAccessKey: narrowed.Credentials!.SecretAccessKey!, sessionToken: narrowed.Credentials!.SessionToken! };
    assert.equal(await outcome(s3(k, n).send(new GetObjectCommand({ Bucket: b, Key: 'r' }))), 'OK');
    assert.equal(await outcome(s3(k, n).send(new PutObjectCommand({ Bucket: b, Key: 'w2', Body: 'w' }))), 'AccessDenied');
    // The AWS CLI with temporary credentials.
    assert.equal(aws(k, ['s3api', 'get-object', '--bucket', b, '--key', 'r', '/dev/null'], n).status, 0);
    // A tampered session token is refused.
    assert.equal(await outcome(s3(k, { ...n, sessionToken: `${n.sessionToken.slice(0, -4)}AAAA` }).send(new GetObjectCommand({ Bucket: b, Key: 'r' }))), 'InvalidToken');

    // Cross-account: the partner account is trusted by id; its user needs its own permission.
    const dave = await userWithKey(iam(k, partner), 'dave');
    assert.equal(await outcome(sts(k, dave).send(new AssumeRoleCommand({ RoleArn: role.Role!.Arn!, RoleSessionName: 'dave' }))), 'AccessDenied');
    await iam(k, partner).send(new PutUserPolicyCommand({ UserName: 'dave', PolicyName: 'assume', PolicyDocument: mayAssume }));
    const cross = await sts(k, dave).send(new AssumeRoleCommand({ RoleArn: role.Role!.Arn!, RoleSessionName: 'dave' }));
    const c = { accessKeyId: cross.Credentials!.AccessKeyId!, secretAccessKey: cross.Credentials!.SecretAccessKey!, sessionToken: cross.Credentials!.SessionToken! };
    assert.equal((await sts(k, c).send(new GetCallerIdentityCommand({}))).Account, rootAccount);
    assert.equal(await outcome(s3(k, c).send(new GetObjectCommand({ Bucket: b, Key: 'r' }))), 'OK');
  });

  it('a bucket policy requiring MFA (aws:MultiFactorAuthAge < 3600) denies plain keys, allows GetSessionToken credentials with a TOTP code', async () => {
    const b = bucketName();
    await s3(k).send(new CreateBucketCommand({ Bucket: b }));
    await s3(k).send(new PutObjectCommand({ Bucket: b, Key: 'secret', Body: 's' }));
    const erin = await userWithKey(rootIam, 'erin');
    await rootIam.send(new PutUserPolicyCommand({ UserName: 'erin', PolicyName: 'get', PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]) }));
    await s3(k).send(new PutBucketPolicyCommand({
      Bucket: b,
      Policy: doc([{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${b}/*`, Condition: { NumericGreaterThanIfExists: { 'aws:MultiFactorAuthAge': '3600' } } },
        { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${b}/*`, Condition: { Null: { 'aws:MultiFactorAuthAge': 'true' } } }]),
    }));
    assert.equal(await outcome(s3(k, erin).send(new GetObjectCommand({ Bucket: b, Key: 'secret' }))), 'AccessDenied');
    const device = await rootIam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: 'erin-phone' }));
    const seed = Buffer.from(device.VirtualMFADevice!.Base32StringSeed!).toString('utf8');
    const now = Date.now();
    await rootIam.send(new EnableMFADeviceCommand({
      UserName: 'erin', SerialNumber: device.VirtualMFADevice!.SerialNumber!, AuthenticationCode1: totp(seed, now - 30_000), AuthenticationCode2: totp(seed, now),
    }));
    const tok = await sts(k, erin).send(new GetSessionTokenCommand({ SerialNumber: device.VirtualMFADevice!.SerialNumber!, TokenCode: totp(seed, now + 30_000), DurationSeconds: 900 }));
    const mfa = { accessKeyId: tok.Credentials!.AccessKeyId!, secretAccessKey: tok.Credentials!.SecretAccessKey!, sessionToken: tok.Credentials!.SessionToken! };
    assert.equal(await outcome(s3(k, mfa).send(new GetObjectCommand({ Bucket: b, Key: 'secret' }))), 'OK');
    // The same code twice is refused (replay), and a session without MFA stays denied.
    assert.equal(await outcome(sts(k, erin).send(new GetSessionTokenCommand({ SerialNumber: device.VirtualMFADevice!.SerialNumber!, TokenCode: totp(seed, now + 30_000) }))), 'AccessDenied');
    const plain = await sts(k, erin).send(new GetSessionTokenCommand({}));
    const p = { accessKeyId: plain.Credentials!.AccessKeyId!, secretAccessKey: plain.Credentials!.SecretAccessKey!, sessionToken: plain.Credentials!.SessionToken! };
    assert.equal(await outcome(s3(k, p).send(new GetObjectCommand({ Bucket: b, Key: 'secret' }))), 'AccessDenied');
  });

  it('per-user home prefixes with ${aws:username} in one group policy', async () => {
    const b = bucketName();
    await s3(k).send(new CreateBucketCommand({ Bucket: b }));
    await rootIam.send(new CreateGroupCommand({ GroupName: 'homes' }));
    await rootIam.send(new PutGroupPolicyCommand({
      GroupName: 'homes', PolicyName: 'home',
      PolicyDocument: doc([
        { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: `arn:aws:s3:::${b}/home/\${aws:username}/*` },
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}`, Condition: { StringLike: { 's3:prefix': 'home/${aws:username}/*' } } },
      ]),
    }));
    const users: Record<string, Credentials> = {};
    for (const name of ['fay', 'gus']) {
      users[name] = await userWithKey(rootIam, name);
      await rootIam.send(new AddUserToGroupCommand({ GroupName: 'homes', UserName: name }));
    }
    assert.equal(await outcome(s3(k, users.fay!).send(new PutObjectCommand({ Bucket: b, Key: 'home/fay/a', Body: 'a' }))), 'OK');
    assert.equal(await outcome(s3(k, users.fay!).send(new PutObjectCommand({ Bucket: b, Key: 'home/gus/a', Body: 'a' }))), 'AccessDenied');
    assert.equal(await outcome(s3(k, users.gus!).send(new GetObjectCommand({ Bucket: b, Key: 'home/fay/a' }))), 'AccessDenied');
    assert.equal(await outcome(s3(k, users.fay!).send(new ListObjectsV2Command({ Bucket: b, Prefix: 'home/fay/' }))), 'OK');
    assert.equal(await outcome(s3(k, users.fay!).send(new ListObjectsV2Command({ Bucket: b, Prefix: 'home/gus/' }))), 'AccessDenied');
    const got = await rootIam.send(new GetUserCommand({ UserName: 'fay' }));
    assert.equal(got.User?.Arn, `arn:aws:iam::${rootAccount}:user/fay`);
  });

  it('identity policies read the stored object\'s tags: ABAC on ${aws:PrincipalTag/team}, and a Deny on a classification tag', async () => {
    const b = bucketName();
    await s3(k).send(new CreateBucketCommand({ Bucket: b }));
    await s3(k).send(new PutObjectCommand({ Bucket: b, Key: 'red', Body: 'r', Tagging: 'team=red' }));
    await s3(k).send(new PutObjectCommand({ Bucket: b, Key: 'blue', Body: 'b', Tagging: 'team=blue' }));
    await s3(k).send(new PutObjectCommand({ Bucket: b, Key: 'secret', Body: 's', Tagging: 'team=red&classification=secret' }));
    const hana = await userWithKey(rootIam, 'hana');
    await rootIam.send(new TagUserCommand({ UserName: 'hana', Tags: [{ Key: 'team', Value: 'red' }] }));
    await rootIam.send(new PutUserPolicyCommand({
      UserName: 'hana', PolicyName: 'abac',
      PolicyDocument: doc([
        { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { StringEquals: { 's3:ExistingObjectTag/team': '${aws:PrincipalTag/team}' } } },
        { Effect: 'Deny', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 's3:ExistingObjectTag/classification': 'secret' } } },
      ]),
    }));
    assert.equal(await outcome(s3(k, hana).send(new GetObjectCommand({ Bucket: b, Key: 'red' }))), 'OK');
    assert.equal(await outcome(s3(k, hana).send(new GetObjectCommand({ Bucket: b, Key: 'blue' }))), 'AccessDenied');
    assert.equal(await outcome(s3(k, hana).send(new GetObjectCommand({ Bucket: b, Key: 'secret' }))), 'AccessDenied');
    assert.equal(aws(k, ['s3api', 'get-object', '--bucket', b, '--key', 'red', '/dev/null'], hana).status, 0);
  });

  it('an SCP denying s3:DeleteBucket binds a member account, root included, and never the management account', async () => {
    const member = JSON.parse(kuraCli(['account', 'create', '--name', 'member', '--json', '--data-dir', k.dataDir]).stdout) as Credentials & { accountId: string };
    const cli = (args: string[]): string => {
      const r = kuraCli([...args, '--data-dir', k.dataDir]);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    cli(['org', 'create', '--management', rootAccount]);
    const ou = cli(['org', 'create-ou', '--name', 'workloads']);
    cli(['org', 'move-account', member.accountId, '--to', ou]);
    const scpDir = mkdtempSync(join(tmpdir(), 'kura-scp-'));
    const file = join(scpDir, 'scp.json');
    writeFileSync(file, doc([{ Effect: 'Deny', Action: 's3:DeleteBucket', Resource: '*' }]));
    const scp = cli(['org', 'create-policy', '--name', 'no-bucket-deletes', '--file', file]);
    cleanup(scpDir);
    cli(['org', 'attach-policy', scp, '--target', ou]);
    // Changes made by the CLI reach the running server within two seconds.
    await new Promise((r) => setTimeout(r, 2_100));
    const mb = bucketName();
    await s3(k, member).send(new CreateBucketCommand({ Bucket: mb }));
    assert.equal(await outcome(s3(k, member).send(new DeleteBucketCommand({ Bucket: mb }))), 'AccessDenied');
    const own = bucketName();
    await s3(k).send(new CreateBucketCommand({ Bucket: own }));
    assert.equal(await outcome(s3(k).send(new DeleteBucketCommand({ Bucket: own }))), 'OK', 'the management account is never restricted');
  });

  it('the AWS CLI drives IAM; secrets are shown once; the simulator answers with the server\'s evaluator', async () => {
    const run = (args: string[]): unknown => {
      const r = aws(k, args);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim() === '' ? undefined : JSON.parse(r.stdout);
    };
    run(['iam', 'create-user', '--user-name', 'cli-user', '--path', '/team/']);
    const key = run(['iam', 'create-access-key', '--user-name', 'cli-user']) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } };
    assert.ok(key.AccessKey.SecretAccessKey.length >= 40);
    const listed = run(['iam', 'list-access-keys', '--user-name', 'cli-user']) as { AccessKeyMetadata: Record<string, unknown>[] };
    assert.equal(listed.AccessKeyMetadata.length, 1);
    assert.equal(listed.AccessKeyMetadata[0]!.SecretAccessKey, undefined, 'the secret is never shown again');
    const users = run(['iam', 'list-users', '--path-prefix', '/team/']) as { Users: { UserName: string; Arn: string }[] };
    assert.deepEqual(users.Users.map((u) => u.Arn), [`arn:aws:iam::${rootAccount}:user/team/cli-user`]);
    run(['iam', 'put-user-policy', '--user-name', 'cli-user', '--policy-name', 'p', '--policy-document', doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::x/*', Condition: { Bool: { 'aws:SecureTransport': 'true' } } }])]);
    const sim = run(['iam', 'simulate-principal-policy', '--policy-source-arn', `arn:aws:iam::${rootAccount}:user/team/cli-user`,
      '--action-names', 's3:GetObject', 's3:PutObject', '--resource-arns', 'arn:aws:s3:::x/k']) as { EvaluationResults: { EvalActionName: string; EvalDecision: string; MissingContextValues: string[] }[] };
    const byAction = Object.fromEntries(sim.EvaluationResults.map((r) => [r.EvalActionName, r]));
    assert.equal(byAction['s3:GetObject']!.EvalDecision, 'implicitDeny');
    assert.deepEqual(byAction['s3:GetObject']!.MissingContextValues.map((v) => v.toLowerCase()), ['aws:securetransport']);
    assert.equal(byAction['s3:PutObject']!.EvalDecision, 'implicitDeny');
    const withContext = run(['iam', 'simulate-principal-policy', '--policy-source-arn', `arn:aws:iam::${rootAccount}:user/team/cli-user`, '--action-names', 's3:GetObject',
      '--resource-arns', 'arn:aws:s3:::x/k', '--context-entries', 'ContextKeyName=aws:SecureTransport,ContextKeyValues=true,ContextKeyType=boolean']) as { EvaluationResults: { EvalDecision: string }[] };
    assert.equal(withContext.EvaluationResults[0]!.EvalDecision, 'allowed');
    const summary = run(['iam', 'get-account-summary']) as { SummaryMap: Record<string, number> };
    assert.ok(summary.SummaryMap.Users! >= 1);
  });

  it('bad input gets IAM\'s errors and changes nothing', async () => {
    const code = async (p: Promise<unknown>): Promise<string> => outcome(p);
    assert.equal(await code(rootIam.send(new CreateUserCommand({ UserName: 'bad name!' }))), 'ValidationError');
    await rootIam.send(new CreateUserCommand({ UserName: 'Mallory' }));
    assert.equal(await code(rootIam.send(new CreateUserCommand({ UserName: 'mallory' }))), 'EntityAlreadyExistsException');
    assert.equal(await code(rootIam.send(new PutUserPolicyCommand({ UserName: 'Mallory', PolicyName: 'p', PolicyDocument: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}' }))), 'MalformedPolicyDocumentException');
    const big = doc(Array.from({ length: 60 }, (_, i) => ({ Sid: `S${i}`, Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::bucket-${i}/*` })));
    assert.ok(big.length > 2048);
    assert.equal(await code(rootIam.send(new PutUserPolicyCommand({ UserName: 'Mallory', PolicyName: 'big', PolicyDocument: big }))), 'LimitExceededException');
    assert.equal(await code(rootIam.send(new AttachUserPolicyCommand({ UserName: 'Mallory', PolicyArn: 'arn:aws:iam::123:policy/nope' }))), 'InvalidInputException');
    assert.equal(await code(rootIam.send(new CreateRoleCommand({
      RoleName: 'ghost-trust', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999999999999:root' }, Action: 'sts:AssumeRole' }]),
    }))), 'MalformedPolicyDocumentException');
    assert.equal(await code(rootIam.send(new GetUserCommand({ UserName: 'ghost-trust' }))), 'NoSuchEntityException');
    const listed = await rootIam.send(new ListUsersCommand({}));
    assert.equal(listed.Users?.some((u) => u.UserName === 'bad name!'), false);
    // Unknown actions and malformed Query bodies, on the wire.
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${k.endpoint}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'iam.amazonaws.com' } }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end('Action=NoSuchAction&Version=2010-05-08');
    });
    assert.equal(res.status, 403, 'unsigned requests are refused before anything else');
    assert.match(res.body, /<Code>MissingAuthenticationToken<\/Code>/);
    // The CLI's own pagination (MaxItems/Marker) against the server.
    assert.equal(aws(k, ['iam', 'list-users', '--max-items', '1']).status, 0);
  });

  it('regressions from review: role ARNs match exactly, session gates hold under direct trust, recreated identities do not revive old sessions', async () => {
    const b = bucketName();
    await s3(k).send(new CreateBucketCommand({ Bucket: b }));
    const adminRole = await rootIam.send(new CreateRoleCommand({ RoleName: 'Admin', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${rootAccount}:root` }, Action: 'sts:AssumeRole' }]) }));
    await rootIam.send(new PutRolePolicyCommand({ RoleName: 'Admin', PolicyName: 'all', PolicyDocument: doc([{ Effect: 'Allow', Action: '*', Resource: '*' }]) }));
    const mallet = await userWithKey(rootIam, 'mallet');
    await rootIam.send(new PutUserPolicyCommand({
      UserName: 'mallet', PolicyName: 'assume', PolicyDocument: doc([
        { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' },
        { Effect: 'Deny', Action: 'sts:AssumeRole', Resource: adminRole.Role!.Arn! },
      ]),
    }));
    assert.equal(await outcome(sts(k, mallet).send(new AssumeRoleCommand({ RoleArn: adminRole.Role!.Arn!, RoleSessionName: 'ss' }))), 'AccessDenied');
    assert.equal(await outcome(sts(k, mallet).send(new AssumeRoleCommand({ RoleArn: adminRole.Role!.Arn!.replace('Admin', 'admin'), RoleSessionName: 'ss' }))), 'AccessDenied', 'a differently cased name is not the role');

    // Role R1's session, narrowed by a session policy, may not escape it through a role whose trust names R1.
    const r1 = await rootIam.send(new CreateRoleCommand({ RoleName: 'R1', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${rootAccount}:user/mallet` }, Action: 'sts:AssumeRole' }]) }));
    await rootIam.send(new PutRolePolicyCommand({ RoleName: 'R1', PolicyName: 'all', PolicyDocument: doc([{ Effect: 'Allow', Action: '*', Resource: '*' }]) }));
    await rootIam.send(new CreateRoleCommand({ RoleName: 'R2', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: r1.Role!.Arn! }, Action: 'sts:AssumeRole' }]) }));
    const narrow = await sts(k, mallet).send(new AssumeRoleCommand({ RoleArn: r1.Role!.Arn!, RoleSessionName: 'nn', Policy: doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]) }));
    const n = { accessKeyId: narrow.Credentials!.AccessKeyId!, secretAccessKey: narrow.Credentials!.SecretAccessKey!, sessionToken: narrow.Credentials!.SessionToken! };
    assert.equal(await outcome(sts(k, n).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${rootAccount}:role/R2`, RoleSessionName: 'escape' }))), 'AccessDenied');

    // A session of a deleted role does not inherit a new role of the same name.
    const wide = await sts(k, mallet).send(new AssumeRoleCommand({ RoleArn: r1.Role!.Arn!, RoleSessionName: 'ww' }));
    const w = { accessKeyId: wide.Credentials!.AccessKeyId!, secretAccessKey: wide.Credentials!.SecretAccessKey!, sessionToken: wide.Credentials!.SessionToken! };
    assert.equal(await outcome(s3(k, w).send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x' }))), 'OK');
    await rootIam.send(new DeleteRolePolicyCommand({ RoleName: 'R1', PolicyName: 'all' }));
    await rootIam.send(new DeleteRoleCommand({ RoleName: 'R1' }));
    await rootIam.send(new CreateRoleCommand({ RoleName: 'R1', AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${rootAccount}:root` }, Action: 'sts:AssumeRole' }]) }));
    await rootIam.send(new PutRolePolicyCommand({ RoleName: 'R1', PolicyName: 'all', PolicyDocument: doc([{ Effect: 'Allow', Action: '*', Resource: '*' }]) }));
    assert.equal(await outcome(s3(k, w).send(new PutObjectCommand({ Bucket: b, Key: 'y', Body: 'y' }))), 'AccessDenied');
  });

  it('IAM calls see the target\'s tags: a Deny on aws:ResourceTag protects tagged roles', async () => {
    await rootIam.send(new CreateRoleCommand({
      RoleName: 'BreakGlass', Tags: [{ Key: 'protected', Value: 'true' }],
      AssumeRolePolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${rootAccount}:root` }, Action: 'sts:AssumeRole' }]),
    }));
    const helpdesk = await userWithKey(rootIam, 'helpdesk');
    await rootIam.send(new PutUserPolicyCommand({
      UserName: 'helpdesk', PolicyName: 'p', PolicyDocument: doc([
        { Effect: 'Allow', Action: ['iam:*', 'sts:AssumeRole'], Resource: '*' },
        { Effect: 'Deny', Action: ['iam:*', 'sts:AssumeRole'], Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/protected': 'true' } } },
      ]),
    }));
    assert.equal(await outcome(iam(k, helpdesk).send(new UpdateAssumeRolePolicyCommand({ RoleName: 'BreakGlass', PolicyDocument: doc([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${rootAccount}:user/helpdesk` }, Action: 'sts:AssumeRole' }]) }))), 'AccessDenied');
    assert.equal(await outcome(sts(k, helpdesk).send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${rootAccount}:role/BreakGlass`, RoleSessionName: 'xx' }))), 'AccessDenied');
    assert.equal(await outcome(iam(k, helpdesk).send(new GetUserCommand({ UserName: 'helpdesk' }))), 'OK');
  });

  it('a signed IAM or KMS request cannot be replayed with another body, nor marked UNSIGNED-PAYLOAD', async () => {
    const send = (service: string, body: string, signedHash: string, extra: Record<string, string>): Promise<{ status: number; body: string }> => {
      const headers = sigv4Headers(k, 'POST', '/', extra, signedHash, service);
      return new Promise((resolve, reject) => {
        const req = http.request(`${k.endpoint}/`, { method: 'POST', headers }, (r) => {
          let b = '';
          r.on('data', (c: Buffer) => (b += c.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body: b }));
        });
        req.on('error', reject);
        req.end(body);
      });
    };
    const hash = (b: string): string => createHash('sha256').update(b).digest('hex');
    const iamForm = { 'content-type': 'application/x-www-form-urlencoded' };
    const listUsers = 'Action=ListUsers&Version=2010-05-08';
    assert.equal((await send('iam', listUsers, hash(listUsers), iamForm)).status, 200, 'the honest request works');
    const swapped = 'Action=CreateUser&Version=2010-05-08&UserName=replayed';
    assert.equal((await send('iam', swapped, hash(listUsers), iamForm)).status, 403);
    assert.equal((await send('iam', swapped, 'UNSIGNED-PAYLOAD', iamForm)).status, 403);
    assert.equal(await outcome(rootIam.send(new GetUserCommand({ UserName: 'replayed' }))), 'NoSuchEntityException');
    const kmsJson = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' };
    assert.equal((await send('kms', '{}', hash('{}'), kmsJson)).status, 200);
    const tampered = await send('kms', '{"Limit":1}', hash('{}'), kmsJson);
    assert.equal(tampered.status, 400);
    assert.match(tampered.body, /InvalidSignatureException/);
  });
});
