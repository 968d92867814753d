import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runCases, type ConditionCase } from '../../../../test/differential/condition-cases.js';
import { parseCidr, parseIp, parseIpv4 } from './ip.js';

const cases: ConditionCase[] = [
  { op: 'IpAddress', values: ['203.0.113.0/24'], request: '203.0.113.7', expected: true },
  { op: 'IpAddress', values: ['203.0.113.0/24'], request: '203.0.114.7', expected: false },
  { op: 'IpAddress', values: ['203.0.113.9'], request: '203.0.113.9', expected: true, note: 'bare = /32' },
  { op: 'IpAddress', values: ['203.0.113.9'], request: '203.0.113.8', expected: false },
  { op: 'IpAddress', values: ['10.1.2.3/8'], request: '10.200.0.1', expected: true, note: 'host bits ignored' },
  { op: 'IpAddress', values: ['0.0.0.0/0'], request: '255.255.255.255', expected: true },
  { op: 'IpAddress', values: ['0.0.0.0/0'], request: '2001:db8::1', expected: false, note: 'v4 range never matches v6' },
  { op: 'IpAddress', values: ['::/0'], request: '192.0.2.1', expected: false, note: 'v6 range never matches v4' },
  { op: 'IpAddress', values: ['2001:DB8:1234:5678::/64'], request: '2001:db8:1234:5678:abcd::1', expected: true },
  { op: 'IpAddress', values: ['2001:DB8:1234:5678::/64'], request: '2001:db8:1234:5679::1', expected: false },
  { op: 'IpAddress', values: ['2001:db8::1'], request: '2001:0db8:0:0:0:0:0:1', expected: true, note: 'bare = /128' },
  { op: 'IpAddress', values: ['192.0.2.0/24'], request: '::ffff:192.0.2.10', expected: true, note: 'IPv4-mapped request normalised' },
  { op: 'IpAddress', values: ['::ffff:192.0.2.0/120'], request: '192.0.2.10', expected: true, note: 'IPv4-mapped range normalised' },
  { op: 'IpAddress', values: ['10.0.0.0/8'], request: '010.0.0.1', expected: false, note: 'leading zeros are not an address' },
  { op: 'IpAddress', values: ['10.0.0.0/33'], request: '10.0.0.1', expected: false, note: 'bad prefix never matches' },
  { op: 'IpAddress', values: ['10.0.0.0/8'], request: 'not-an-ip', expected: false },
  { op: 'IpAddress', values: ['10.0.0.0/8'], request: undefined, expected: false, note: 'aws:SourceIp absent via VPC endpoint' },
  { op: 'IpAddress', values: ['10.0.0.0/8', '192.168.0.0/16'], request: '192.168.1.1', expected: true },
  { op: 'NotIpAddress', values: ['10.0.0.0/8', '192.168.0.0/16'], request: '192.168.1.1', expected: false },
  { op: 'NotIpAddress', values: ['10.0.0.0/8'], request: '8.8.8.8', expected: true },
  { op: 'NotIpAddress', values: ['10.0.0.0/8'], request: undefined, expected: true, note: 'absent ⇒ negated true' },
  { op: 'NotIpAddressIfExists', values: ['10.0.0.0/8'], request: '10.0.0.1', expected: false },
];

describe('IP operators', () => {
  runCases(cases);
  it('parses IPv4 strictly', () => {
    assert.equal(parseIpv4('1.2.3.4'), 0x01020304);
    assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
    assert.equal(parseIpv4('0.0.0.0'), 0);
    for (const s of ['', '1.2.3', '1.2.3.4.5', '1.2.3.256', '01.2.3.4', '1..2.3', '1.2.3.4 ', 'a.b.c.d', '0x1.2.3.4', '1.2.3.']) assert.equal(parseIpv4(s), -1, s);
  });
  it('reads IPv6, maps IPv4-mapped to IPv4, rejects zone ids', () => {
    assert.deepEqual(parseIp('::ffff:10.0.0.1'), { v: 4, n: 0x0a000001 });
    assert.deepEqual(parseIp('::ffff:a00:1'), { v: 4, n: 0x0a000001 });
    assert.equal(parseIp('fe80::1%eth0'), undefined);
    assert.equal(parseIp('2001:db8::g'), undefined);
    assert.deepEqual(parseCidr('::ffff:10.0.0.0/104'), parseCidr('10.0.0.0/8'));
    assert.equal(parseCidr('::ffff:0:0/95')?.v, 6);
    assert.equal(parseCidr('10.0.0.0/08'), undefined);
  });
});
