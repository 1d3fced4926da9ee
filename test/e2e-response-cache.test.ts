/**
 * Whole answers given again (src/cache/response-cache.ts) over HTTP against the real service:
 * only to the caller that asked, only while the files read are unchanged, never for answers that
 * depend on when they were asked, are incomplete, failed or come from the service's own state.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { hashKey } from '../src/auth/authenticate';
import { createCache } from '../src/cache';
import { QueryCache } from '../src/cache/query-cache';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { readRecords } from './support/records';
import { TEST_KEY, TEST_KEYS, TestServer, startServer } from './support/server';
import { metricSum, parseMetrics } from './support/ops';
import { SAMPLE_END, settleFolders, useSampleTrail } from './support/trails';

const ACCOUNT_A = '111122223333';
const ACCOUNT_B = '444455556666';
const KEY_A = 'reader-of-account-a-0123456789abcdef';
const KEY_A2 = 'second-reader-of-account-a-0123456789';
const KEY_B = 'reader-of-account-b-0123456789abcdef';
const KEYS = [
  ...TEST_KEYS,
  { id: 'a', sha256: hashKey(KEY_A), accounts: [ACCOUNT_A], regions: [], payloads: false, admin: false },
  { id: 'a2', sha256: hashKey(KEY_A2), accounts: [ACCOUNT_A], regions: [], payloads: false, admin: false },
  { id: 'b', sha256: hashKey(KEY_B), accounts: [ACCOUNT_B], regions: [], payloads: false, admin: false },
];

/** A day that had ended when the service is asked (its clock is SAMPLE_END). */
const CLOSED = { from: '2026-03-14T00:00:00Z', to: '2026-03-15T00:00:00Z' };
const CALLS = `query($filter: ApiCallFilter, $first: Int) {
  apiCalls(filter: $filter, first: $first) {
    totalCount
    edges { node { eventId account action } }
  }
}`;

const trail = useSampleTrail(2);
let server: TestServer;
let cache: QueryCache;

beforeAll(async () => {
  const env = { API_KEYS: JSON.stringify(KEYS), PARQUET_ENABLED: 'false' };
  cache = createCache(loadConfig({ TRAIL_DIR: trail.dir, LOG_LEVEL: 'silent', ...env }), createLogger('silent'), { now: () => SAMPLE_END });
  server = await startServer(trail.dir, env, { cache, now: () => SAMPLE_END });
});

afterAll(async () => {
  await server?.close();
});

// What a test before wrote or touched, as if a while ago: answers over it are kept again.
beforeEach(() => settleFolders(trail.dir));

async function ask(key: string, variables: Record<string, unknown>, query = CALLS, headers: Record<string, string> = {}) {
  const res = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) as { data?: any; errors?: unknown[]; extensions?: any } }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const again = (r: { body: { extensions?: { cost?: { answeredAgain?: boolean } } } }) => r.body.extensions?.cost?.answeredAgain === true;

/** A distinct window per test, so no test sees another's kept answers. */
const windowOf = (hour: number) => ({ from: `2026-03-14T${String(hour).padStart(2, '0')}:00:00Z`, to: CLOSED.to });

test('the same request by the same caller is answered whole again: same data, its own request id, no statement looked up', async () => {
  const variables = { filter: windowOf(1), first: 5 };
  const first = await ask(TEST_KEY, variables);
  expect(first.status).toBe(200);
  expect(again(first)).toBe(false);
  const ran = server.engine.executed.length;
  const lookups = cache.stats().hits + cache.stats().misses;
  const second = await ask(TEST_KEY, variables, CALLS, { 'x-request-id': 'second-request' });
  expect(second.status).toBe(200);
  expect(again(second)).toBe(true);
  expect(second.body.data).toEqual(first.body.data);
  expect(second.body.extensions.requestId).toBe('second-request');
  expect(second.headers.get('x-request-id')).toBe('second-request');
  expect(second.headers.get('cache-control')).toBe('no-store');
  expect(second.headers.get('content-type')).toMatch(/^application\/json/);
  expect(second.body.extensions.complete).toBe(true);
  // Every statement of the first answer, reported as a hit that read nothing.
  const labels = first.body.extensions.cost.queries.map((q: { label: string }) => q.label);
  expect(second.body.extensions.cost.queries.map((q: { label: string }) => q.label)).toEqual(labels);
  expect(second.body.extensions.cost.totals).toMatchObject({ queries: labels.length, engineQueries: 0, cacheHits: labels.length, bytesScanned: 0 });
  // Nothing ran, and the statements' cache was not even asked.
  expect(server.engine.executed.length).toBe(ran);
  expect(cache.stats().hits + cache.stats().misses).toBe(lookups);
  const metrics = parseMetrics(await (await fetch(server.url.replace('/graphql', '/metrics'))).text());
  expect(metricSum(metrics, 'trailql_response_cache_hits_total')).toBeGreaterThanOrEqual(1);
});

test('another caller never gets it, even with the same scope', async () => {
  const variables = { filter: windowOf(2), first: 50 };
  const a = await ask(KEY_A, variables);
  expect(a.status).toBe(200);
  expect(new Set(a.body.data.apiCalls.edges.map((e: { node: { account: string } }) => e.node.account))).toEqual(new Set([ACCOUNT_A]));
  expect(again(await ask(KEY_A, variables))).toBe(true);
  const b = await ask(KEY_B, variables);
  expect(again(b)).toBe(false);
  expect(new Set(b.body.data.apiCalls.edges.map((e: { node: { account: string } }) => e.node.account))).toEqual(new Set([ACCOUNT_B]));
  expect(again(await ask(KEY_A2, variables))).toBe(false);
});

test('an unauthenticated request with a kept body is refused, not answered', async () => {
  const variables = { filter: windowOf(3), first: 5 };
  await ask(TEST_KEY, variables);
  expect(again(await ask(TEST_KEY, variables))).toBe(true);
  const refused = await ask('not-a-key-of-this-service-0123456789', variables);
  expect(refused.status).toBe(401);
  expect(refused.body.data ?? null).toBeNull();
});

test('a file delivered late into the window is seen at once', async () => {
  const variables = { filter: windowOf(4), first: 1 };
  const before = await ask(TEST_KEY, variables);
  expect(again(await ask(TEST_KEY, variables))).toBe(true);
  const sample = readRecords(trail.dir).find((f) => f.record.eventSource === 'iotevents.amazonaws.com' && f.record.eventTime >= '2026-03-14T05' && f.record.eventTime < '2026-03-14T23')!;
  const late = { ...sample.record, eventID: '00000000-0000-4000-8000-00000000cafe', eventTime: '2026-03-14T23:59:59Z' };
  const file = path.join(path.dirname(sample.file), `late_${Date.now()}.json.gz`);
  fs.writeFileSync(file, gzipSync(JSON.stringify({ Records: [late] })));
  try {
    const after = await ask(TEST_KEY, variables);
    expect(again(after)).toBe(false);
    expect(after.body.data.apiCalls.totalCount).toBe(before.body.data.apiCalls.totalCount + 1);
    expect(after.body.data.apiCalls.edges[0].node.eventId).toBe(late.eventID);
  } finally {
    fs.rmSync(file);
  }
  const removed = await ask(TEST_KEY, variables);
  expect(again(removed)).toBe(false);
  expect(removed.body.data).toEqual(before.body.data);
});

test('answers that depend on when they were asked are never given again', async () => {
  // No "to": the window ends now, and "now" moves on.
  const open = { filter: { from: '2026-03-14T20:00:00Z' }, first: 5 };
  await ask(TEST_KEY, open);
  expect(again(await ask(TEST_KEY, open))).toBe(false);
  const dflt = { first: 5 };
  await ask(TEST_KEY, dflt);
  expect(again(await ask(TEST_KEY, dflt))).toBe(false);
});

test('bypasses, errors and the service\'s own state are not kept', async () => {
  const variables = { filter: windowOf(5), first: 5 };
  await ask(TEST_KEY, variables, CALLS, { 'x-trailql-no-cache': '1' });
  expect(again(await ask(TEST_KEY, variables, CALLS, { 'x-trailql-no-cache': '1' }))).toBe(false);
  // A refusal is asked again each time.
  const bad = { filter: { ...windowOf(5), accounts: ['not-an-account'] }, first: 5 };
  expect((await ask(TEST_KEY, bad)).body.errors).toBeDefined();
  const badAgain = await ask(TEST_KEY, bad);
  expect(badAgain.body.errors).toBeDefined();
  expect(again(badAgain)).toBe(false);
  // trailHealth reads the service's state, which no file fingerprint follows.
  const mixed = `query($filter: ApiCallFilter) { trailHealth { available } apiCalls(filter: $filter, first: 1) { totalCount } }`;
  await ask(TEST_KEY, { filter: windowOf(6) }, mixed);
  expect(again(await ask(TEST_KEY, { filter: windowOf(6) }, mixed))).toBe(false);
});

test('an answer that left out a file it could not read is not kept', async () => {
  const variables = { filter: windowOf(7), first: 5 };
  const sample = readRecords(trail.dir).find((f) => f.record.eventTime >= '2026-03-14T08' && f.record.eventTime < '2026-03-14T23')!;
  const broken = path.join(path.dirname(sample.file), `broken_${Date.now()}.json.gz`);
  fs.writeFileSync(broken, Buffer.from('not gzip at all'));
  try {
    const first = await ask(TEST_KEY, variables);
    expect(first.body.extensions.complete).toBe(false);
    const second = await ask(TEST_KEY, variables);
    expect(again(second)).toBe(false);
    expect(second.body.extensions.complete).toBe(false);
  } finally {
    fs.rmSync(broken);
  }
});

test('only a request accepting plain JSON is answered again; others are Apollo\'s to answer or refuse', async () => {
  const variables = { filter: windowOf(8), first: 5 };
  await ask(TEST_KEY, variables);
  expect(again(await ask(TEST_KEY, variables, CALLS, { accept: 'application/json' }))).toBe(true);
  const html = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}`, accept: 'text/html' }, body: JSON.stringify({ query: CALLS, variables }) });
  expect(html.status).toBe(406);
  const typed = await ask(TEST_KEY, variables, CALLS, { accept: 'application/graphql-response+json' });
  expect(typed.status).toBe(200);
  expect(again(typed)).toBe(false);
  expect(typed.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
});

test('an admin\'s request for fresh answers drops the kept one, so a file rewritten in place is seen', async () => {
  const variables = { filter: windowOf(9), first: 1 };
  const before = await ask(TEST_KEY, variables);
  expect(again(await ask(TEST_KEY, variables))).toBe(true);
  // A file rewritten under its own name changes no folder: nothing notices it on its own.
  const sample = readRecords(trail.dir).find((f) => f.record.eventSource === 'iotevents.amazonaws.com' && f.record.eventTime >= '2026-03-14T10' && f.record.eventTime < '2026-03-14T23')!;
  const original = fs.readFileSync(sample.file);
  const records = (JSON.parse(gunzipSync(original).toString()) as { Records: Record<string, unknown>[] }).Records;
  const added = { ...sample.record, eventID: '00000000-0000-4000-8000-00000000f00d', eventTime: '2026-03-14T23:59:58Z' };
  fs.writeFileSync(sample.file, gzipSync(JSON.stringify({ Records: [...records, added] })));
  try {
    expect(again(await ask(TEST_KEY, variables))).toBe(true);
    const fresh = await ask(TEST_KEY, variables, CALLS, { 'x-trailql-no-cache': '1' });
    expect(fresh.body.data.apiCalls.totalCount).toBe(before.body.data.apiCalls.totalCount + 1);
    const next = await ask(TEST_KEY, variables);
    expect(again(next)).toBe(false);
    expect(next.body.data).toEqual(fresh.body.data);
  } finally {
    fs.writeFileSync(sample.file, original);
  }
});

test('after a file is rewritten in place, touching its day folder makes every caller\'s kept answer go', async () => {
  const variables = { filter: { ...windowOf(10), accounts: [ACCOUNT_A] }, first: 1 };
  const sample = readRecords(trail.dir).find((f) => f.record.eventSource === 'iotevents.amazonaws.com' && f.record.recipientAccountId === ACCOUNT_A && f.record.eventTime >= '2026-03-14T11' && f.record.eventTime < '2026-03-14T23')!;
  const before = { admin: await ask(TEST_KEY, variables), reader: await ask(KEY_A, variables) };
  expect(again(await ask(TEST_KEY, variables))).toBe(true);
  expect(again(await ask(KEY_A, variables))).toBe(true);
  const original = fs.readFileSync(sample.file);
  const folder = path.dirname(sample.file);
  const { mtime } = fs.statSync(folder);
  const records = (JSON.parse(gunzipSync(original).toString()) as { Records: Record<string, unknown>[] }).Records;
  const added = { ...sample.record, eventID: '00000000-0000-4000-8000-00000000beef', eventTime: '2026-03-14T23:59:57Z' };
  // Rewritten in place: the folder's time stays, and so do the kept answers (the test above).
  fs.writeFileSync(sample.file, gzipSync(JSON.stringify({ Records: [...records, added] })));
  try {
    expect(again(await ask(KEY_A, variables))).toBe(true);
    // `touch` on the folder: each caller's next answer is asked again, and counts the new call.
    const later = new Date(mtime.getTime() + 5_000);
    fs.utimesSync(folder, later, later);
    for (const [key, was] of [[TEST_KEY, before.admin], [KEY_A, before.reader]] as const) {
      const now = await ask(key, variables);
      expect(again(now)).toBe(false);
      expect(now.body.extensions.cost.totals.cacheHits).toBe(0);
      expect(now.body.data.apiCalls.totalCount).toBe(was.body.data.apiCalls.totalCount + 1);
    }
  } finally {
    fs.writeFileSync(sample.file, original);
    fs.utimesSync(folder, new Date(), new Date());
  }
});
