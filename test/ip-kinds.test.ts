/** Address kinds: what each documented range is, and the data the SQL classification shares. */
import * as fc from 'fast-check';
import * as ipaddr from 'ipaddr.js';
import { IPV6_TEXT_PATTERN, SourceIpKind, addressBlocks, classifySourceIp } from '../src/domain/ip';


test.each([
  ['8.8.8.8', SourceIpKind.PUBLIC_IPV4],
  ['2600:1f18::1', SourceIpKind.PUBLIC_IPV6],
  ['10.1.2.3', SourceIpKind.PRIVATE],
  ['fd12::1', SourceIpKind.PRIVATE],
  ['100.64.1.1', SourceIpKind.SHARED],
  ['127.0.0.1', SourceIpKind.LOOPBACK],
  ['::1', SourceIpKind.LOOPBACK],
  ['169.254.169.254', SourceIpKind.LINK_LOCAL],
  ['fe80::1', SourceIpKind.LINK_LOCAL],
  ['224.0.0.251', SourceIpKind.MULTICAST],
  ['ff02::1', SourceIpKind.MULTICAST],
  ['192.0.2.10', SourceIpKind.DOCUMENTATION],
  ['198.51.100.7', SourceIpKind.DOCUMENTATION],
  ['203.0.113.250', SourceIpKind.DOCUMENTATION],
  ['2001:db8::42', SourceIpKind.DOCUMENTATION],
  ['240.1.2.3', SourceIpKind.RESERVED],
  ['0.1.2.3', SourceIpKind.RESERVED],
  ['198.18.0.1', SourceIpKind.RESERVED],
  ['::ffff:a00:1', SourceIpKind.RESERVED],
  ['iotevents.amazonaws.com', SourceIpKind.AWS_SERVICE],
  ['AWS Internal', SourceIpKind.AWS_INTERNAL],
  ['010.1.2.3', SourceIpKind.OTHER],
  ['fe80::1%eth0', SourceIpKind.OTHER],
  ['::ffff:10.0.0.1', SourceIpKind.OTHER],
  ['not an address', SourceIpKind.OTHER],
])('%s is %s', (address, kind) => {
  expect(classifySourceIp(address)).toBe(kind);
});

test('blocks of different kinds never overlap, so membership in SQL is the classification', () => {
  const blocks = addressBlocks();
  for (const a of blocks) {
    for (const b of blocks) {
      if (a.kind === b.kind || a.cidr.version !== b.cidr.version) continue;
      expect({ a: a.cidr.text, b: b.cidr.text, overlap: a.cidr.first <= b.cidr.last && b.cidr.first <= a.cidr.last }).toEqual({ a: a.cidr.text, b: b.cidr.text, overlap: false });
    }
  }
});

test('every block is classed as its kind, at both ends', () => {
  for (const { kind, cidr } of addressBlocks()) {
    for (const n of [cidr.first, cidr.last]) {
      const text = cidr.version === 4 ? ipaddr.fromByteArray([24, 16, 8, 0].map((s) => Number((n >> BigInt(s)) & 0xffn))).toString() : ipaddr.fromByteArray(Array.from({ length: 16 }, (_, i) => Number((n >> BigInt(8 * (15 - i))) & 0xffn))).toString();
      expect([text, classifySourceIp(text)]).toEqual([text, kind]);
    }
  }
});

test('the IPv6 text pattern the SQL uses accepts exactly the hexadecimal forms ipaddr.js reads', () => {
  const pattern = new RegExp(IPV6_TEXT_PATTERN);
  const text = fc.array(fc.constantFrom('0', '1', 'a', 'F', 'db8', 'ffff', '12345', ':', ':', '::'), { maxLength: 14 }).map((parts) => parts.join(''));
  const address = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }).map((parts) => new ipaddr.IPv6(parts).toString());
  fc.assert(
    fc.property(fc.oneof(text, address), (s) => {
      expect([s, pattern.test(s)]).toEqual([s, ipaddr.IPv6.isValid(s)]);
    }),
    { numRuns: 3000 },
  );
});
