/**
 * Filters end to end on both dialects: the DuckDB compiler on DuckDB, and the Athena compiler's
 * Trino SQL on DuckDB through the Athena-on-DuckDB shim. Calls planted with known values are
 * compared with what each filter must keep, computed here from the records themselves.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { SourceIpKind, classifySourceIp } from '../src/domain/ip';
import { RawRecord, listRecordFiles, readRecords } from './support/records';
import { GqlResponse, TestServer } from './support/server';
import { DialectPair, startDialectPair } from './support/dialect-pair';
import { SAMPLE_END, sampleTrail } from './support/trails';

const FROM = new Date(SAMPLE_END.getTime() - 6 * 3_600_000).toISOString();
const TO = SAMPLE_END.toISOString();
/** Planted calls share this request-id prefix, so a filter's answer can be narrowed to them. */
const PLANTED = 'planted-';

/** Source addresses of the planted calls: every kind, edge forms, and text that is no address. */
const ADDRESSES = [
  '8.8.8.8', '52.94.76.1', '2600:1f18::1', '2a05:d018::2', '1:2:3:4:5:6:7::', '10.1.2.3', '172.31.255.255', '192.168.0.1', 'fd12::1',
  '100.64.1.1', '100.127.255.255', '127.0.0.1', '::1', '169.254.169.254', 'fe80::1', '224.0.0.251', 'ff02::1', '192.0.2.10',
  '198.51.100.7', '203.0.113.250', '2001:db8::42', '3fff::1', '240.1.2.3', '255.255.255.255', '0.1.2.3', '198.18.0.1', '::ffff:a00:1',
  '2002::1', '2001::1', '::', 'iotevents.amazonaws.com', 'IOT.AMAZONAWS.COM', 'AWS Internal', '010.1.2.3', '256.1.2.3', 'fe80::1%eth0',
  '::ffff:10.0.0.1', '1:2', 'not an address', '',
];

let pair: DialectPair;
let duck: TestServer;
let athena: TestServer;
let dir: string;
let planted: RawRecord[];

beforeAll(async () => {
  dir = await sampleTrail(1, { iotEventsPerDay: 30 });
  const file = listRecordFiles(dir).at(-1)!;
  const base = readRecords(dir).find((f) => f.record.eventSource === 'iotevents.amazonaws.com' && f.record.userIdentity?.type === 'IAMUser')!.record;
  const at = (i: number) => new Date(SAMPLE_END.getTime() - 3_600_000 - i * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  planted = [...ADDRESSES, null].map((address, i) => {
    const r: RawRecord = { ...base, eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, eventTime: at(i), requestID: `${PLANTED}${i}`, sourceIPAddress: address };
    if (address === null) delete r.sourceIPAddress;
    return r;
  });
  fs.writeFileSync(path.join(path.dirname(file), `planted_${Date.now()}.json.gz`), gzipSync(JSON.stringify({ Records: planted })));
  pair = await startDialectPair(dir);
  ({ duck, athena } = pair);
});

afterAll(async () => {
  await pair?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const CALLS = `query($filter: ApiCallFilter, $first: Int, $after: String) {
  apiCalls(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { eventId eventTime requestId sourceIpAddress action errorCode } }
  }
}`;

interface Call { eventId: string; eventTime: string; requestId: string | null; sourceIpAddress: string | null; action: string | null; errorCode: string | null }

/** Every call a filter keeps, page by page, on one server. */
async function calls(server: TestServer, filter: Record<string, unknown>, extra: Record<string, unknown> = {}, query = CALLS): Promise<Call[]> {
  const out: Call[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page++) {
    const res: GqlResponse = await server.gql(query, { filter: { from: FROM, to: TO, ...filter }, first: 200, after, ...extra });
    expect(res.errors).toBeUndefined();
    const conn: { edges: { node: Call }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = res.data.apiCalls;
    out.push(...conn.edges.map((e) => e.node));
    if (!conn.pageInfo.hasNextPage) return out;
    after = conn.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

/** The same answer from both dialects; returned once. */
async function both(filter: Record<string, unknown>, extra: Record<string, unknown> = {}, query = CALLS): Promise<Call[]> {
  const [a, b] = await Promise.all([calls(duck, filter, extra, query), calls(athena, filter, extra, query)]);
  expect(b).toEqual(a);
  return a;
}

const plantedOf = (cs: Call[]) => cs.filter((c) => c.requestId?.startsWith(PLANTED));

describe('sourceKinds', () => {
  test.each(Object.values(SourceIpKind))('%s keeps exactly the calls whose address is of that kind, on both dialects', async (kind) => {
    const got = plantedOf(await both({ sourceKinds: [kind] }))
      .map((c) => c.sourceIpAddress)
      .sort();
    const want = planted.filter((r) => classifySourceIp(r.sourceIPAddress) === kind).map((r) => r.sourceIPAddress ?? null).sort();
    expect(want.length).toBeGreaterThan(0);
    expect(got).toEqual(want);
  });

  test('several kinds are any of them; no call is in two kinds', async () => {
    const [pub, every] = await Promise.all([
      both({ sourceKinds: ['PUBLIC_IPV4', 'PUBLIC_IPV6'] }),
      Promise.all(Object.values(SourceIpKind).map((k) => calls(duck, { sourceKinds: [k] }))),
    ]);
    expect(plantedOf(pub).map((c) => classifySourceIp(c.sourceIpAddress)).every((k) => k === 'PUBLIC_IPV4' || k === 'PUBLIC_IPV6')).toBe(true);
    const all = await calls(duck, {});
    expect(every.flat().map((c) => c.eventId).sort()).toEqual(all.map((c) => c.eventId).sort());
  });
});
