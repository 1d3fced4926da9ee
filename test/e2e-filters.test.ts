/**
 * Filters end to end on both dialects: the DuckDB compiler on DuckDB, and the Athena compiler's
 * Trino SQL on DuckDB through the Athena-on-DuckDB shim. Calls planted with known values are
 * compared with what each filter must keep, computed here from the records themselves.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as ipaddr from 'ipaddr.js';
import { SourceIpKind, classifySourceIp } from '../src/domain/ip';
import { RawRecord, listRecordFiles, readRecords } from './support/records';
import { GqlResponse, TEST_KEYS, TestServer } from './support/server';
import { hashKey } from '../src/auth/authenticate';
import { DialectPair, startDialectPair } from './support/dialect-pair';
import { SAMPLE_END, sampleTrail } from './support/trails';

const FROM = new Date(SAMPLE_END.getTime() - 6 * 3_600_000).toISOString();
const TO = SAMPLE_END.toISOString();
/** Planted calls share this request-id prefix, so a filter's answer can be narrowed to them. */
const PLANTED = 'planted-';
const ACTIONS = ['DeleteDetectorModel', 'DeleteInput', 'CreateDetectorModel', 'DescribeDetectorModel', 'ListAlarmModels', 'DescribeAlarm'];
const NO_PAYLOADS_KEY = 'a-key-without-payload-access-0123456789';

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
    const failed = i % 3 === 0;
    const r: RawRecord = {
      ...base,
      eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      eventTime: at(i),
      requestID: `${PLANTED}${i}`,
      sourceIPAddress: address,
      eventName: ACTIONS[i % ACTIONS.length],
      awsRegion: i % 4 === 0 ? 'eu-west-1' : 'us-east-1',
      errorCode: failed ? (i % 2 ? 'AccessDeniedException' : 'ThrottlingException') : undefined,
      errorMessage: failed ? `User is not authorized to perform iotevents:${ACTIONS[i % ACTIONS.length]} on planted-${i}` : undefined,
      requestParameters: { detectorModelName: `Needle-${i}` },
      responseElements: i % 5 === 0 ? { note: `Haystack-${i}` } : null,
    };
    if (!failed) {
      delete r.errorCode;
      delete r.errorMessage;
    }
    if (address === null) delete r.sourceIPAddress;
    return r;
  });
  fs.writeFileSync(path.join(path.dirname(file), `planted_${Date.now()}.json.gz`), gzipSync(JSON.stringify({ Records: planted })));
  const keys = [...TEST_KEYS, { id: 'no-payloads', sha256: hashKey(NO_PAYLOADS_KEY), accounts: ['*'], regions: [], payloads: false, admin: false }];
  pair = await startDialectPair(dir, { API_KEYS: JSON.stringify(keys) });
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

describe('sourceCidrs', () => {
  test.each([['10.0.0.0/8'], ['0.0.0.0/0'], ['192.0.2.0/24'], ['fe80::/10'], ['::/0']])('%s keeps the calls from an address in the block, only text that is an address, on both dialects', async (cidr) => {
    const block = ipaddr.parseCIDR(cidr);
    const NO_ADDRESS = [SourceIpKind.OTHER, SourceIpKind.AWS_INTERNAL, SourceIpKind.AWS_SERVICE];
    const inBlock = (a: string | undefined) => {
      if (a === undefined || NO_ADDRESS.includes(classifySourceIp(a))) return false;
      const parsed = ipaddr.parse(a);
      return parsed.kind() === block[0].kind() && parsed.match(block);
    };
    const got = ids(await both({ sourceCidrs: [cidr] }));
    expect(got).toEqual(want((r) => inBlock(r.sourceIPAddress)));
    expect(got.length).toBeGreaterThan(0);
    // Text the address kinds call no address is in no block, as its kind says.
    const other = planted.find((r) => r.sourceIPAddress === '010.1.2.3')!;
    expect(classifySourceIp(other.sourceIPAddress)).toBe(SourceIpKind.OTHER);
    expect(got).not.toContain(other.requestID);
  });
});

describe('window bounds within a second', () => {
  test('a call at a whole second is outside a window starting later in that second and inside one ending then, on both dialects', async () => {
    const t = Date.parse(planted[0]!.eventTime);
    const iso = (ms: number) => new Date(ms).toISOString();
    const has = async (from: number, to: number) => ids(await both({ from: iso(from), to: iso(to) })).includes(planted[0]!.requestID as string);
    expect(await has(t, t + 10_000)).toBe(true);
    expect(await has(t + 500, t + 10_000)).toBe(false);
    expect(await has(t + 1, t + 10_000)).toBe(false);
    expect(await has(t - 10_000, t + 500)).toBe(true);
    expect(await has(t - 10_000, t + 1)).toBe(true);
    expect(await has(t - 10_000, t)).toBe(false);
  });
});

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

/** The planted calls a predicate on their records keeps, by request id. */
const want = (keep: (r: RawRecord) => boolean) => planted.filter(keep).map((r) => r.requestID as string).sort();
const ids = (cs: Call[]) => plantedOf(cs).map((c) => c.requestId!).sort();

describe('outcome, action patterns, text search and not', () => {
  test.each([
    ['outcome ERROR', { outcome: 'ERROR' }, (r: RawRecord) => r.errorCode !== undefined],
    ['outcome SUCCESS', { outcome: 'SUCCESS' }, (r: RawRecord) => r.errorCode === undefined],
    ['outcome ANY', { outcome: 'ANY' }, () => true],
    ['errorsOnly (deprecated) false', { errorsOnly: false }, (r: RawRecord) => r.errorCode === undefined],
    ['prefix Delete*', { actionPatterns: ['Delete*'] }, (r: RawRecord) => r.eventName.startsWith('Delete')],
    ['suffix *DetectorModel', { actionPatterns: ['*DetectorModel'] }, (r: RawRecord) => r.eventName.endsWith('DetectorModel')],
    ['substring *Alarm* or exact DeleteInput', { actionPatterns: ['*Alarm*', 'DeleteInput'] }, (r: RawRecord) => r.eventName.includes('Alarm') || r.eventName === 'DeleteInput'],
    ['errorMessageContains, any case', { errorMessageContains: 'NOT AUTHORIZED to perform iotevents:Delete' }, (r: RawRecord) => /not authorized to perform iotevents:delete/i.test(r.errorMessage ?? '')],
    ['payloadContains in requestParameters', { payloadContains: 'needle-12"' }, (r: RawRecord) => r.requestID === `${PLANTED}12`],
    ['payloadContains in responseElements', { payloadContains: 'HAYSTACK-1' }, (r: RawRecord) => /haystack-1/i.test(JSON.stringify(r.responseElements ?? ''))],
    ['not: prefix', { not: { actionPatterns: ['Delete*'] } }, (r: RawRecord) => !r.eventName.startsWith('Delete')],
    ['not: error code keeps successful calls', { not: { errorCodes: ['ThrottlingException'] } }, (r: RawRecord) => r.errorCode !== 'ThrottlingException'],
    ['not: region and outcome together', { not: { regions: ['eu-west-1'], outcome: 'ERROR' } }, (r: RawRecord) => !(r.awsRegion === 'eu-west-1' && r.errorCode !== undefined)],
    ['not beside other fields', { actionPatterns: ['*DetectorModel'], not: { sourceKinds: ['PUBLIC_IPV4', 'PUBLIC_IPV6'] } }, (r: RawRecord) => r.eventName.endsWith('DetectorModel') && !['PUBLIC_IPV4', 'PUBLIC_IPV6'].includes(classifySourceIp(r.sourceIPAddress))],
  ])('%s, on both dialects', async (_name, filter, keep) => {
    const expected = want(keep as (r: RawRecord) => boolean);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(planted.length + (_name === 'outcome ANY' ? 1 : 0));
    expect(ids(await both(filter))).toEqual(expected);
  });

  const refused = async (filter: Record<string, unknown>, key?: string) => {
    duck.engine.reset();
    const res = await duck.gql(CALLS, { filter: { from: FROM, to: TO, ...filter }, first: 5 }, key ? { authorization: `Bearer ${key}` } : {});
    expect(duck.engine.executed).toHaveLength(0);
    return { status: res.status, code: res.errors?.[0]?.extensions?.code, field: res.errors?.[0]?.extensions?.field };
  };

  test.each([
    [{ payloadContains: 'needle' }],
    [{ errorMessageContains: 'authorized' }],
    [{ not: { payloadContains: 'needle' } }],
  ])('a key without payload access may not search payloads or error messages: %j', async (filter) => {
    expect(await refused(filter, NO_PAYLOADS_KEY)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  });

  test.each([
    [{ outcome: 'ERROR', errorsOnly: true }, 'filter.outcome'],
    [{ actionPatterns: ['Delete%'] }, 'filter.actionPatterns'],
    [{ actionPatterns: ['*'] }, 'filter.actionPatterns'],
    [{ actionPatterns: ['De*lete'] }, 'filter.actionPatterns'],
    [{ not: { from: FROM } }, 'filter.not.from'],
    [{ not: { not: { actions: ['ListInputs'] } } }, 'filter.not.not'],
    [{ not: { regions: ['nowhere'] } }, 'filter.not.regions'],
    [{ payloadContains: '' }, 'filter.payloadContains'],
  ])('%j is refused before any query, naming %s', async (filter, field) => {
    expect(await refused(filter)).toEqual({ status: 400, code: 'BAD_USER_INPUT', field });
  });
});

describe('orderBy', () => {
  const ORDERED = CALLS.replace('apiCalls(filter: $filter, first: $first, after: $after)', 'apiCalls(filter: $filter, first: $first, after: $after, orderBy: $orderBy)').replace('$after: String)', '$after: String, $orderBy: CallOrder)');

  test('OLDEST_FIRST walks page by page the reverse of NEWEST_FIRST, on both dialects', async () => {
    const filter = { actionPatterns: ['Describe*', 'Delete*'] };
    const newest = await both(filter, { orderBy: 'NEWEST_FIRST' }, ORDERED);
    const oldest: Call[] = [];
    for (const server of [duck, athena]) {
      const walked: Call[] = [];
      let after: string | null = null;
      for (let page = 0; page < 100; page++) {
        const res: GqlResponse = await server.gql(ORDERED, { filter: { from: FROM, to: TO, ...filter }, first: 7, after, orderBy: 'OLDEST_FIRST' });
        expect(res.errors).toBeUndefined();
        walked.push(...res.data.apiCalls.edges.map((e: { node: Call }) => e.node));
        if (!res.data.apiCalls.pageInfo.hasNextPage) break;
        after = res.data.apiCalls.pageInfo.endCursor;
      }
      if (oldest.length) expect(walked).toEqual(oldest);
      else oldest.push(...walked);
    }
    expect(newest.length).toBeGreaterThan(14);
    expect(oldest).toEqual([...newest].reverse());
  });

  test('a cursor is bound to its order', async () => {
    const vars = { filter: { from: FROM, to: TO }, first: 2 };
    const res = await duck.gql(ORDERED, { ...vars, orderBy: 'NEWEST_FIRST' });
    const refused = await duck.gql(ORDERED, { ...vars, orderBy: 'OLDEST_FIRST', after: res.data.apiCalls.pageInfo.endCursor });
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('empty lists', () => {
  test('narrow nothing, as the field left out does, on both dialects', async () => {
    const all = ids(await both({}));
    expect(all.length).toBeGreaterThan(0);
    for (const field of ['actions', 'accounts', 'regions', 'eventSources', 'errorCodes', 'callerArns', 'sourceIps', 'sourceCidrs', 'identityTypes', 'categories']) {
      expect(ids(await both({ [field]: [] }))).toEqual(all);
    }
  });
});
