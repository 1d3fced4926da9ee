/**
 * Grouped connections read whole when answers are kept (CACHE_GROUP_LIST_MAX): one statement
 * for every page, the pages after the first answered from the statements' cache, each page the
 * same as the keyset pages give; longer lists and foreign cursors fall back to keyset pages.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createCache } from '../src/cache';
import { createLogger } from '../src/logger';
import { IOT_SOURCES, callerKeyOf, dedupe, groupBy, inWindow, readRecords } from './support/records';
import { GqlResponse, TestServer, startServer, testConfig } from './support/server';
import { SAMPLE_END, useSampleTrail } from './support/trails';

const W = { from: '2026-03-14T00:00:00Z', to: '2026-03-15T00:00:00Z' };
const CALLERS = `query($f: ApiCallFilter, $first: Int, $after: String) {
  callers(filter: $f, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { key stats { calls errors } } } }
}`;

const trail = useSampleTrail(2);
const servers: TestServer[] = [];

async function serve(env: Record<string, string>): Promise<TestServer> {
  const all = { PARQUET_ENABLED: 'false', RESPONSE_CACHE_ENABLED: 'false', ...env };
  const cache = createCache(testConfig(trail.dir, all), createLogger('silent'), { now: () => SAMPLE_END });
  const server = await startServer(trail.dir, all, { cache, now: () => SAMPLE_END });
  servers.push(server);
  return server;
}

afterAll(async () => {
  for (const s of servers) await s.close();
});

type Page = { callers: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: { key: string; stats: { calls: number; errors: number } } }[] } };

/** Every page of callers, with the engine statements each page ran. */
async function walk(server: TestServer, first: number, headers: Record<string, string> = {}) {
  const nodes: { key: string; calls: number; errors: number }[] = [];
  const ran: number[] = [];
  const totals: number[] = [];
  let after: string | null = null;
  for (;;) {
    server.engine.reset();
    const res: GqlResponse<Page> = await server.gql<Page>(CALLERS, { f: W, first, after }, headers);
    expect(res.errors).toBeUndefined();
    ran.push(server.engine.executed.length);
    totals.push(res.data!.callers.totalCount);
    nodes.push(...res.data!.callers.edges.map((e) => ({ key: e.node.key, calls: e.node.stats.calls, errors: e.node.stats.errors })));
    if (!res.data!.callers.pageInfo.hasNextPage) return { nodes, ran, totals };
    after = res.data!.callers.pageInfo.endCursor;
  }
}

function expected() {
  const calls = dedupe(readRecords(trail.dir)).filter((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, new Date(W.from), new Date(W.to)));
  return [...groupBy(calls, callerKeyOf).entries()]
    .map(([key, rs]) => ({ key: key!, calls: rs.length, errors: rs.filter((r) => r.errorCode).length }))
    .sort((a, b) => b.calls - a.calls || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

test('every page is cut from one statement: the first runs it, the others find it kept', async () => {
  const server = await serve({});
  const want = expected();
  expect(want.length).toBeGreaterThan(7);
  const got = await walk(server, 25);
  expect(got.nodes).toEqual(want);
  expect(got.totals.every((t) => t === want.length)).toBe(true);
  // One statement for the first page (its count included); none for the others.
  expect(got.ran[0]).toBe(1);
  expect(got.ran.slice(1).every((n) => n === 0)).toBe(true);
  // A walk with the fresh answers asked for runs the statement again on its first page only.
  const fresh = await walk(server, 25, { 'x-trailql-no-cache': '1' });
  expect(fresh.nodes).toEqual(want);
  expect(fresh.ran).toEqual(got.ran.map(() => 1));
});

test('a list longer than CACHE_GROUP_LIST_MAX, or with the setting 0, is paged by keyset, with the same pages', async () => {
  const want = expected();
  for (const max of ['3', '0']) {
    const server = await serve({ CACHE_GROUP_LIST_MAX: max });
    const got = await walk(server, 30);
    expect(got.nodes).toEqual(want);
    expect(got.totals.every((t) => t === want.length)).toBe(true);
    // Every page runs its own statement(s): the list read whole, if tried, did not fit.
    expect(got.ran.every((n) => n >= 1)).toBe(true);
  }
});

test('a cursor whose row is no longer in the list is answered by keyset from its position', async () => {
  const server = await serve({});
  const before = expected();
  const first = await server.gql<Page>(CALLERS, { f: W, first: 2 });
  const [, second] = first.data!.callers.edges.map((e) => e.node);
  expect(second!.key).toBe(before[1]!.key);
  // One more call by that caller arrives late: its row moves, and no row is where the cursor points.
  const sample = readRecords(trail.dir).find((f) => IOT_SOURCES.includes(f.record.eventSource) && callerKeyOf(f.record) === second!.key && inWindow(f.record, new Date(W.from), new Date(W.to)))!;
  const late = { ...sample.record, eventID: '00000000-0000-4000-8000-00000000beef', eventTime: '2026-03-14T23:00:00Z' };
  const file = path.join(path.dirname(sample.file), `late_${Date.now()}.json.gz`);
  fs.writeFileSync(file, gzipSync(JSON.stringify({ Records: [late] })));
  try {
    server.engine.reset();
    const next = await server.gql<Page>(CALLERS, { f: W, first: 50, after: first.data!.callers.pageInfo.endCursor });
    expect(next.errors).toBeUndefined();
    // The list was read (a new file: a new statement), then the page by keyset.
    expect(server.engine.executed.length).toBeGreaterThanOrEqual(2);
    const after = expected().filter((g) => g.calls < second!.stats.calls || (g.calls === second!.stats.calls && g.key > second!.key));
    expect(next.data!.callers.edges.map((e) => ({ key: e.node.key, calls: e.node.stats.calls, errors: e.node.stats.errors }))).toEqual(after.slice(0, 50));
  } finally {
    fs.rmSync(file);
  }
});
