/**
 * Walks that reach every call counted, findings that stay apart, and bad input refused before any
 * statement, with grouped pages answering their nested calls and insight rules answered together.
 *
 * A hand-written trail (one day, two regions of one account, and baseline days):
 * - alice (IAM user, private address) makes three calls; two of them, in us-east-1 and in
 *   eu-west-1, carry the same eventID and the same eventTime. They are two calls (the dedup key is
 *   account, region and eventID), so a walk of her calls must return both.
 * - bob (IAM user) uses two long-term access keys from one public address, one call each in the
 *   same second: two LONG_TERM_KEY_FROM_PUBLIC_ADDRESS findings.
 * - dave's failed calls in one hour, after successes in the baseline: an ERROR_SPIKE.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CursorCodec } from '../src/query/cursor';
import { TestServer, startServer } from './support/server';
import { tempDir } from './support/trails';

const ACCOUNT = '111122223333';
const DAY = '2026/03/15';
const NOW = new Date('2026-03-15T12:00:00Z');
const W = { from: '2026-03-15T00:00:00Z', to: '2026-03-15T12:00:00Z' };
const ALICE = `arn:aws:iam::${ACCOUNT}:user/alice`;
/** The main server's cursor key: a test signs a cursor of a shape the server never makes. */
const TEST_CURSOR_SECRET = 'walks-findings-refusals-cursor-key';

function record(p: { id: string; time: string; region: string; user: string; key: string; ip: string; action: string; errorCode?: string }) {
  return {
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', principalId: `AIDA${p.user.toUpperCase()}`, arn: `arn:aws:iam::${ACCOUNT}:user/${p.user}`, accountId: ACCOUNT, accessKeyId: p.key, userName: p.user },
    eventTime: p.time,
    eventSource: 'iotevents.amazonaws.com',
    eventName: p.action,
    awsRegion: p.region,
    sourceIPAddress: p.ip,
    userAgent: 'aws-cli/2.0',
    requestParameters: null,
    responseElements: null,
    requestID: `req-${p.id}-${p.region}`,
    eventID: p.id,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    ...(p.errorCode ? { errorCode: p.errorCode, errorMessage: 'not found' } : {}),
  };
}

function put(dir: string, region: string, stamp: string, records: object[], day = DAY) {
  const folder = path.join(dir, 'AWSLogs', ACCOUNT, 'CloudTrail', region, ...day.split('/'));
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, `${ACCOUNT}_CloudTrail_${region}_${stamp}_x${region.replace(/-/g, '')}.json`), JSON.stringify({ Records: records }));
}

let dir: string;
let server: TestServer;
/** At most 2 distinct source addresses may be looked up for an AS number or country filter. */
let few: TestServer;

beforeAll(async () => {
  dir = tempDir('trailql-walks-');
  const alice = { user: 'alice', key: 'ASIAALICE00000000001', ip: '10.0.0.5', action: 'ListDetectorModels' };
  put(dir, 'us-east-1', '20260315T1105Z', [
    record({ ...alice, id: 'dup-0001', time: '2026-03-15T10:00:00Z', region: 'us-east-1' }),
    record({ ...alice, id: 'alice-0002', time: '2026-03-15T09:00:00Z', region: 'us-east-1' }),
    record({ id: 'bob-0001', time: '2026-03-15T11:00:00Z', region: 'us-east-1', user: 'bob', key: 'AKIABOB0000000000001', ip: '81.2.69.160', action: 'DescribeDetectorModel' }),
    record({ id: 'bob-0002', time: '2026-03-15T11:00:00Z', region: 'us-east-1', user: 'bob', key: 'AKIABOB0000000000002', ip: '81.2.69.160', action: 'DescribeDetectorModel' }),
  ]);
  put(dir, 'eu-west-1', '20260315T1105Z', [
    record({ ...alice, id: 'dup-0001', time: '2026-03-15T10:00:00Z', region: 'eu-west-1' }),
    // frank: two calls whose records name no source address (a null group of sourceIps).
    ...[0, 1].map((i) => {
      const { sourceIPAddress: _none, ...r } = record({ id: `frank-${i}`, time: `2026-03-15T07:0${i}:00Z`, region: 'eu-west-1', user: 'frank', key: 'ASIAFRANK0000000001', ip: '', action: 'ListAlarms' });
      return r;
    }),
  ]);
  // Baseline days only (five days before the window): carol from three public addresses.
  put(
    dir,
    'us-east-1',
    '20260310T1105Z',
    ['81.2.69.1', '81.2.69.2', '81.2.69.3'].map((ip, i) => record({ id: `carol-${i}`, time: `2026-03-10T10:0${i}:00Z`, region: 'us-east-1', user: 'carol', key: 'ASIACAROL0000000001', ip, action: 'ListInputs' })),
    '2026/03/10',
  );
  // dave: DescribeInput, 10 successful calls in the baseline; in the window's 08:00 hour 5 failures
  // (08:00-08:04) and then one success at 08:50 (an ERROR_SPIKE whose evidence is the 5 failures).
  const dave = { user: 'dave', key: 'ASIADAVE00000000001', ip: '10.0.0.5', action: 'DescribeInput', region: 'us-east-1' };
  put(dir, 'us-east-1', '20260311T1105Z', Array.from({ length: 10 }, (_, i) => record({ ...dave, id: `dave-b${i}`, time: `2026-03-11T10:0${i}:00Z` })), '2026/03/11');
  put(dir, 'us-east-1', '20260315T0905Z', [
    ...Array.from({ length: 5 }, (_, i) => record({ ...dave, id: `dave-e${i}`, time: `2026-03-15T08:0${i}:00Z`, errorCode: 'ResourceNotFoundException' })),
    record({ ...dave, id: 'dave-ok', time: '2026-03-15T08:50:00Z' }),
  ]);
  server = await startServer(dir, { CACHE_ENABLED: 'false', CURSOR_SECRET: TEST_CURSOR_SECRET }, { now: () => NOW });
  few = await startServer(dir, { CACHE_ENABLED: 'false', ENRICHMENT_MAX_ADDRESSES: '2' }, { now: () => NOW });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await few?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function ok(query: string, variables: Record<string, unknown> = {}) {
  const res = await server.gql(query, variables);
  expect(res.errors).toBeUndefined();
  return res.data;
}

describe('keyset cursors vs the dedup key (same eventID and eventTime in two regions)', () => {
  test('apiCalls: walking pages of 1 returns every call totalCount counts', async () => {
    const Q = `query($f: ApiCallFilter, $after: String) { apiCalls(filter: $f, first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { eventId region } } }`;
    const f = { ...W, callerArns: [ALICE] };
    const seen: string[] = [];
    let after: string | null = null;
    let total = -1;
    for (let i = 0; i < 10; i++) {
      const data: any = await ok(Q, { f, after }); // eslint-disable-line @typescript-eslint/no-explicit-any
      total = data.apiCalls.totalCount;
      seen.push(...data.apiCalls.nodes.map((n: { eventId: string; region: string }) => `${n.eventId}@${n.region}`));
      if (!data.apiCalls.pageInfo.hasNextPage) break;
      after = data.apiCalls.pageInfo.endCursor;
    }
    expect(total).toBe(3);
    expect(seen.sort()).toEqual(['alice-0002@us-east-1', 'dup-0001@eu-west-1', 'dup-0001@us-east-1']);
  });

  test('callers -> calls(first: 1) primed with the page, then continued with caller(key): every call is reached', async () => {
    const data: any = await ok( // eslint-disable-line @typescript-eslint/no-explicit-any
      `query($f: ApiCallFilter) { callers(filter: $f, first: 10) { nodes { key calls(first: 1) { totalCount pageInfo { hasNextPage endCursor } nodes { eventId region } } } } }`,
      { f: W },
    );
    const alice = data.callers.nodes.find((n: { key: string }) => n.key === ALICE);
    expect(alice.calls.totalCount).toBe(3);
    const seen: string[] = alice.calls.nodes.map((n: { eventId: string; region: string }) => `${n.eventId}@${n.region}`);
    let page = alice.calls;
    for (let i = 0; i < 10 && page.pageInfo.hasNextPage; i++) {
      const next: any = await ok( // eslint-disable-line @typescript-eslint/no-explicit-any
        `query($k: String!, $f: ApiCallFilter, $after: String) { caller(key: $k, filter: $f) { calls(first: 1, after: $after) { pageInfo { hasNextPage endCursor } nodes { eventId region } } } }`,
        { k: ALICE, f: W, after: page.pageInfo.endCursor },
      );
      page = next.caller.calls;
      seen.push(...page.nodes.map((n: { eventId: string; region: string }) => `${n.eventId}@${n.region}`));
    }
    expect(seen.sort()).toEqual(['alice-0002@us-east-1', 'dup-0001@eu-west-1', 'dup-0001@us-east-1']);
  });
});

describe('lookups of a call whose eventID is also a call of another region', () => {
  test('apiCall: beside it, another id is still found', async () => {
    const data: any = await ok( // eslint-disable-line @typescript-eslint/no-explicit-any
      `query($from: DateTime, $to: DateTime) { a: apiCall(eventId: "dup-0001", from: $from, to: $to) { eventId } b: apiCall(eventId: "alice-0002", from: $from, to: $to) { eventId } }`,
      W,
    );
    expect(data.a?.eventId).toBe('dup-0001');
    expect(data.b?.eventId).toBe('alice-0002');
  });

  test('node(id) and nodes(ids): each id names its own region\'s call', async () => {
    const page: any = await ok( // eslint-disable-line @typescript-eslint/no-explicit-any
      `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 10) { nodes { id eventId region } } }`,
      { f: { ...W, callerArns: [ALICE] } },
    );
    const twins = (page.apiCalls.nodes as { id: string; eventId: string; region: string }[]).filter((n) => n.eventId === 'dup-0001');
    expect(twins.map((n) => n.region).sort()).toEqual(['eu-west-1', 'us-east-1']);
    for (const twin of twins) {
      const one: any = await ok(`query($id: ID!) { node(id: $id) { ... on ApiCall { eventId region } } }`, { id: twin.id }); // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(one.node).toEqual({ eventId: 'dup-0001', region: twin.region });
    }
    const both: any = await ok(`query($ids: [ID!]!) { nodes(ids: $ids) { ... on ApiCall { eventId region } } }`, { ids: twins.map((n) => n.id) }); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(both.nodes).toEqual(twins.map((n) => ({ eventId: 'dup-0001', region: n.region })));
  });
});

describe('insights: two findings of one rule that differ only in the access key', () => {
  const Q = `query($f: ApiCallFilter, $first: Int, $after: String) {
    insights(filter: $f, kinds: [LONG_TERM_KEY_FROM_PUBLIC_ADDRESS], first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id summary count evidence(first: 5) { totalCount nodes { eventId caller { accessKeyId } } } }
    } }`;

  test('each finding has its own id and its own evidence', async () => {
    const data: any = await ok(Q, { f: W, first: 10 }); // eslint-disable-line @typescript-eslint/no-explicit-any
    const nodes = data.insights.nodes as { id: string; summary: string; count: number; evidence: { totalCount: number; nodes: { eventId: string; caller: { accessKeyId: string } }[] } }[];
    expect(nodes).toHaveLength(2);
    // Each summary names its key; its evidence must be that key's call.
    for (const n of nodes) {
      const key = /key (AKIA[A-Z0-9]+)/.exec(n.summary)![1];
      expect(n.evidence.nodes.map((e) => e.caller.accessKeyId)).toEqual([key]);
    }
    expect(new Set(nodes.map((n) => n.id)).size).toBe(2);
  });

  test('walking the findings one page at a time reaches both', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 5; i++) {
      const data: any = await ok(Q, { f: W, first: 1, after }); // eslint-disable-line @typescript-eslint/no-explicit-any
      seen.push(...data.insights.nodes.map((n: { summary: string }) => n.summary));
      if (!data.insights.pageInfo.hasNextPage) break;
      after = data.insights.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(2);
  });
});

describe('bad input refused before any engine query (whole operation)', () => {
  async function refusedWithoutEngine(query: string, variables: Record<string, unknown> = {}) {
    const before = server.engine.executed.length;
    const res = await server.gql(query, variables);
    const ran = server.engine.executed.slice(before).map((q) => q.label);
    expect(res.errors?.map((e) => e.extensions?.code)).toContain('BAD_USER_INPUT');
    expect(ran).toEqual([]);
  }

  test('a forged cursor on a nested calls field', () =>
    refusedWithoutEngine(`query($f: ApiCallFilter) { callers(filter: $f) { nodes { key calls(after: "not-a-cursor") { totalCount } } } }`, { f: W }));

  test('a forged cursor on a nested evidence field', () =>
    refusedWithoutEngine(`query($f: ApiCallFilter) { insights(filter: $f) { nodes { evidence(after: "not-a-cursor") { totalCount } } } }`, { f: W }));

  test('baselineDays 0 next to another root field', () =>
    refusedWithoutEngine(`query($f: ApiCallFilter) { apiCalls(filter: $f) { totalCount } insights(filter: $f, baselineDays: 0) { totalCount } }`, { f: W }));

  test('a caller key too long next to another root field', () =>
    refusedWithoutEngine(`query($f: ApiCallFilter) { apiCalls(filter: $f) { totalCount } caller(key: "${'k'.repeat(2049)}", filter: $f) { key } }`, { f: W }));

  test('a bad eventId next to another root field', () =>
    refusedWithoutEngine(`query($f: ApiCallFilter) { apiCalls(filter: $f) { totalCount } apiCall(eventId: "") { eventId } }`, { f: W }));

  test('a caller arn too long next to another root field', () =>
    refusedWithoutEngine(`query($f: ApiCallFilter) { apiCalls(filter: $f) { totalCount } caller(arn: "${'a'.repeat(2049)}", filter: $f) { key } }`, { f: W }));

  test('a source address too long next to another root field', () =>
    refusedWithoutEngine(`query($f: ApiCallFilter) { apiCalls(filter: $f) { totalCount } sourceIp(address: "${'1'.repeat(257)}", filter: $f) { address } }`, { f: W }));

  test('a resource name with a control character next to another root field', () =>
    refusedWithoutEngine(`query($f: ApiCallFilter) { apiCalls(filter: $f) { totalCount } resource(name: "a\\u0001b", filter: $f) { name } }`, { f: W }));

  test('a field execution skips is not judged, one it runs is', async () => {
    const Q = `query($f: ApiCallFilter, $id: ID!, $want: Boolean!) { apiCalls(filter: $f) { totalCount } apiCall(eventId: $id) @include(if: $want) { eventId } }`;
    const skipped = await server.gql(Q, { f: W, id: '', want: false });
    expect(skipped.errors).toBeUndefined();
    const nested = await server.gql(`query($f: ApiCallFilter) { callers(filter: $f) { nodes { key calls(after: "not-a-cursor") @skip(if: true) { totalCount } } } }`, { f: W });
    expect(nested.errors).toBeUndefined();
    await refusedWithoutEngine(Q, { f: W, id: '', want: true });
  });

  test('a signed cursor whose keys are not text, numbers or null, beside another root field', () => {
    const forged = new CursorCodec(TEST_CURSOR_SECRET).encode({ q: 'q', from: 0, to: 1, k: [{ calls: 1 }, 'x'] } as never);
    return refusedWithoutEngine(`query($f: ApiCallFilter, $a: String) { apiCalls(filter: $f) { totalCount } callers(filter: $f, after: $a) { totalCount } }`, { f: W, a: forged });
  });

  test('a signed cursor whose position is not a list of keys', () => {
    const codec = new CursorCodec(TEST_CURSOR_SECRET);
    const forged = codec.encode({ q: 'q', from: 0, to: 1, k: { not: 'a list' } } as never);
    return refusedWithoutEngine(`query($f: ApiCallFilter, $a: String) { callers(filter: $f) { nodes { key calls(after: $a) { totalCount } } } }`, { f: W, a: forged });
  });
});

describe('insights: a rule without a baseline question reads no baseline day', () => {
  const Q = `query($f: ApiCallFilter) { insights(filter: $f, kinds: [ROOT_ACTIVITY]) { totalCount complete } }`;

  test('ROOT_ACTIVITY under a country filter reads only the window', async () => {
    const before = server.engine.executed.length;
    const res = await server.gql(Q, { f: { ...W, countries: ['GB'] } });
    expect(res.errors).toBeUndefined();
    const ran = server.engine.executed.slice(before);
    // Expected: the window's source addresses and the rule's statement; nothing over the baseline days.
    const overBaseline = ran.filter((q) => q.window.from.getTime() < new Date(W.from).getTime());
    expect(overBaseline.map((q) => q.label)).toEqual([]);
  });

  test('ROOT_ACTIVITY is not refused for addresses of baseline days it never compares with', async () => {
    // The window holds 2 distinct addresses (within ENRICHMENT_MAX_ADDRESSES=2); the baseline 3.
    const res = await few.gql(Q, { f: { ...W, countries: ['GB'] } });
    expect(res.errors).toBeUndefined();
  });
});

test('ERROR_SPIKE: firstSeen/lastSeen are those of the evidence (the failed calls)', async () => {
  const data: any = await ok( // eslint-disable-line @typescript-eslint/no-explicit-any
    `query($f: ApiCallFilter) { insights(filter: $f, kinds: [ERROR_SPIKE]) { nodes { action count firstSeen lastSeen evidence(first: 50) { totalCount nodes { eventTime errorCode } } } } }`,
    { f: W },
  );
  const [spike] = data.insights.nodes;
  expect(spike.action).toBe('DescribeInput');
  expect(spike.count).toBe(spike.evidence.totalCount);
  const times = spike.evidence.nodes.map((n: { eventTime: string }) => n.eventTime).sort();
  expect(spike.firstSeen).toBe(times[0]);
  expect(spike.lastSeen).toBe(times[times.length - 1]);
});

test('sourceIps (null address included): the primed calls are the field\'s own answer, in one statement', async () => {
  const Q = (args: string) =>
    `query($f: ApiCallFilter) { sourceIps(filter: $f, first: 10, orderBy: KEY_ASC) { nodes { address calls(${args}) { totalCount pageInfo { hasNextPage } nodes { eventId } } } } }`;
  const before = server.engine.executed.length;
  const together: any = await ok(Q('first: 1'), { f: W }); // eslint-disable-line @typescript-eslint/no-explicit-any
  const labels = server.engine.executed.slice(before).map((q) => q.label);
  const apart: any = await ok(Q('first: 1, filter: $f'), { f: W }); // eslint-disable-line @typescript-eslint/no-explicit-any
  expect(labels).toEqual(['sourceIps+sourceIp.calls']);
  expect(together.sourceIps.nodes.some((n: { address: string | null }) => n.address === null)).toBe(true);
  expect(together.sourceIps.nodes).toEqual(apart.sourceIps.nodes);
});

describe.each([
  ['answers kept', { CACHE_ENABLED: 'true' }],
  ['no answers kept', { CACHE_ENABLED: 'false' }],
])('%s: alias + fragment + variable first + list cursors + PRINCIPAL', (_name, env) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer(dir, env, { now: () => NOW });
  });
  afterAll(async () => {
    await srv?.close();
  });
  const Q = (own: string, groupBy: string) =>
    `query($f: ApiCallFilter, $n: Int, $after: String) { callers(filter: $f, first: 2, after: $after, orderBy: KEY_ASC, groupBy: ${groupBy}) { totalCount pageInfo { hasNextPage endCursor } nodes { key ...C } } }
     fragment C on Caller { c: calls(first: $n${own}) { totalCount pageInfo { hasNextPage } nodes { eventId action } } }`;
  async function walk(query: string) {
    const out: unknown[] = [];
    const labels: string[][] = [];
    let after: string | null = null;
    for (let i = 0; i < 10; i++) {
      const before = srv.engine.executed.length;
      const res: { data?: any; errors?: unknown } = await srv.gql(query, { f: W, n: 2, after });
      expect(res.errors).toBeUndefined();
      labels.push(srv.engine.executed.slice(before).map((q) => q.label));
      out.push(...res.data.callers.nodes, res.data.callers.totalCount);
      if (!res.data.callers.pageInfo.hasNextPage) break;
      after = res.data.callers.pageInfo.endCursor;
    }
    return { out, labels };
  }
  test.each(['ARN', 'PRINCIPAL'])('groupBy %s', async (groupBy) => {
    const together = await walk(Q('', groupBy));
    const apart = await walk(Q(', filter: $f', groupBy));
    expect(together.out).toEqual(apart.out);
    expect(together.labels.flat().some((l) => l.includes('+'))).toBe(true);
  });
});

test('insights: every rule together finds what each finds alone (this trail)', async () => {
  const ASK = `query($f: ApiCallFilter, $kinds: [InsightKind!]) { insights(filter: $f, kinds: $kinds, first: 500) { totalCount complete nodes { id kind count firstSeen lastSeen summary } } }`;
  const found = (nodes: object[]) => nodes.map((n) => JSON.stringify(n)).sort();
  const together: any = await ok(ASK, { f: W }); // eslint-disable-line @typescript-eslint/no-explicit-any
  const alone: string[] = [];
  for (const kind of ['NEW_SOURCE_FOR_PRINCIPAL', 'FIRST_USE_OF_ACTION', 'ROOT_ACTIVITY', 'LONG_TERM_KEY_FROM_PUBLIC_ADDRESS', 'NO_MFA_SESSION', 'ACCESS_DENIED_BURST', 'DESTRUCTIVE_CHANGE', 'ERROR_SPIKE']) {
    const res: any = await ok(ASK, { f: W, kinds: [kind] }); // eslint-disable-line @typescript-eslint/no-explicit-any
    alone.push(...found(res.insights.nodes));
  }
  expect(found(together.insights.nodes)).toEqual(alone.sort());
});
