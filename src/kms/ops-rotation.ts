/**
 * Key rotation: Enable/DisableKeyRotation, GetKeyRotationStatus, RotateKeyOnDemand and
 * ListKeyRotations. A rotation adds a material version and makes it current; older
 * versions stay, so everything sealed before still decrypts. Automatic rotation is lazy
 * (Call.rotateIfDue): a key is rotated on its first use after the due date.
 */
import { KmsError } from './errors.js';
import { ENABLED, addDays, addMaterialVersion } from './core.js';
import { MAX_ON_DEMAND_ROTATIONS, ROTATION_DAYS, epochSeconds } from './model.js';
import { KEY_ID_RULE, OWN_KEY, mutateKey, readKey, type Op } from './ops-keys.js';
import { paginate, readPaging } from './paging.js';

const enableKeyRotation: Op = async (call) => {
  const ref = call.input.string('KeyId', KEY_ID_RULE);
  const period = call.input.int('RotationPeriodInDays', { min: ROTATION_DAYS.min, max: ROTATION_DAYS.max }) ?? ROTATION_DAYS.default;
  await mutateKey(call, ref, 'kms:EnableKeyRotation', ENABLED, (k) => {
    const now = call.nowIso();
    // Already enabled: the next rotation moves with the period, counted from the last one.
    const since = k.rotation.enabled && k.rotation.since !== undefined ? k.rotation.since : now;
    const next = addDays(since, period);
    k.rotation = { enabled: true, periodDays: period, since, nextRotationDate: next < now ? now : next };
  }, { 'kms:RotationPeriodInDays': String(period) });
  return {};
};

const disableKeyRotation: Op = async (call) => {
  const ref = call.input.string('KeyId', KEY_ID_RULE);
  await mutateKey(call, ref, 'kms:DisableKeyRotation', ENABLED, (k) => {
    k.rotation = { enabled: false, periodDays: k.rotation.periodDays };
  });
  return {};
};

const getKeyRotationStatus: Op = async (call) => {
  const ref = call.input.string('KeyId', KEY_ID_RULE);
  const key = await call.rotateIfDue(await readKey(call, ref, 'kms:GetKeyRotationStatus', { aliases: false, crossAccount: true }));
  const r = key.rotation;
  if (!r.enabled) return { KeyId: key.keyId, KeyRotationEnabled: false };
  return {
    KeyId: key.keyId,
    KeyRotationEnabled: true,
    RotationPeriodInDays: r.periodDays,
    ...(r.nextRotationDate !== undefined ? { NextRotationDate: epochSeconds(r.nextRotationDate) } : {}),
  };
};

const rotateKeyOnDemand: Op = async (call) => {
  const ref = call.input.string('KeyId', KEY_ID_RULE);
  const key = await mutateKey(call, ref, 'kms:RotateKeyOnDemand', ENABLED, (k) => {
    if (k.material.filter((m) => m.rotationType === 'ON_DEMAND').length >= MAX_ON_DEMAND_ROTATIONS) {
      throw new KmsError('LimitExceededException',
        `The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: ${k.arn}`);
    }
    addMaterialVersion(call.env, k, call.nowIso(), 'ON_DEMAND');
    return k;
  });
  return { KeyId: key.keyId };
};

const listKeyRotations: Op = async (call) => {
  const ref = call.input.string('KeyId', KEY_ID_RULE);
  // Validated as the API defines it; both values list the rotations (key-material ids and
  // states, which ALL_KEY_MATERIAL adds on AWS, are not modelled).
  call.input.enumValue('IncludeKeyMaterial', ['ROTATIONS_ONLY', 'ALL_KEY_MATERIAL']);
  const paging = readPaging(call.input, 1000, 100);
  const key = await call.rotateIfDue(await readKey(call, ref, 'kms:ListKeyRotations', OWN_KEY));
  const rotations = key.material.filter((m) => m.rotationType !== undefined);
  // Zero-padded so the marker order is the version order.
  const page = paginate(rotations, (m) => String(m.version).padStart(10, '0'), paging);
  return {
    Rotations: page.items.map((m) => ({ KeyId: key.keyId, RotationDate: epochSeconds(m.createdAt), RotationType: m.rotationType })),
    ...page.members,
  };
};

export const ROTATION_OPS: Record<string, Op> = {
  EnableKeyRotation: enableKeyRotation,
  DisableKeyRotation: disableKeyRotation,
  GetKeyRotationStatus: getKeyRotationStatus,
  RotateKeyOnDemand: rotateKeyOnDemand,
  ListKeyRotations: listKeyRotations,
};
