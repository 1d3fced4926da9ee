/**
 * Damaged trails over HTTP: a truncated `.json.gz`, zero-byte files, a file that is not JSON and
 * a file that vanishes while read are left out, every query over their day answers from the other
 * files with `complete: false` and a FILES_UNREADABLE warning naming them, nothing incomplete is
 * cached, readiness and metrics report them, and a repaired or newly delivered file counts at
 * once. A vanished trail is an error (TRAIL_UNAVAILABLE, 503), never an empty answer.
 *
 * A file unreadable by its permissions is in e2e-permission-denied.test.ts: it needs the service
 * in a process of its own, under a user that permissions bind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createCache } from '../src/cache';
import { QueryCache } from '../src/cache/query-cache';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { followPages } from './support/api-calls';
import { IOT_SOURCES, RawRecord, dedupe, inWindow, listRecordFiles } from './support/records';
import { GqlResponse, TEST_KEY, TestServer, startServer } from './support/server';
import { parseMetrics, metricSum } from './support/ops';
import { SAMPLE_END, sampleTrail } from './support/trails';
import { hashKey } from '../src/auth/authenticate';
import { parseDeliveryKey } from '../src/trail/layout';

const PAGE = `query($filter: ApiCallFilter, $first: Int, $after: String) {
  apiCalls(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { eventId } }
  }
}`;
const ACTIONS = `query($filter: ApiCallFilter) { actions(filter: $filter) { action calls } }`;
const HEALTH = `{ trailHealth { observed available problem unreadableFileCount unreadableFilesFound unreadableFiles { path reason size since } } }`;
const READER_KEY = 'reader-key-without-admin-0123456789';
/** Admin keys scoped to one account, to one region, and to the damaged files' account and region. */
const ONE_ACCOUNT_ADMIN = 'admin-key-of-one-account-0123456789';
const ONE_REGION_ADMIN = 'admin-key-of-one-region-01234567890';
const DAMAGED_SCOPE_ADMIN = 'admin-key-of-the-damaged-0123456789';

/** The damaged day: the window is that day, so the margin reads the next day's folders too. */
const FROM = '2026-03-13T00:00:00Z';
const TO = '2026-03-14T00:00:00Z';
const FILTER = { from: FROM, to: TO };

let dir: string;
let server: TestServer;
let cache: QueryCache;
/** Damaged files, relative to the trail folder, and the original bytes of each. */
const damaged = new Map<string, Buffer>();
let expectedIds: string[];

const rel = (abs: string) => path.relative(dir, abs).split(path.sep).join('/');

async function walk(filter: Record<string, unknown>, first: number, headers: Record<string, string> = {}) {
  const responses: GqlResponse[] = [];
  const pages = await followPages(async (after) => {
    const res: GqlResponse = await server.gql(PAGE, { filter, first, after }, headers);
    expect(res.errors).toBeUndefined();
    responses.push(res);
    return res.data.apiCalls;
  }, 500);
  const ids: string[] = pages.flatMap((conn) => conn.edges.map((e: { node: { eventId: string } }) => e.node.eventId));
  return { ids, total: pages[pages.length - 1].totalCount as number, responses };
}

/** The calls of the window read straight from the files, the damaged ones left out. */
function expectedCalls(skip: ReadonlySet<string>): string[] {
  const from = new Date(FROM);
  const to = new Date(TO);
  const records = listRecordFiles(dir)
    .filter((f) => !skip.has(rel(f)))
    .flatMap((file) => {
      const raw = fs.readFileSync(file);
      return (JSON.parse((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')) as { Records: RawRecord[] }).Records.map((record) => ({ file, record }));
    });
  return dedupe(records)
    .filter((r: RawRecord) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, from, to))
    .map((r) => r.eventID)
    .sort();
}

function expectIncomplete(res: GqlResponse, files: readonly string[]) {
  expect(res.extensions?.complete).toBe(false);
  const warnings = res.extensions?.warnings as { code: string; count: number; files: { path: string; reason: string }[] }[];
  expect(warnings).toHaveLength(1);
  expect(warnings[0]!.code).toBe('FILES_UNREADABLE');
  expect(warnings[0]!.count).toBe(files.length);
  expect(warnings[0]!.files.map((f) => f.path)).toEqual([...files].sort());
}

beforeAll(async () => {
  dir = await sampleTrail(3, { iotEventsPerDay: 16, otherEventsPerIotEvent: 1 });
  // Folder times in the past: listings are kept (see DayFolderFiles), as on a settled trail.
  for (const f of listRecordFiles(dir)) fs.utimesSync(path.dirname(f), new Date('2026-01-01'), new Date('2026-01-01'));
  const keys = [
    { id: 'tests', sha256: hashKey(TEST_KEY), accounts: ['*'], regions: [], payloads: true, admin: true },
    { id: 'reader', sha256: hashKey(READER_KEY), accounts: ['*'], regions: [], payloads: false, admin: false },
    { id: 'ops-one-account', sha256: hashKey(ONE_ACCOUNT_ADMIN), accounts: ['444455556666'], regions: [], payloads: false, admin: true },
    { id: 'ops-one-region', sha256: hashKey(ONE_REGION_ADMIN), accounts: ['*'], regions: ['us-east-1'], payloads: false, admin: true },
    { id: 'ops-damaged', sha256: hashKey(DAMAGED_SCOPE_ADMIN), accounts: ['111122223333'], regions: ['eu-west-1'], payloads: false, admin: true },
  ];
  const config = loadConfig({ TRAIL_DIR: dir, LOG_LEVEL: 'silent', API_KEYS: JSON.stringify(keys) });
  cache = createCache(config, createLogger('silent'), { now: () => SAMPLE_END });
  server = await startServer(dir, { API_KEYS: JSON.stringify(keys), PARQUET_ENABLED: 'false' }, { cache, now: () => SAMPLE_END });
});

afterAll(async () => {
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('a day with damaged files answers from the others: complete false, the files named, walk = totalCount, nothing cached', async () => {
  const clean = await walk(FILTER, 500);
  expect(clean.responses[0]!.extensions?.complete).toBe(true);
  expect(clean.responses[0]!.extensions?.warnings).toBeUndefined();
  expect(clean.ids.sort()).toEqual(expectedCalls(new Set()));

  // Damage four files of the window's day, in different ways (copies in the temp trail only).
  const day = listRecordFiles(dir).filter((f) => f.includes(`${path.sep}2026${path.sep}03${path.sep}13${path.sep}`));
  const inWindowCalls = new Set(clean.ids);
  const holdsCalls = (f: string) => {
    const raw = gunzipSync(fs.readFileSync(f)).toString('utf8');
    return (JSON.parse(raw) as { Records: RawRecord[] }).Records.some((r) => inWindowCalls.has(r.eventID));
  };
  const files = [...day.filter(holdsCalls).slice(0, 3), ...day.filter((f) => !holdsCalls(f))];
  expect(files.length).toBeGreaterThanOrEqual(4);
  const [truncated, zeroGz, notJson, zeroJson] = files;
  for (const f of [truncated!, zeroGz!, notJson!]) damaged.set(rel(f), fs.readFileSync(f));
  expectedIds = expectedCalls(new Set(damaged.keys()));
  fs.writeFileSync(truncated!, fs.readFileSync(truncated!).subarray(0, 200));
  fs.writeFileSync(zeroGz!, '');
  fs.writeFileSync(notJson!, gzipSync('<html>503 Slow Down</html>'));
  // A zero-byte plain .json (DuckDB reads it as no records: it must still be reported).
  const emptyJson = zeroJson!.replace(/\.json\.gz$/, '.json').replace(/_([A-Za-z0-9]+)\.json$/, '_empty0000000000.json');
  // A new file moves its folder's time: the cached clean answers are not used for the damaged day.
  fs.writeFileSync(emptyJson, '');
  damaged.set(rel(emptyJson), Buffer.alloc(0));
  const names = [...damaged.keys()];
  expect(expectedIds.length).toBeLessThan(clean.ids.length);

  const stores = cache.stats().stores;
  for (const first of [500, 20]) {
    const { ids, total, responses } = await walk(FILTER, first);
    expect(ids.sort()).toEqual(expectedIds);
    expect(total).toBe(expectedIds.length);
    expect(new Set(ids).size).toBe(ids.length);
    for (const res of responses) expectIncomplete(res, names);
  }
  const actions = await server.gql(ACTIONS, { filter: FILTER });
  expect(actions.errors).toBeUndefined();
  expect(actions.data.actions.reduce((a: number, x: { calls: number }) => a + x.calls, 0)).toBe(expectedIds.length);
  expectIncomplete(actions, names);
  // Asked again: answered by the engine again, never from the cache.
  const again = await server.gql(PAGE, { filter: FILTER, first: 5 });
  expect(again.extensions?.cost.queries.every((q: { cached: boolean }) => !q.cached)).toBe(true);
  expectIncomplete(again, names);
  expect(cache.stats().stores).toBe(stores);
  // A day the damage does not touch stays complete.
  const other = await server.gql(PAGE, { filter: { from: '2026-03-15T00:00:00Z', to: '2026-03-15T12:00:00Z' }, first: 5 });
  expect(other.extensions?.complete).toBe(true);
}, 180_000);

test('a download over the damaged day says so before its first row: headers, file name and trailers; its rows are the answer', async () => {
  for (const format of ['ndjson', 'csv']) {
    const res = await fetch(`${server.url.replace(/\/graphql$/, '')}/export/api-calls?format=${format}&filter=${encodeURIComponent(JSON.stringify(FILTER))}`, {
      headers: { authorization: `Bearer ${TEST_KEY}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-trailql-complete')).toBe('false');
    expect(res.headers.get('x-trailql-unreadable-files')).toBe(String(damaged.size));
    expect(res.headers.get('x-trailql-total-count')).toBe(String(expectedIds.length));
    expect(res.headers.get('content-disposition')).toMatch(new RegExp(`_incomplete\\.${format}"$`));
    const text = await res.text();
    if (format === 'ndjson') expect(text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { eventId: string }).eventId).sort()).toEqual(expectedIds);
  }
});

test('operators see the files: trailHealth for admin keys only, /readyz degraded, metrics', async () => {
  const health = await server.gql(HEALTH);
  expect(health.errors).toBeUndefined();
  const h = health.data.trailHealth;
  expect(h).toMatchObject({ observed: true, available: true, problem: null, unreadableFileCount: damaged.size });
  expect(h.unreadableFiles.map((f: { path: string }) => f.path)).toEqual([...damaged.keys()].sort());
  const reasons = Object.fromEntries(h.unreadableFiles.map((f: { path: string; reason: string }) => [f.path, f.reason]));
  const [truncated, zeroGz, notJson, emptyJson] = [...damaged.keys()];
  expect(reasons[truncated!]).toMatch(/gzip|truncated/);
  expect(reasons[zeroGz!]).toBe('empty file');
  expect(reasons[notJson!]).toBe('malformed JSON');
  expect(reasons[emptyJson!]).toBe('empty file');
  // Each file version is found once, however many queries met it.
  expect(h.unreadableFilesFound).toBe(damaged.size);

  const denied = await server.gql(HEALTH, {}, { authorization: `Bearer ${READER_KEY}` });
  expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

  // An admin key scoped to some accounts or regions sees the files of its scope only: the paths
  // of the others would name their accounts, regions and active days.
  const where = (p: string) => parseDeliveryKey(p)!;
  // The damaged files are all of one account and region (the test's first day folder).
  expect(new Set([...damaged.keys()].map((p) => `${where(p).account} ${where(p).region}`))).toEqual(new Set(['111122223333 eu-west-1']));
  for (const [key, inScope] of [
    [ONE_ACCOUNT_ADMIN, (p: string) => where(p).account === '444455556666'],
    [ONE_REGION_ADMIN, (p: string) => where(p).region === 'us-east-1'],
    [DAMAGED_SCOPE_ADMIN, (p: string) => where(p).account === '111122223333' && where(p).region === 'eu-west-1'],
  ] as const) {
    const mine = [...damaged.keys()].filter(inScope).sort();
    const scoped = await server.gql(HEALTH, {}, { authorization: `Bearer ${key}` });
    expect(scoped.errors).toBeUndefined();
    expect(scoped.data.trailHealth.unreadableFiles.map((f: { path: string }) => f.path)).toEqual(mine);
    expect(scoped.data.trailHealth).toMatchObject({ unreadableFileCount: mine.length, unreadableFilesFound: mine.length });
  }

  const origin = new URL(server.url).origin;
  const ready = await fetch(`${origin}/readyz`);
  const body = (await ready.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  expect(ready.status).toBe(200);
  expect(body.status).toBe('ready');
  expect(body.checks.data).toMatchObject({ status: 'degraded', unreadableFiles: damaged.size });
  expect(body.degraded).toHaveLength(1);

  const samples = parseMetrics(await (await fetch(`${origin}/metrics`)).text());
  expect(metricSum(samples, 'trailql_trail_unreadable_files')).toBe(damaged.size);
  expect(metricSum(samples, 'trailql_trail_unreadable_files_found_total')).toBe(damaged.size);
  expect(metricSum(samples, 'trailql_trail_available')).toBe(1);
});

test('a repaired file is read again at once', async () => {
  const [truncated] = [...damaged.keys()];
  fs.writeFileSync(path.join(dir, truncated!), damaged.get(truncated!)!);
  damaged.delete(truncated!);
  const expected = expectedCalls(new Set(damaged.keys()));
  expect(expected.length).toBeGreaterThan(expectedIds.length);
  const { ids, total, responses } = await walk(FILTER, 500);
  expect(ids.sort()).toEqual(expected);
  expect(total).toBe(expected.length);
  expectIncomplete(responses[0]!, [...damaged.keys()]);
  expectedIds = expected;
});

test('a file that vanishes while read is left out of that answer and named', async () => {
  // The listing of the folder is kept while its time is unchanged: remove a file and put the time
  // back, so the read meets a file its listing still names (a file deleted mid-query).
  const victim = listRecordFiles(dir).find((f) => f.includes(`${path.sep}2026${path.sep}03${path.sep}13${path.sep}`) && !damaged.has(rel(f)) && f.endsWith('.gz'))!;
  const settled = new Date('2026-01-02');
  fs.utimesSync(path.dirname(victim), settled, settled);
  expect((await server.gql(PAGE, { filter: FILTER, first: 1 })).errors).toBeUndefined(); // lists the folder
  fs.rmSync(victim);
  fs.utimesSync(path.dirname(victim), settled, settled);
  const expected = expectedCalls(new Set(damaged.keys()));
  const res = await server.gql(PAGE, { filter: FILTER, first: 500 }, { 'x-trailql-no-cache': '1' });
  expect(res.errors).toBeUndefined();
  expect(res.data.apiCalls.edges.map((e: { node: { eventId: string } }) => e.node.eventId).sort()).toEqual(expected);
  expect(res.data.apiCalls.totalCount).toBe(expected.length);
  expectIncomplete(res, [...damaged.keys(), rel(victim)]);
  const reasons = res.extensions!.warnings[0].files.find((f: { path: string }) => f.path === rel(victim)).reason;
  expect(reasons).toBe('vanished while being read');
  // Nothing to remember of a file that is gone.
  const health = await server.gql(HEALTH);
  expect(health.data.trailHealth.unreadableFileCount).toBe(damaged.size);
});

describe('answers follow the files', () => {
  const WINDOW = { from: '2026-03-14T00:00:00Z', to: '2026-03-14T06:00:00Z' };

  test('a file delivered after an answer was cached is seen on the next query', async () => {
    const first = await server.gql(PAGE, { filter: WINDOW, first: 500 });
    expect(first.extensions?.complete).toBe(true);
    const cached = await server.gql(PAGE, { filter: WINDOW, first: 500 });
    expect(cached.extensions?.cost.queries.every((q: { cached: boolean }) => q.cached)).toBe(true);
    expect(cached.data).toEqual(first.data);

    // A late delivery for the window lands in the next day's folder.
    const recordsOf = (f: string) => (JSON.parse(gunzipSync(fs.readFileSync(f)).toString('utf8')) as { Records: RawRecord[] }).Records;
    const sibling = listRecordFiles(dir).find((f) => f.includes(`${path.sep}2026${path.sep}03${path.sep}14${path.sep}`) && recordsOf(f).some((r) => IOT_SOURCES.includes(r.eventSource)))!;
    const template = recordsOf(sibling).find((r) => IOT_SOURCES.includes(r.eventSource))!;
    const late = { ...template, eventID: '00000000-0000-4000-8000-00000000late', eventTime: '2026-03-14T05:59:00Z' };
    const target = path.join(path.dirname(sibling).replace(/14$/, '15'), path.basename(sibling).replace(/_([A-Za-z0-9]+)\.json\.gz$/, '_LateDelivery0001.json.gz'));
    fs.writeFileSync(target, gzipSync(JSON.stringify({ Records: [late] })));

    const next = await server.gql(PAGE, { filter: WINDOW, first: 500 });
    expect(next.extensions?.cost.queries.some((q: { cached: boolean }) => !q.cached)).toBe(true);
    expect(next.data.apiCalls.totalCount).toBe(first.data.apiCalls.totalCount + 1);
    expect(next.data.apiCalls.edges.map((e: { node: { eventId: string } }) => e.node.eventId)).toContain(late.eventID);
  });
});

describe('a vanished trail is not an empty trail', () => {
  const QUERY = { from: '2026-03-14T06:00:00Z', to: '2026-03-14T07:00:00Z' };

  test.each([
    ['AWSLogs/', () => path.join(dir, 'AWSLogs'), /AWSLogs/],
    ['the trail folder', () => dir, /does not exist/],
  ])('%s missing: TRAIL_UNAVAILABLE with 503, nothing cached, not ready', async (_name, target, detail) => {
    const origin = new URL(server.url).origin;
    const stores = cache.stats().stores;
    const moved = `${target()}-moved`;
    fs.renameSync(target(), moved);
    try {
      const res = await server.gql(PAGE, { filter: QUERY, first: 5 });
      expect(res.status).toBe(503);
      expect(res.errors?.[0]?.extensions?.code).toBe('TRAIL_UNAVAILABLE');
      expect(res.data?.apiCalls ?? null).toBeNull();
      expect(cache.stats().stores).toBe(stores);
      const ready = await fetch(`${origin}/readyz`);
      const body = (await ready.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(ready.status).toBe(503);
      expect(body.checks.data.status).toBe('down');
      expect(body.reasons.join(' ')).toMatch(detail);
    } finally {
      fs.renameSync(moved, target());
    }
    const back = await server.gql(PAGE, { filter: QUERY, first: 5 });
    expect(back.errors).toBeUndefined();
    expect(back.data.apiCalls.totalCount).toBeGreaterThan(0);
  });
});
