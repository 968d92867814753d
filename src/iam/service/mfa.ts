/**
 * Virtual MFA devices: CreateVirtualMFADevice, EnableMFADevice, DeactivateMFADevice,
 * ListMFADevices, ListVirtualMFADevices, DeleteVirtualMFADevice and device tags, plus
 * verifyMfaCode for STS. Seeds are sealed under the service master key, bound to the
 * device's serial number. Each accepted code's time step is remembered, in memory and in
 * the device document, so a code works once even across a restart.
 */
import { randomBytes } from 'node:crypto';
import type { Keyring } from '../../crypto/keyring.js';
import { openSecret, sealSecret } from '../../crypto/sse/envelope.js';
import type { MetadataStore } from '../../storage/ports.js';
import { RULES } from '../api/query.js';
import { IamError, type QueryObject } from '../api/xml.js';
import { base32Decode, base32Encode } from '../mfa/base32.js';
import { ReplayGuard, otpauthUri, verifyEnableCodes } from '../mfa/totp.js';
import {
  type Ctx, type Handler, checkUniqueTagKeys, date, errors, iamArn, impliedUserName, mergeTags, nameKey, nowIso, pageResult, paginate, parseIamArn, readPaging, readTagKeys, readTags, reader, removeTags, tagList, userShape, tagsPage,
} from './common.js';
import { withAccountLock } from './lock.js';
import { type MfaDoc, create, list, load, remove, save } from './store.js';
import { requireUser } from './users.js';

/** 40 bytes: a 64-character Base32 seed, the length AWS hands out. */
const SEED_BYTES = 40;
const MFA_DEVICES_PER_USER = 8;
const ISSUER = 'Amazon Web Services';

/** One guard for the process: every service instance and STS share the replay state. */
const guard = new ReplayGuard();

const seedContext = (accountId: string, serialNumber: string): Record<string, string> => ({ purpose: 'mfa-seed', accountId, serialNumber });

function openSeed(keyring: Keyring, accountId: string, d: MfaDoc): Buffer {
  return base32Decode(openSecret(keyring, d.seedSealed, seedContext(accountId, d.serialNumber)));
}

/** The device with this serial number in the account, if any. */
async function findDevice(meta: MetadataStore, accountId: string, serialNumber: string): Promise<MfaDoc | undefined> {
  const parts = parseIamArn(serialNumber, 'mfa');
  if (!parts || parts.account !== accountId) return undefined;
  const d = await load(meta, accountId, 'mfa', parts.name);
  return d && d.serialNumber === serialNumber ? d : undefined;
}

const noSuchDevice = (serial: string): IamError => new IamError('NoSuchEntity', `VirtualMFADevice with serial number ${serial} doesn't exist.`);

async function requireDevice(ctx: Ctx, serial: string): Promise<MfaDoc> {
  const d = await findDevice(ctx.meta, ctx.accountId, serial);
  if (!d) throw noSuchDevice(serial);
  return d;
}

const enabledFor = (d: MfaDoc, user: string): boolean => d.userName !== undefined && nameKey(d.userName) === nameKey(user);

const createVirtualMfaDevice: Handler = async (ctx) => {
  const r = reader(ctx);
  const path = r.string('Path', RULES.path) ?? '/';
  const name = r.string('VirtualMFADeviceName', { ...RULES.virtualMFADeviceName, required: true });
  const tags = readTags(r);
  r.done();
  checkUniqueTagKeys(tags);
  const serialNumber = iamArn(ctx.accountId, 'mfa', path, name);
  const seed = base32Encode(randomBytes(SEED_BYTES));
  const device: MfaDoc = {
    kind: 'mfa', name, path, serialNumber, createDate: nowIso(ctx), tags,
    seedSealed: sealSecret(ctx.keyring, seed, seedContext(ctx.accountId, serialNumber)),
  };
  await create(ctx.meta, ctx.accountId, device, () => new IamError('EntityAlreadyExists', 'MFADevice entity at the same path and name already exists.'));
  // A device created under a serial number used before must not inherit its replay state.
  guard.forget(serialNumber);
  return {
    VirtualMFADevice: {
      SerialNumber: serialNumber,
      // Blobs: the Base32 text travels base64-encoded, as AWS sends it.
      Base32StringSeed: Buffer.from(seed, 'utf8'),
      // Not a PNG: the otpauth:// URI a QR code would carry, for clients to render.
      QRCodePNG: Buffer.from(otpauthUri(`${name}@${ctx.accountId}`, ISSUER, seed), 'utf8'),
      Tags: tags.length > 0 ? tagList(tags) : undefined,
    },
  };
};

const enableMfaDevice: Handler = async (ctx) => {
  const r = reader(ctx);
  const userName = r.string('UserName', { ...RULES.existingUserName, required: true });
  const serial = r.string('SerialNumber', { ...RULES.serialNumber, required: true });
  const code1 = r.string('AuthenticationCode1', { ...RULES.authenticationCode, required: true });
  const code2 = r.string('AuthenticationCode2', { ...RULES.authenticationCode, required: true });
  r.done();
  const user = await requireUser(ctx, userName);
  const device = await requireDevice(ctx, serial);
  if (device.userName !== undefined) throw new IamError('EntityAlreadyExists', 'MFA Device is already in use.');
  const devices = await list(ctx.meta, ctx.accountId, 'mfa');
  if (devices.filter((d) => enabledFor(d, user.name)).length >= MFA_DEVICES_PER_USER) throw errors.quota('MFADevicesPerUser', MFA_DEVICES_PER_USER);
  const counter = verifyEnableCodes(openSeed(ctx.keyring, ctx.accountId, device), code1, code2, ctx.clock.now().getTime());
  if (counter === undefined || (device.lastCounter !== undefined && counter <= device.lastCounter)) {
    throw new IamError('InvalidAuthenticationCode', 'Authentication code for device is not valid.');
  }
  await save(ctx.meta, ctx.accountId, { ...device, userName: user.name, enableDate: nowIso(ctx), lastCounter: counter });
  // The two enabling codes must not also sign in.
  guard.forget(serial);
  guard.tryAccept(serial, counter);
  return undefined;
};

const deactivateMfaDevice: Handler = async (ctx) => {
  const r = reader(ctx);
  const given = r.string('UserName', RULES.existingUserName);
  const serial = r.string('SerialNumber', { ...RULES.serialNumber, required: true });
  r.done();
  const name = given ?? impliedUserName(ctx.caller);
  const user = name === null ? undefined : await requireUser(ctx, name);
  const device = await findDevice(ctx.meta, ctx.accountId, serial);
  if (!device || !user || !enabledFor(device, user.name)) throw noSuchDevice(serial);
  // The device returns to the unassigned pool; lastCounter stays, so old codes stay spent.
  await save(ctx.meta, ctx.accountId, { ...device, userName: undefined, enableDate: undefined });
  return undefined;
};

const listMfaDevices: Handler = async (ctx) => {
  const r = reader(ctx);
  const given = r.string('UserName', RULES.existingUserName);
  const paging = readPaging(r);
  r.done();
  const name = given ?? impliedUserName(ctx.caller);
  // Root MFA is managed in the console, not through this API: the root has none here.
  const user = name === null ? undefined : await requireUser(ctx, name);
  const devices = user ? (await list(ctx.meta, ctx.accountId, 'mfa')).filter((d) => enabledFor(d, user.name)) : [];
  const page = paginate(devices, (d) => d.serialNumber, paging);
  const items = page.page.map((d) => ({ UserName: d.userName, SerialNumber: d.serialNumber, EnableDate: d.enableDate ? date(d.enableDate) : undefined }));
  return pageResult('MFADevices', items, page);
};

const listVirtualMfaDevices: Handler = async (ctx) => {
  const r = reader(ctx);
  const status = r.enum('AssignmentStatus', ['Assigned', 'Unassigned', 'Any'] as const) ?? 'Any';
  const paging = readPaging(r);
  r.done();
  const devices = (await list(ctx.meta, ctx.accountId, 'mfa')).filter((d) =>
    status === 'Any' ? true : status === 'Assigned' ? d.userName !== undefined : d.userName === undefined);
  const page = paginate(devices, (d) => d.serialNumber, paging);
  const items: QueryObject[] = [];
  for (const d of page.page) {
    const user = d.userName === undefined ? undefined : await load(ctx.meta, ctx.accountId, 'user', d.userName);
    items.push({
      SerialNumber: d.serialNumber,
      User: user ? userShape(user, false) : undefined,
      EnableDate: d.enableDate ? date(d.enableDate) : undefined,
      Tags: d.tags && d.tags.length > 0 ? tagList(d.tags) : undefined,
    });
  }
  return pageResult('VirtualMFADevices', items, page);
};

const deleteVirtualMfaDevice: Handler = async (ctx) => {
  const r = reader(ctx);
  const serial = r.string('SerialNumber', { ...RULES.serialNumber, required: true });
  r.done();
  const device = await requireDevice(ctx, serial);
  if (device.userName !== undefined) throw new IamError('DeleteConflict', 'MFA Device is still in use.');
  await remove(ctx.meta, ctx.accountId, 'mfa', device.name);
  guard.forget(serial);
  return undefined;
};

const tagMfaDevice: Handler = async (ctx) => {
  const r = reader(ctx);
  const serial = r.string('SerialNumber', { ...RULES.serialNumber, required: true });
  const tags = readTags(r, true);
  r.done();
  const device = await requireDevice(ctx, serial);
  await save(ctx.meta, ctx.accountId, { ...device, tags: mergeTags(device.tags ?? [], tags) });
  return undefined;
};

const untagMfaDevice: Handler = async (ctx) => {
  const r = reader(ctx);
  const serial = r.string('SerialNumber', { ...RULES.serialNumber, required: true });
  const keys = readTagKeys(r);
  r.done();
  const device = await requireDevice(ctx, serial);
  await save(ctx.meta, ctx.accountId, { ...device, tags: removeTags(device.tags ?? [], keys) });
  return undefined;
};

const listMfaDeviceTags: Handler = async (ctx) => {
  const r = reader(ctx);
  const serial = r.string('SerialNumber', { ...RULES.serialNumber, required: true });
  const paging = readPaging(r);
  r.done();
  const device = await requireDevice(ctx, serial);
  return tagsPage(device.tags ?? [], paging);
};

export const MFA_ACTIONS = {
  CreateVirtualMFADevice: createVirtualMfaDevice,
  EnableMFADevice: enableMfaDevice,
  DeactivateMFADevice: deactivateMfaDevice,
  ListMFADevices: listMfaDevices,
  ListVirtualMFADevices: listVirtualMfaDevices,
  DeleteVirtualMFADevice: deleteVirtualMfaDevice,
  TagMFADevice: tagMfaDevice,
  UntagMFADevice: untagMfaDevice,
  ListMFADeviceTags: listMfaDeviceTags,
} satisfies Record<string, Handler>;

/**
 * Checks a TOTP code for STS (GetSessionToken/AssumeRole with SerialNumber + TokenCode).
 * True only for an enabled device — enabled for `userName` when one is given — and a
 * code not accepted before. The accepted step is persisted under the account's IAM lock,
 * so concurrent sign-ins cannot both spend one code and a restart cannot revive it.
 */
export async function verifyMfaCode(
  meta: MetadataStore, keyring: Keyring, accountId: string, serialNumber: string, code: string, nowMs: number, userName?: string,
): Promise<boolean> {
  return withAccountLock(accountId, async () => {
    const d = await findDevice(meta, accountId, serialNumber);
    if (!d || d.userName === undefined) return false;
    if (userName !== undefined && !enabledFor(d, userName)) return false;
    // The document may know a later step than this process (accepted before a restart).
    if (d.lastCounter !== undefined) guard.tryAccept(serialNumber, d.lastCounter);
    const counter = guard.verify(serialNumber, openSeed(keyring, accountId, d), code, nowMs);
    if (counter === undefined) return false;
    await save(meta, accountId, { ...d, lastCounter: counter });
    return true;
  });
}
