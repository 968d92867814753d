import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { base32Decode } from '../mfa/base32.js';
import { totp } from '../mfa/totp.js';
import { verifyMfaCode } from './mfa.js';
import { load } from './store.js';
import { ACCOUNT, type Harness, type Xml, harness, members } from './testing.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h.close();
});

const STEP = 30_000;

async function createDevice(name: string, path = '/'): Promise<{ serial: string; seed: Buffer; device: Xml }> {
  const device = (await h.call('CreateVirtualMFADevice', { VirtualMFADeviceName: name, Path: path })).VirtualMFADevice as Xml;
  const seedText = Buffer.from(String(device.Base32StringSeed), 'base64').toString('utf8');
  return { serial: String(device.SerialNumber), seed: base32Decode(seedText), device };
}

/** Two consecutive codes, as a user reads them off an authenticator app. */
const enableCodes = (seed: Buffer, now: number): Record<string, string> => ({
  AuthenticationCode1: totp(seed, now - STEP),
  AuthenticationCode2: totp(seed, now),
});

describe('virtual MFA devices', () => {
  it('create, enable, list, deactivate, delete', async () => {
    const { serial, seed, device } = await createDevice('phone', '/mfa/');
    assert.equal(serial, `arn:aws:iam::${ACCOUNT}:mfa/mfa/phone`);
    assert.match(Buffer.from(String(device.Base32StringSeed), 'base64').toString('utf8'), /^[A-Z2-7]{64}$/);
    const uri = Buffer.from(String(device.QRCodePNG), 'base64').toString('utf8');
    assert.match(uri, new RegExp(`^otpauth://totp/Amazon%20Web%20Services:phone@${ACCOUNT}\\?secret=[A-Z2-7]{64}&issuer=Amazon%20Web%20Services$`));
    await h.fail('CreateVirtualMFADevice', { VirtualMFADeviceName: 'PHONE' }, 'EntityAlreadyExists', 'MFADevice entity at the same path and name already exists.');
    const stored = await load(h.meta, ACCOUNT, 'mfa', 'phone');
    assert.ok(stored && !stored.seedSealed.includes(Buffer.from(String(device.Base32StringSeed), 'base64').toString('utf8')), 'the seed is sealed');

    await h.call('CreateUser', { UserName: 'ann' });
    const unassigned = members<Xml>((await h.call('ListVirtualMFADevices', { AssignmentStatus: 'Unassigned' })).VirtualMFADevices);
    assert.deepEqual(unassigned.map((d) => d.SerialNumber), [serial]);
    assert.equal(unassigned[0]!.Base32StringSeed, undefined, 'seeds are returned only at creation');

    const wrong = { AuthenticationCode1: '000000', AuthenticationCode2: '000000' };
    await h.fail('EnableMFADevice', { UserName: 'ann', SerialNumber: serial, ...wrong }, 'InvalidAuthenticationCode', 'Authentication code for device is not valid.');
    await h.fail('EnableMFADevice', { UserName: 'ann', SerialNumber: serial, AuthenticationCode1: '12345', AuthenticationCode2: '123456' }, 'ValidationError', /authenticationCode1/);
    await h.fail('EnableMFADevice', { UserName: 'ann', SerialNumber: `arn:aws:iam::${ACCOUNT}:mfa/none`, ...enableCodes(seed, h.now) }, 'NoSuchEntity',
      `VirtualMFADevice with serial number arn:aws:iam::${ACCOUNT}:mfa/none doesn't exist.`);
    await h.call('EnableMFADevice', { UserName: 'ann', SerialNumber: serial, ...enableCodes(seed, h.now) });
    await h.fail('EnableMFADevice', { UserName: 'ann', SerialNumber: serial, ...enableCodes(seed, h.now + STEP) }, 'EntityAlreadyExists', 'MFA Device is already in use.');

    const mine = members<Xml>((await h.call('ListMFADevices', {}, h.userPrincipal('ann'))).MFADevices);
    assert.deepEqual(mine, [{ UserName: 'ann', SerialNumber: serial, EnableDate: '2025-06-01T12:00:00Z' }]);
    const assigned = members<Xml>((await h.call('ListVirtualMFADevices', { AssignmentStatus: 'Assigned' })).VirtualMFADevices);
    assert.equal((assigned[0]!.User as Xml).UserName, 'ann');

    await h.fail('DeleteVirtualMFADevice', { SerialNumber: serial }, 'DeleteConflict', 'MFA Device is still in use.');
    await h.fail('DeleteUser', { UserName: 'ann' }, 'DeleteConflict', 'Cannot delete entity, must delete MFA device first.');
    await h.call('DeactivateMFADevice', { UserName: 'ann', SerialNumber: serial });
    assert.deepEqual(members((await h.call('ListMFADevices', { UserName: 'ann' })).MFADevices), []);
    await h.call('DeleteVirtualMFADevice', { SerialNumber: serial });
    await h.fail('DeleteVirtualMFADevice', { SerialNumber: serial }, 'NoSuchEntity', `VirtualMFADevice with serial number ${serial} doesn't exist.`);
    await h.call('DeleteUser', { UserName: 'ann' });
  });

  it('verifyMfaCode accepts each code once and never the enabling codes', async () => {
    const { serial, seed } = await createDevice('token');
    await h.call('CreateUser', { UserName: 'bob' });
    await h.call('EnableMFADevice', { UserName: 'bob', SerialNumber: serial, ...enableCodes(seed, h.now) });

    assert.equal(await verifyMfaCode(h.meta, h.keyring, ACCOUNT, serial, totp(seed, h.now), h.now), false, 'the second enabling code');
    const later = h.now + STEP;
    const code = totp(seed, later);
    assert.equal(await verifyMfaCode(h.meta, h.keyring, ACCOUNT, serial, code, later, 'other-user'), false, 'someone else\'s device');
    assert.equal(await verifyMfaCode(h.meta, h.keyring, ACCOUNT, serial, code, later, 'BOB'), true);
    assert.equal(await verifyMfaCode(h.meta, h.keyring, ACCOUNT, serial, code, later), false, 'a replay');
    assert.equal((await load(h.meta, ACCOUNT, 'mfa', 'token'))?.lastCounter, Math.floor(later / STEP), 'the accepted step is persisted');
    const right = totp(seed, later + STEP);
    const wrongCode = `${(Number(right[0]) + 1) % 10}${right.slice(1)}`;
    assert.equal(await verifyMfaCode(h.meta, h.keyring, ACCOUNT, serial, wrongCode, later + STEP), false, 'a wrong code');
    assert.equal(await verifyMfaCode(h.meta, h.keyring, ACCOUNT, `arn:aws:iam::${ACCOUNT}:mfa/none`, code, later), false);

    await h.call('DeactivateMFADevice', { UserName: 'bob', SerialNumber: serial });
    assert.equal(await verifyMfaCode(h.meta, h.keyring, ACCOUNT, serial, totp(seed, later + 2 * STEP), later + 2 * STEP), false, 'a deactivated device');
  });

  it('a renamed user keeps its MFA device', async () => {
    const { serial, seed } = await createDevice('d');
    await h.call('CreateUser', { UserName: 'cat' });
    await h.call('EnableMFADevice', { UserName: 'cat', SerialNumber: serial, ...enableCodes(seed, h.now) });
    await h.call('UpdateUser', { UserName: 'cat', NewUserName: 'kit' });
    assert.deepEqual(members<Xml>((await h.call('ListMFADevices', { UserName: 'kit' })).MFADevices).map((d) => d.SerialNumber), [serial]);
  });

  it('device tags', async () => {
    const { serial } = await createDevice('tagged');
    await h.call('TagMFADevice', { SerialNumber: serial, 'Tags.member.1.Key': 'owner', 'Tags.member.1.Value': 'ops' });
    assert.deepEqual(members((await h.call('ListMFADeviceTags', { SerialNumber: serial })).Tags), [{ Key: 'owner', Value: 'ops' }]);
    await h.call('UntagMFADevice', { SerialNumber: serial, 'TagKeys.member.1': 'owner' });
    assert.deepEqual(members((await h.call('ListMFADeviceTags', { SerialNumber: serial })).Tags), []);
  });
});
