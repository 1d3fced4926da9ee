/**
 * Address kinds: what each documented range is, and the data the SQL classification shares; the
 * SQL's IPv6 expansion against ipaddr.js.
 */
import * as fc from 'fast-check';
import * as ipaddr from 'ipaddr.js';
import { IPV6_TEXT_PATTERN, SourceIpKind, addressBlocks, addressVersion, classifySourceIp, formatAddress, ipv6Hex, ipv6ToBigInt } from '../src/domain/ip';
import { duckdbDialect } from '../src/engines/duckdb/dialect';
import { CompileContext, ipv6Hex as ipv6HexSql } from '../src/query/compiler';
import { useMemoryDuckDb } from './support/memory-duckdb';

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
      const text = formatAddress(n, cidr.version);
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

describe('the SQL expansion of IPv6 text is what ipaddr.js reads', () => {
  const db = useMemoryDuckDb();

  /** The compiler's expansion of each text, run by DuckDB. */
  async function expandInSql(texts: readonly string[]): Promise<(string | null)[]> {
    const ctx = new CompileContext(duckdbDialect);
    const rows = texts.map((t, i) => `(${i}, ${ctx.bind(t)})`).join(', ');
    const prepared = await db.connection.prepare(`SELECT i, ${ipv6HexSql(ctx, 's')} AS h FROM (VALUES ${rows}) AS t(i, s) ORDER BY i`);
    prepared.bind(ctx.params as string[]);
    const reader = await prepared.runAndReadAll();
    return reader.getRowObjectsJS().map((r) => (r.h as string | null) ?? null);
  }

  /** 32 hex digits for text the address kinds count as IPv6, null for anything else. */
  const expected = (text: string): string | null => (addressVersion(text) === 6 ? ipv6Hex(ipv6ToBigInt(text)) : null);

  const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  /** Eight groups spelled in any of the ways IPv6 text is written: any zero run compressed, either case, with or without leading zeros. */
  const spelled = fc.tuple(fc.array(group, { minLength: 8, maxLength: 8 }), fc.nat(), fc.boolean(), fc.boolean()).map(([groups, pick, upper, padded]) => {
    const parts = groups.map((g) => (padded ? g.toString(16).padStart(4, '0') : g.toString(16)));
    const runs: [number, number][] = [];
    for (let i = 0; i < 8; i++) for (let j = i + 1; j <= 8; j++) if (groups.slice(i, j).every((g) => g === 0)) runs.push([i, j]);
    const run = runs.length > 0 && pick % 3 !== 0 ? runs[pick % runs.length] : undefined;
    const text = run ? `${parts.slice(0, run[0]).join(':')}::${parts.slice(run[1]).join(':')}` : parts.join(':');
    return upper ? text.toUpperCase() : text;
  });
  const rfc5952 = fc.array(group, { minLength: 8, maxLength: 8 }).map((groups) => new ipaddr.IPv6(groups).toString());
  const octet = fc.integer({ min: 0, max: 255 });
  const embeddedV4 = fc.tuple(fc.constantFrom('::ffff:', '::', '64:ff9b::', '::ffff:0:'), octet, octet, octet, octet).map(([head, ...o]) => `${head}${o.join('.')}`);
  const nearMisses = fc.array(fc.constantFrom('0', '1', 'a', 'F', 'db8', 'ffff', '12345', ':', ':', '::', '.', '%eth0', 'g', ' '), { maxLength: 14 }).map((p) => p.join(''));
  const edges = fc.constantFrom('::', '::1', '1::', '::ffff:1.2.3.4', '0:0:0:0:0:0:0:0', 'FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', 'fe80::1%eth0', ':::', '1:2', '');

  test('for every text: the same 32 hex digits, or NULL where the kinds see no IPv6 address', async () => {
    const seen = { expanded: 0, nulls: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(spelled, rfc5952, embeddedV4, nearMisses, edges), { minLength: 40, maxLength: 120 }), async (texts) => {
        const want = texts.map(expected);
        const got = await expandInSql(texts);
        expect(texts.map((t, i) => [t, got[i]])).toEqual(texts.map((t, i) => [t, want[i]]));
        seen.nulls += want.filter((w) => w === null).length;
        seen.expanded += want.filter((w) => w !== null).length;
      }),
      { numRuns: 25 },
    );
    expect(seen.expanded).toBeGreaterThan(500);
    expect(seen.nulls).toBeGreaterThan(100);
  });

  test('the zero runs and edges, spelled out', async () => {
    const cases: [string, string | null][] = [
      ['::', '0'.repeat(32)],
      ['::1', `${'0'.repeat(31)}1`],
      ['1::', `0001${'0'.repeat(28)}`],
      ['2001:DB8::A', '20010db8000000000000000000000000'.slice(0, 31) + 'a'],
      ['2001:0:0:1::1', '20010000000000010000000000000001'],
      ['::ffff:a00:1', '00000000000000000000ffff0a000001'],
      ['::ffff:1.2.3.4', null],
      ['fe80::1%eth0', null],
      ['1:2', null],
      [':::', null],
    ];
    expect(await expandInSql(cases.map(([t]) => t))).toEqual(cases.map(([, h]) => h));
    expect(cases.map(([t]) => expected(t))).toEqual(cases.map(([, h]) => h));
  });
});
