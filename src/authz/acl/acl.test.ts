import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { S3Error } from '../../errors/s3-errors.js';
import {
  ACL_ACTIONS,
  ALL_USERS,
  AUTHENTICATED_USERS,
  CANNED_ACLS,
  EC2_EXEC_READ_ID,
  LOG_DELIVERY,
  XSI_NS,
  acceptableUnderBucketOwnerEnforced,
  aclAllows,
  aclFromGrantHeaders,
  aclFromRequestHeaders,
  aclToXml,
  cannedAcl,
  enforcedOwnerAcl,
  isPublicAcl,
  parseAclXml,
  permissionsForAction,
  withoutPublicGrants,
  type Acl,
  type AclResolver,
  type Grant,
  type Owner,
  type Permission,
} from './acl.js';

const BUCKET_OWNER: Owner = { id: 'b'.repeat(64), displayName: 'bucket-owner' };
const WRITER: Owner = { id: 'w'.repeat(64), displayName: 'writer' };
const ALT: Owner = { id: 'a'.repeat(64), displayName: 'alt' };

const resolver: AclResolver = {
  byEmail: (e) => (e === 'alt@example.com' ? ALT : e === 'writer@example.com' ? WRITER : undefined),
};
const strictResolver: AclResolver = {
  ...resolver,
  byId: (id) => [BUCKET_OWNER, WRITER, ALT].find((o) => o.id === id),
};

const user = (o: Owner, permission: Permission): Grant => ({ grantee: { type: 'CanonicalUser', id: o.id, displayName: o.displayName! }, permission });
const bareUser = (id: string, permission: Permission): Grant => ({ grantee: { type: 'CanonicalUser', id }, permission });
const group = (uri: typeof ALL_USERS | typeof AUTHENTICATED_USERS | typeof LOG_DELIVERY, permission: Permission): Grant => ({
  grantee: { type: 'Group', uri },
  permission,
});
const ec2: Grant = { grantee: { type: 'CanonicalUser', id: EC2_EXEC_READ_ID, displayName: 'za-team' }, permission: 'READ' };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof S3Error, `expected S3Error, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected an error');
}

describe('cannedAcl: the S3 UG canned ACL table', () => {
  const bucketCtx = { bucketOwner: BUCKET_OWNER, objectOwner: BUCKET_OWNER, target: 'bucket' as const };
  const objectCtx = { bucketOwner: BUCKET_OWNER, objectOwner: WRITER, target: 'object' as const };
  const sameOwnerObjectCtx = { bucketOwner: BUCKET_OWNER, objectOwner: BUCKET_OWNER, target: 'object' as const };

  const expected: Record<string, { bucket: Grant[]; object: Grant[]; sameOwnerObject: Grant[] }> = {
    private: { bucket: [user(BUCKET_OWNER, 'FULL_CONTROL')], object: [user(WRITER, 'FULL_CONTROL')], sameOwnerObject: [user(BUCKET_OWNER, 'FULL_CONTROL')] },
    'public-read': {
      bucket: [user(BUCKET_OWNER, 'FULL_CONTROL'), group(ALL_USERS, 'READ')],
      object: [user(WRITER, 'FULL_CONTROL'), group(ALL_USERS, 'READ')],
      sameOwnerObject: [user(BUCKET_OWNER, 'FULL_CONTROL'), group(ALL_USERS, 'READ')],
    },
    'public-read-write': {
      bucket: [user(BUCKET_OWNER, 'FULL_CONTROL'), group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE')],
      object: [user(WRITER, 'FULL_CONTROL'), group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE')],
      sameOwnerObject: [user(BUCKET_OWNER, 'FULL_CONTROL'), group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE')],
    },
    'authenticated-read': {
      bucket: [user(BUCKET_OWNER, 'FULL_CONTROL'), group(AUTHENTICATED_USERS, 'READ')],
      object: [user(WRITER, 'FULL_CONTROL'), group(AUTHENTICATED_USERS, 'READ')],
      sameOwnerObject: [user(BUCKET_OWNER, 'FULL_CONTROL'), group(AUTHENTICATED_USERS, 'READ')],
    },
    'aws-exec-read': {
      bucket: [user(BUCKET_OWNER, 'FULL_CONTROL'), ec2],
      object: [user(WRITER, 'FULL_CONTROL'), ec2],
      sameOwnerObject: [user(BUCKET_OWNER, 'FULL_CONTROL'), ec2],
    },
    'bucket-owner-read': {
      bucket: [user(BUCKET_OWNER, 'FULL_CONTROL')],
      object: [user(WRITER, 'FULL_CONTROL'), user(BUCKET_OWNER, 'READ')],
      sameOwnerObject: [user(BUCKET_OWNER, 'FULL_CONTROL')],
    },
    'bucket-owner-full-control': {
      bucket: [user(BUCKET_OWNER, 'FULL_CONTROL')],
      object: [user(WRITER, 'FULL_CONTROL'), user(BUCKET_OWNER, 'FULL_CONTROL')],
      sameOwnerObject: [user(BUCKET_OWNER, 'FULL_CONTROL')],
    },
    'log-delivery-write': {
      bucket: [user(BUCKET_OWNER, 'FULL_CONTROL'), group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP')],
      object: [user(WRITER, 'FULL_CONTROL'), group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP')],
      sameOwnerObject: [user(BUCKET_OWNER, 'FULL_CONTROL'), group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP')],
    },
  };

  it('covers exactly the eight canned ACLs', () => {
    assert.deepEqual([...CANNED_ACLS].sort(), Object.keys(expected).sort());
  });

  for (const name of CANNED_ACLS) {
    it(`${name}: bucket and object grants`, () => {
      const b = cannedAcl(name, bucketCtx);
      assert.deepEqual(b.owner, BUCKET_OWNER);
      assert.deepEqual(b.grants, expected[name]!.bucket);
      const o = cannedAcl(name, objectCtx);
      assert.deepEqual(o.owner, WRITER);
      assert.deepEqual(o.grants, expected[name]!.object);
      assert.deepEqual(cannedAcl(name, sameOwnerObjectCtx).grants, expected[name]!.sameOwnerObject);
    });
  }

  it('unknown canned ACL → InvalidArgument', () => {
    assert.equal(code(() => cannedAcl('public', bucketCtx)), 'InvalidArgument');
    assert.equal(code(() => cannedAcl('Private', bucketCtx)), 'InvalidArgument');
    assert.equal(code(() => cannedAcl('', bucketCtx)), 'InvalidArgument');
  });
});

describe('isPublicAcl / withoutPublicGrants', () => {
  const ctx = { bucketOwner: BUCKET_OWNER, objectOwner: WRITER, target: 'object' as const };
  const publicOnes = new Set(['public-read', 'public-read-write', 'authenticated-read']);
  for (const name of CANNED_ACLS) {
    it(`${name} is ${publicOnes.has(name) ? '' : 'not '}public`, () => {
      for (const target of ['bucket', 'object'] as const) {
        const acl = cannedAcl(name, { ...ctx, target });
        assert.equal(isPublicAcl(acl), publicOnes.has(name));
        const stripped = withoutPublicGrants(acl);
        assert.equal(isPublicAcl(stripped), false);
        assert.deepEqual(stripped.grants, acl.grants.filter((g) => g.grantee.type !== 'Group' || g.grantee.uri === LOG_DELIVERY));
      }
    });
  }
  it('any permission to AuthenticatedUsers is public (e.g. WRITE_ACP)', () => {
    assert.equal(isPublicAcl({ owner: BUCKET_OWNER, grants: [group(AUTHENTICATED_USERS, 'WRITE_ACP')] }), true);
    assert.equal(isPublicAcl({ owner: BUCKET_OWNER, grants: [group(LOG_DELIVERY, 'FULL_CONTROL')] }), false);
  });
});

describe('aclFromGrantHeaders', () => {
  it('returns undefined with no grant headers', () => {
    assert.equal(aclFromGrantHeaders({ 'x-amz-acl': 'private' }, WRITER, resolver), undefined);
  });

  it('parses every header, multiple grantees, quoted and bare values, in header order', () => {
    const acl = aclFromGrantHeaders(
      {
        'x-amz-grant-full-control': `id="${ALT.id}"`,
        'x-amz-grant-read': `id=${ALT.id}, uri="${ALL_USERS}", emailAddress="writer@example.com"`,
        'x-amz-grant-write': `uri="${LOG_DELIVERY}"`,
        'x-amz-grant-read-acp': `emailAddress=alt@example.com`,
        'x-amz-grant-write-acp': `ID="${BUCKET_OWNER.id}"`,
      },
      WRITER,
      resolver,
    );
    assert.deepEqual(acl, {
      owner: WRITER,
      grants: [
        bareUser(ALT.id, 'READ'),
        group(ALL_USERS, 'READ'),
        user(WRITER, 'READ'),
        group(LOG_DELIVERY, 'WRITE'),
        user(ALT, 'READ_ACP'),
        bareUser(BUCKET_OWNER.id, 'WRITE_ACP'),
        bareUser(ALT.id, 'FULL_CONTROL'),
      ],
    });
  });

  it('gives the owner no implicit FULL_CONTROL grant (the ACL is exactly the headers)', () => {
    const acl = aclFromGrantHeaders({ 'x-amz-grant-read': `id="${ALT.id}"` }, WRITER, resolver)!;
    assert.deepEqual(acl.grants, [bareUser(ALT.id, 'READ')]);
  });

  it('accepts array header values and merges duplicates', () => {
    const acl = aclFromGrantHeaders({ 'x-amz-grant-read': [`id="${ALT.id}"`, `id="${ALT.id}"`] }, WRITER, resolver)!;
    assert.deepEqual(acl.grants, [bareUser(ALT.id, 'READ')]);
  });

  it('commas inside quotes do not split', () => {
    assert.equal(code(() => aclFromGrantHeaders({ 'x-amz-grant-read': 'emailAddress="a,b@example.com"' }, WRITER, resolver)), 'UnresolvableGrantByEmailAddress');
  });

  it('resolves canonical IDs through byId when given', () => {
    const acl = aclFromGrantHeaders({ 'x-amz-grant-read': `id="${ALT.id}"` }, WRITER, strictResolver)!;
    assert.deepEqual(acl.grants, [user(ALT, 'READ')]);
    const err = (() => {
      try {
        aclFromGrantHeaders({ 'x-amz-grant-read': 'id="nobody"' }, WRITER, strictResolver);
      } catch (e) {
        return e as S3Error;
      }
      return undefined;
    })();
    assert.equal(err?.code, 'InvalidArgument');
    assert.equal(err?.message, 'Invalid id');
  });

  it('errors', () => {
    const h = (v: string) => () => aclFromGrantHeaders({ 'x-amz-grant-write': v }, WRITER, resolver);
    assert.equal(code(h('emailAddress="nobody@example.com"')), 'UnresolvableGrantByEmailAddress');
    assert.equal(code(h('uri="http://acs.amazonaws.com/groups/global/Everyone"')), 'InvalidArgument');
    assert.equal(code(h('foo="bar"')), 'InvalidArgument');
    assert.equal(code(h('id')), 'InvalidArgument');
    assert.equal(code(h('id="abc')), 'InvalidArgument');
    assert.equal(code(h('')), 'InvalidArgument');
    assert.equal(code(h(`id="${ALT.id}",`)), 'InvalidArgument');
    assert.equal(code(h('id=""')), 'InvalidArgument');
    assert.equal(code(h('id="a" junk')), 'InvalidArgument');
  });
});

describe('aclFromRequestHeaders', () => {
  const ctx = { bucketOwner: BUCKET_OWNER, objectOwner: WRITER, target: 'object' as const };
  it('canned, grants, none, both', () => {
    assert.equal(aclFromRequestHeaders({}, ctx, resolver), undefined);
    const c = aclFromRequestHeaders({ 'x-amz-acl': 'bucket-owner-full-control' }, ctx, resolver)!;
    assert.equal(c.canned, 'bucket-owner-full-control');
    assert.deepEqual(c.acl.grants, [user(WRITER, 'FULL_CONTROL'), user(BUCKET_OWNER, 'FULL_CONTROL')]);
    const g = aclFromRequestHeaders({ 'x-amz-grant-read': `uri="${ALL_USERS}"` }, ctx, resolver)!;
    assert.equal(g.canned, undefined);
    assert.deepEqual(g.acl, { owner: WRITER, grants: [group(ALL_USERS, 'READ')] });
    assert.equal(code(() => aclFromRequestHeaders({ 'x-amz-acl': 'private', 'x-amz-grant-read': `uri="${ALL_USERS}"` }, ctx, resolver)), 'InvalidRequest');
    assert.equal(code(() => aclFromRequestHeaders({ 'x-amz-acl': 'nope' }, ctx, resolver)), 'InvalidArgument');
  });
});

describe('Object Ownership helpers', () => {
  it('acceptableUnderBucketOwnerEnforced', () => {
    const bo = BUCKET_OWNER.id;
    assert.equal(acceptableUnderBucketOwnerEnforced({}, bo), true);
    assert.equal(acceptableUnderBucketOwnerEnforced({ canned: 'bucket-owner-full-control' }, bo), true);
    assert.equal(acceptableUnderBucketOwnerEnforced({ canned: 'private' }, bo), false);
    assert.equal(acceptableUnderBucketOwnerEnforced({ canned: 'public-read' }, bo), false);
    assert.equal(acceptableUnderBucketOwnerEnforced({ acl: { owner: BUCKET_OWNER, grants: [bareUser(bo, 'FULL_CONTROL')] } }, bo), true);
    assert.equal(acceptableUnderBucketOwnerEnforced({ acl: { owner: BUCKET_OWNER, grants: [bareUser(bo, 'READ')] } }, bo), false);
    assert.equal(acceptableUnderBucketOwnerEnforced({ acl: { owner: BUCKET_OWNER, grants: [bareUser(ALT.id, 'FULL_CONTROL')] } }, bo), false);
  });
  it('enforcedOwnerAcl', () => {
    assert.deepEqual(enforcedOwnerAcl(BUCKET_OWNER), { owner: BUCKET_OWNER, grants: [user(BUCKET_OWNER, 'FULL_CONTROL')] });
  });
});

describe('XML', () => {
  const sample: Acl = {
    owner: WRITER,
    grants: [
      user(WRITER, 'FULL_CONTROL'),
      bareUser(ALT.id, 'READ_ACP'),
      group(ALL_USERS, 'READ'),
      group(AUTHENTICATED_USERS, 'WRITE_ACP'),
      group(LOG_DELIVERY, 'WRITE'),
    ],
  };

  it('aclToXml writes the S3 shape with xsi declarations', () => {
    const xml = aclToXml({ owner: WRITER, grants: [user(WRITER, 'FULL_CONTROL'), group(ALL_USERS, 'READ')] });
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Owner><ID>${WRITER.id}</ID><DisplayName>writer</DisplayName></Owner>` +
        '<AccessControlList>' +
        `<Grant><Grantee xmlns:xsi="${XSI_NS}" xsi:type="CanonicalUser"><ID>${WRITER.id}</ID><DisplayName>writer</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>` +
        `<Grant><Grantee xmlns:xsi="${XSI_NS}" xsi:type="Group"><URI>${ALL_USERS}</URI></Grantee><Permission>READ</Permission></Grant>` +
        '</AccessControlList></AccessControlPolicy>',
    );
  });

  it('round-trips', () => {
    assert.deepEqual(parseAclXml(aclToXml(sample), resolver), sample);
    const odd: Acl = { owner: { id: 'x<&>"\'y' }, grants: [bareUser('i&d', 'READ')] };
    assert.deepEqual(parseAclXml(aclToXml(odd), resolver), odd);
    const empty: Acl = { owner: { id: 'o' }, grants: [] };
    assert.deepEqual(parseAclXml(aclToXml(empty), resolver), empty);
  });

  it('parses a pretty-printed client body with email grantees and any xsi prefix', () => {
    const body = `<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Owner>
    <ID> ${WRITER.id} </ID>
  </Owner>
  <AccessControlList>
    <Grant>
      <Grantee xmlns:xsi="${XSI_NS}" xsi:type="AmazonCustomerByEmail">
        <EmailAddress>alt@example.com</EmailAddress>
      </Grantee>
      <Permission>READ</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:x="${XSI_NS}" x:type="Group"><URI>${LOG_DELIVERY}</URI></Grantee>
      <Permission> WRITE </Permission>
    </Grant>
  </AccessControlList>
</AccessControlPolicy>`;
    assert.deepEqual(parseAclXml(body, resolver), { owner: { id: WRITER.id }, grants: [user(ALT, 'READ'), group(LOG_DELIVERY, 'WRITE')] });
  });

  const wrap = (grants: string, owner = `<Owner><ID>o</ID></Owner>`) =>
    `<AccessControlPolicy>${owner}<AccessControlList>${grants}</AccessControlList></AccessControlPolicy>`;
  const grant = (type: string, inner: string, perm = 'READ') =>
    `<Grant><Grantee xmlns:xsi="${XSI_NS}" xsi:type="${type}">${inner}</Grantee><Permission>${perm}</Permission></Grant>`;

  it('malformed inputs → MalformedACLError', () => {
    const bad = [
      '',
      'not xml',
      '<AccessControlPolicy>',
      '<Other/>',
      '<!DOCTYPE x><AccessControlPolicy/>',
      '<AccessControlPolicy/>',
      wrap('', ''),
      wrap('', '<Owner/>'),
      wrap('', '<Owner><ID></ID></Owner>'),
      wrap('', '<Owner><ID>a</ID><ID>b</ID></Owner>'),
      wrap(grant('CanonicalUser', '<ID>x</ID>', 'READ_WRITE')),
      wrap(grant('CanonicalUser', '<ID>x</ID>', '')),
      wrap(`<Grant><Grantee xsi:type="CanonicalUser"><ID>x</ID></Grantee></Grant>`),
      wrap(`<Grant><Grantee><ID>x</ID></Grantee><Permission>READ</Permission></Grant>`),
      wrap(`<Grant><Permission>READ</Permission></Grant>`),
      wrap(`<Grant>text</Grant>`),
      wrap(grant('Nobody', '<ID>x</ID>')),
      wrap(grant('CanonicalUser', '<URI>x</URI>')),
      wrap(grant('Group', '<ID>x</ID>')),
      wrap(grant('AmazonCustomerByEmail', '<ID>x</ID>')),
      wrap(grant('CanonicalUser', '<ID><X/></ID>')),
      wrap(grant('CanonicalUser', '<ID>x</ID>').repeat(101)),
    ];
    for (const body of bad) assert.equal(code(() => parseAclXml(body, resolver)), 'MalformedACLError', body);
  });

  it('100 grants is the limit', () => {
    const grants = Array.from({ length: 100 }, (_, i) => grant('CanonicalUser', `<ID>u${i}</ID>`)).join('');
    assert.equal(parseAclXml(wrap(grants), resolver).grants.length, 100);
  });

  it('grantee DisplayName: kept as sent without byId, the account\'s own with byId', () => {
    const body = wrap(grant('CanonicalUser', `<ID>${ALT.id}</ID><DisplayName>spoofed</DisplayName>`));
    assert.deepEqual(parseAclXml(body, resolver).grants, [{ grantee: { type: 'CanonicalUser', id: ALT.id, displayName: 'spoofed' }, permission: 'READ' }]);
    assert.deepEqual(parseAclXml(body, strictResolver).grants, [user(ALT, 'READ')]);
  });

  it('unknown grantees', () => {
    assert.equal(code(() => parseAclXml(wrap(grant('AmazonCustomerByEmail', '<EmailAddress>x@y</EmailAddress>')), resolver)), 'UnresolvableGrantByEmailAddress');
    assert.equal(code(() => parseAclXml(wrap(grant('Group', '<URI>http://acs.amazonaws.com/groups/global/Everyone</URI>')), resolver)), 'InvalidArgument');
    assert.equal(code(() => parseAclXml(wrap(grant('CanonicalUser', '<ID>_foo</ID>')), strictResolver)), 'InvalidArgument');
    assert.equal(code(() => parseAclXml(wrap(grant('CanonicalUser', '<ID></ID>')), resolver)), 'InvalidArgument');
  });

  it('property: arbitrary input only ever throws S3Error', () => {
    const fragments = fc.constantFrom(
      '<AccessControlPolicy>', '</AccessControlPolicy>', '<Owner>', '</Owner>', '<ID>', '</ID>', 'x', ' ',
      '<AccessControlList>', '</AccessControlList>', '<Grant>', '</Grant>', `<Grantee xmlns:xsi="${XSI_NS}" xsi:type="Group">`,
      '<Grantee xsi:type="CanonicalUser">', '<Grantee xsi:type="AmazonCustomerByEmail">', '</Grantee>', '<Permission>', '</Permission>',
      'READ', 'FULL_CONTROL', '<URI>', '</URI>', ALL_USERS, '<EmailAddress>', '</EmailAddress>', 'alt@example.com', '&amp;', '&', '<', '<![CDATA[a]]>',
      '<!-- c -->', '<?pi x?>', '<DisplayName/>',
    );
    const input = fc.oneof(fc.string(), fc.array(fragments, { maxLength: 40 }).map((a) => a.join('')));
    fc.assert(
      fc.property(input, (s) => {
        try {
          const acl = parseAclXml(s, resolver);
          // Anything accepted must serialise and re-parse to the same ACL.
          assert.deepEqual(parseAclXml(aclToXml(acl), resolver), acl);
        } catch (e) {
          if (!(e instanceof S3Error)) throw e;
          assert.ok(['MalformedACLError', 'InvalidArgument', 'UnresolvableGrantByEmailAddress'].includes(e.code), e.code);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('aclAllows: the permission → action table', () => {
  const anon = { kind: 'anonymous' } as const;
  const alt = { kind: 'account', canonicalId: ALT.id } as const;
  const other = { kind: 'account', canonicalId: 'z'.repeat(64) } as const;
  const logs = { kind: 'log-delivery' } as const;

  const table: [string, 'bucket' | 'object', Permission][] = [
    ['s3:ListBucket', 'bucket', 'READ'],
    ['s3:ListBucketVersions', 'bucket', 'READ'],
    ['s3:ListBucketMultipartUploads', 'bucket', 'READ'],
    ['s3:PutObject', 'bucket', 'WRITE'],
    ['s3:DeleteObject', 'bucket', 'WRITE'],
    ['s3:DeleteObjectVersion', 'bucket', 'WRITE'],
    ['s3:GetBucketAcl', 'bucket', 'READ_ACP'],
    ['s3:PutBucketAcl', 'bucket', 'WRITE_ACP'],
    ['s3:GetObject', 'object', 'READ'],
    ['s3:GetObjectVersion', 'object', 'READ'],
    ['s3:GetObjectTorrent', 'object', 'READ'],
    ['s3:GetObjectAcl', 'object', 'READ_ACP'],
    ['s3:GetObjectVersionAcl', 'object', 'READ_ACP'],
    ['s3:PutObjectAcl', 'object', 'WRITE_ACP'],
    ['s3:PutObjectVersionAcl', 'object', 'WRITE_ACP'],
  ];

  it('the table matches ACL_ACTIONS exactly', () => {
    const flat = (['bucket', 'object'] as const).flatMap((t) =>
      (['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'] as const).flatMap((p) => ACL_ACTIONS[t][p].map((a) => `${a}|${t}|${p}`)),
    );
    assert.deepEqual(flat.sort(), table.map(([a, t, p]) => `${a}|${t}|${p}`).sort());
  });

  for (const [action, target, perm] of table) {
    it(`${action} on ${target} ← ${perm} or FULL_CONTROL, nothing else`, () => {
      assert.deepEqual(permissionsForAction(action, target), [perm, 'FULL_CONTROL']);
      for (const p of ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'] as const) {
        const acl: Acl = { owner: BUCKET_OWNER, grants: [bareUser(ALT.id, p)] };
        assert.equal(aclAllows(acl, alt, action, target), p === perm || p === 'FULL_CONTROL', `${p}`);
        assert.equal(aclAllows(acl, other, action, target), false);
        assert.equal(aclAllows(acl, anon, action, target), false);
      }
      const otherTarget = target === 'bucket' ? 'object' : 'bucket';
      assert.equal(aclAllows({ owner: BUCKET_OWNER, grants: [bareUser(ALT.id, 'FULL_CONTROL')] }, alt, action, otherTarget), false);
    });
  }

  it('actions outside the table are never granted by an ACL', () => {
    const acl: Acl = { owner: BUCKET_OWNER, grants: [bareUser(ALT.id, 'FULL_CONTROL'), group(ALL_USERS, 'FULL_CONTROL')] };
    for (const a of ['s3:PutBucketPolicy', 's3:DeleteBucket', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:GetObjectAttributes', 's3:PutObject']) {
      assert.equal(aclAllows(acl, alt, a, 'object'), false, a);
    }
    assert.deepEqual(permissionsForAction('s3:PutObject', 'object'), []);
  });

  it('action names match case-insensitively', () => {
    assert.equal(aclAllows({ owner: BUCKET_OWNER, grants: [bareUser(ALT.id, 'READ')] }, alt, 'S3:getobject', 'object'), true);
  });

  it('groups: AllUsers matches anyone, AuthenticatedUsers any signed requester, LogDelivery only log delivery', () => {
    const allUsers: Acl = { owner: BUCKET_OWNER, grants: [group(ALL_USERS, 'READ')] };
    const authUsers: Acl = { owner: BUCKET_OWNER, grants: [group(AUTHENTICATED_USERS, 'READ')] };
    const logDelivery: Acl = { owner: BUCKET_OWNER, grants: [group(LOG_DELIVERY, 'WRITE')] };
    for (const who of [anon, alt, logs]) assert.equal(aclAllows(allUsers, who, 's3:GetObject', 'object'), true);
    assert.equal(aclAllows(authUsers, anon, 's3:GetObject', 'object'), false);
    assert.equal(aclAllows(authUsers, alt, 's3:GetObject', 'object'), true);
    assert.equal(aclAllows(authUsers, logs, 's3:GetObject', 'object'), true);
    assert.equal(aclAllows(logDelivery, logs, 's3:PutObject', 'bucket'), true);
    assert.equal(aclAllows(logDelivery, alt, 's3:PutObject', 'bucket'), false);
    assert.equal(aclAllows(logDelivery, anon, 's3:PutObject', 'bucket'), false);
  });

  it('canned ACLs end to end', () => {
    const ctx = { bucketOwner: BUCKET_OWNER, objectOwner: WRITER, target: 'object' as const };
    const pr = cannedAcl('public-read', ctx);
    assert.equal(aclAllows(pr, anon, 's3:GetObject', 'object'), true);
    assert.equal(aclAllows(pr, anon, 's3:GetObjectAcl', 'object'), false);
    assert.equal(aclAllows(withoutPublicGrants(pr), anon, 's3:GetObject', 'object'), false);
    const bor = cannedAcl('bucket-owner-read', ctx);
    assert.equal(aclAllows(bor, { kind: 'account', canonicalId: BUCKET_OWNER.id }, 's3:GetObject', 'object'), true);
    assert.equal(aclAllows(bor, { kind: 'account', canonicalId: BUCKET_OWNER.id }, 's3:PutObjectAcl', 'object'), false);
    const ldw = cannedAcl('log-delivery-write', { ...ctx, target: 'bucket' });
    assert.equal(aclAllows(ldw, logs, 's3:PutObject', 'bucket'), true);
    assert.equal(aclAllows(ldw, logs, 's3:GetBucketAcl', 'bucket'), true);
    assert.equal(aclAllows(ldw, logs, 's3:ListBucket', 'bucket'), false);
  });
});
