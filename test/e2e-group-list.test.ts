/**
 * Grouped connections read whole when answers are kept (CACHE_GROUP_LIST_MAX): one statement
 * for every page, the pages after the first answered from the statements' cache, each page the
 * same as the keyset pages give; longer lists and foreign cursors fall back to keyset pages.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { hashKey } from '../src/auth/authenticate';
import { createCache } from '../src/cache';
import { createEngine } from '../src/engines';
import { CursorCodec } from '../src/query/cursor';
import { FULL_SCOPE } from '../src/query/guards';
import { QueryRunner } from '../src/query/runner';
import { WalkStore } from '../src/query/walks';
import { GraphService } from '../src/services/graph.service';
import { TrailService } from '../src/services/trail.service';
import { createLogger } from '../src/logger';
import { IOT_SOURCES, callerKeyOf, dedupe, groupBy, inWindow, readRecords } from './support/records';
import { GqlResponse, TEST_KEYS, TestServer, startServer, testConfig } from './support/server';
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

/** Writes `calls` more calls by `key` (copies of one of its calls, new eventIDs) into the window, in a file of their own. */
function deliverLate(key: string, calls: number, tag: string): string {
  const sample = readRecords(trail.dir).find((f) => IOT_SOURCES.includes(f.record.eventSource) && callerKeyOf(f.record) === key && inWindow(f.record, new Date(W.from), new Date(W.to)))!;
  const records = Array.from({ length: calls }, (_, i) => ({ ...sample.record, eventID: `00000000-0000-4000-8000-${tag}${String(i).padStart(12 - tag.length, '0')}`, eventTime: '2026-03-14T23:00:00Z' }));
  const file = path.join(path.dirname(sample.file), `late_${tag}_${Date.now()}.json.gz`);
  fs.writeFileSync(file, gzipSync(JSON.stringify({ Records: records })));
  return file;
}

test('every page is cut from one list: the first page reads it, the others take it as kept, with or without the answer cache', async () => {
  const want = expected();
  expect(want.length).toBeGreaterThan(7);
  for (const env of [{}, { CACHE_ENABLED: 'false' }] as Record<string, string>[]) {
    const server = await serve(env);
    const got = await walk(server, 25);
    expect(got.nodes).toEqual(want);
    expect(got.totals.every((t) => t === want.length)).toBe(true);
    // One statement for the first page (its count included); none for the others.
    expect(got.ran[0]).toBe(1);
    expect(got.ran.slice(1).every((n) => n === 0)).toBe(true);
    // Fresh answers asked for: the first page reads the list again, the others go on with it.
    const fresh = await walk(server, 25, { 'x-trailql-no-cache': '1' });
    expect(fresh.nodes).toEqual(want);
    expect(fresh.ran).toEqual(got.ran);
  }
});

test('a first page that reads no cursor starts no walk: it is read as a page, not as the whole list', async () => {
  const want = expected();
  const server = await serve({ CACHE_ENABLED: 'false' });
  const rowsRead = (res: GqlResponse<unknown>) => (res.extensions?.cost as { queries: { rows: number }[] }).queries.map((q) => q.rows);
  const selections: [string, boolean][] = [
    ['edges { node { key stats { calls errors } } }', false],
    ['totalCount nodes { key stats { calls errors } }', false],
    ['pageInfo { hasNextPage } edges { node { key stats { calls errors } } }', false],
    ['edges { cursor node { key stats { calls errors } } }', true],
    ['pageInfo { endCursor } edges { node { key stats { calls errors } } }', true],
    ['pageInfo { startCursor } edges { node { key stats { calls errors } } }', true],
    ['...on CallerConnection { pageInfo { endCursor } } edges { node { key stats { calls errors } } }', true],
  ];
  for (const [selection, wholeList] of selections) {
    const res = await server.gql<{ callers: { totalCount?: number; edges?: { node: { key: string; stats: { calls: number; errors: number } } }[]; nodes?: { key: string; stats: { calls: number; errors: number } }[] } }>(
      `query($f: ApiCallFilter) { callers(filter: $f, first: 3) { ${selection} } }`,
      { f: W },
    );
    expect(res.errors).toBeUndefined();
    const nodes = res.data!.callers.edges?.map((e) => e.node) ?? res.data!.callers.nodes!;
    expect(nodes.map((n) => ({ key: n.key, calls: n.stats.calls, errors: n.stats.errors }))).toEqual(want.slice(0, 3));
    if (res.data!.callers.totalCount !== undefined) expect(res.data!.callers.totalCount).toBe(want.length);
    // The whole list is every caller of the window; a page is its 3 callers and one to say a page follows.
    expect(rowsRead(res)).toEqual([wholeList ? want.length : 4]);
  }
});

test('with walks not kept, every page reads the list again and goes on because it is the same', async () => {
  const want = expected();
  for (const env of [{ WALK_KEEP_SECONDS: '0' }, { WALK_KEEP_SECONDS: '0', CACHE_ENABLED: 'false' }] as Record<string, string>[]) {
    const server = await serve(env);
    const got = await walk(server, 25);
    expect(got.nodes).toEqual(want);
    expect(got.totals.every((t) => t === want.length)).toBe(true);
    // Each page asks for the list: from the answer cache, or from the engine.
    expect(got.ran).toEqual(got.ran.map((_, i) => (env.CACHE_ENABLED === 'false' || i === 0 ? 1 : 0)));
  }
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

describe('a late delivery moves a group ahead of the cursor mid-walk', () => {
  /** The walk's first page of 2, then a late file lifting the list's last caller above its first; then the rest of the walk. */
  async function walkAcrossLateFile(server: TestServer, tag: string) {
    const before = expected();
    const mover = before[before.length - 1]!;
    expect(mover.calls).toBeLessThan(before[1]!.calls);
    const first = await server.gql<Page>(CALLERS, { f: W, first: 2 });
    expect(first.errors).toBeUndefined();
    const file = deliverLate(mover.key, before[0]!.calls + 1, tag);
    try {
      // The list now reads otherwise: the mover is first.
      expect(expected()[0]!.key).toBe(mover.key);
      const keys = first.data!.callers.edges.map((e) => e.node.key);
      let after: string | null = first.data!.callers.pageInfo.endCursor;
      for (let i = 0; after !== null && i < 50; i++) {
        const res: GqlResponse<Page> = await server.gql<Page>(CALLERS, { f: W, first: 5, after });
        if (res.errors) return { before, mover, keys, error: res.errors[0]!, status: res.status };
        keys.push(...res.data!.callers.edges.map((e) => e.node.key));
        after = res.data!.callers.pageInfo.hasNextPage ? res.data!.callers.pageInfo.endCursor : null;
      }
      return { before, mover, keys };
    } finally {
      fs.rmSync(file);
    }
  }

  test('kept walk: every caller of the first page\'s list is met once, in its order', async () => {
    const server = await serve({ CACHE_ENABLED: 'false' });
    const got = await walkAcrossLateFile(server, 'a1');
    expect(got.error).toBeUndefined();
    // Read again per page, the list would have put the mover before the cursor: never met.
    expect(got.keys).toEqual(got.before.map((g) => g.key));
    expect(got.keys.filter((k) => k === got.mover.key)).toHaveLength(1);
  });

  test('walk not kept: the later page is refused (STALE_CURSOR, 409), not cut from the new list', async () => {
    for (const env of [{ WALK_KEEP_SECONDS: '0', CACHE_ENABLED: 'false' }, { WALK_KEEP_SECONDS: '0' }] as Record<string, string>[]) {
      const server = await serve(env);
      const got = await walkAcrossLateFile(server, env.CACHE_ENABLED ? 'b1' : 'b2');
      expect(got.error?.extensions?.code).toBe('STALE_CURSOR');
      expect(got.error?.extensions?.field).toBe('after');
      expect(got.status).toBe(409);
      expect(got.keys).toHaveLength(2);
    }
  });
});

test('a later page asking for a measure the first did not is cut from the kept list, the measure counted for its groups', async () => {
  const server = await serve({ CACHE_ENABLED: 'false' });
  const first = await server.gql<Page>(CALLERS, { f: W, first: 3 });
  const more = `query($f: ApiCallFilter, $after: String) { callers(filter: $f, first: 3, after: $after) { edges { node { key stats { calls distinctActions } } } } }`;
  const want = expected().slice(3, 6);
  // Even after a late file changed the list: the walk goes on with its own.
  const file = deliverLate(expected()[expected().length - 1]!.key, 50, 'c1');
  try {
    server.engine.reset();
    const next = await server.gql(more, { f: W, after: first.data!.callers.pageInfo.endCursor });
    expect(next.errors).toBeUndefined();
    expect(server.engine.executed.map((q) => q.label)).toEqual(['callers.measures']);
    const nodes = next.data.callers.edges.map((e: { node: { key: string; stats: { calls: number; distinctActions: number } } }) => e.node);
    expect(nodes.map((n: { key: string }) => n.key)).toEqual(want.map((g) => g.key));
    const calls = dedupe(readRecords(trail.dir)).filter((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, new Date(W.from), new Date(W.to)));
    const actions = (key: string) => new Set(calls.filter((r) => callerKeyOf(r) === key).map((r) => `${r.eventSource} ${r.eventName}`)).size;
    expect(nodes.map((n: { stats: { calls: number; distinctActions: number } }) => n.stats)).toEqual(want.map((g) => ({ calls: g.calls, distinctActions: actions(g.key) })));
  } finally {
    fs.rmSync(file);
  }
});

test('a preview of a later page shows its statements, whether the list changed or not', async () => {
  const server = await serve({ CACHE_ENABLED: 'false' });
  const first = await server.gql<Page>(CALLERS, { f: W, first: 3 });
  for (const headers of [{ 'x-trailql-explain': '1' }, { 'x-trailql-explain': '1', 'x-trailql-no-cache': '1' }] as Record<string, string>[]) {
    const preview = await server.gql(CALLERS, { f: W, first: 3, after: first.data!.callers.pageInfo.endCursor }, headers);
    expect(preview.errors).toBeUndefined();
    // The list, then (no rows in a preview to cut a page from) the page by keyset and its count.
    expect(preview.extensions?.explain.statements.map((q: { label: string }) => q.label)).toEqual(['callers:ARN', 'callers:ARN', 'callers.totalCount']);
  }
});

test('a list read while Event history lacked part of its window is not kept: every page reads it again and says so', async () => {
  const region = readRecords(trail.dir).find((f) => IOT_SOURCES.includes(f.record.eventSource))!.record.awsRegion as string;
  const server = await serve({ CACHE_ENABLED: 'false', EVENT_HISTORY_REGIONS: region });
  const lacks = (res: GqlResponse<Page>) => (res.extensions?.warnings as { code: string }[] | undefined)?.map((w) => w.code);
  server.engine.reset();
  const first = await server.gql<Page>(CALLERS, { f: W, first: 3 });
  expect(lacks(first)).toEqual(['HISTORY_NOT_SYNCED']);
  server.engine.reset();
  const next = await server.gql<Page>(CALLERS, { f: W, first: 3, after: first.data!.callers.pageInfo.endCursor });
  expect(next.errors).toBeUndefined();
  expect(server.engine.executed).toHaveLength(1);
  expect(lacks(next)).toEqual(['HISTORY_NOT_SYNCED']);
});

test('a walk\'s kept list is its caller\'s: another key with the same scope and cursor reads the list again', async () => {
  const other = 'another-key-with-full-scope-0123456789';
  const keys = [...TEST_KEYS, { ...TEST_KEYS[0]!, id: 'other', sha256: hashKey(other) }];
  const server = await serve({ CACHE_ENABLED: 'false', API_KEYS: JSON.stringify(keys) });
  const first = await server.gql<Page>(CALLERS, { f: W, first: 3 });
  const after = first.data!.callers.pageInfo.endCursor;
  server.engine.reset();
  const theirs = await server.gql<Page>(CALLERS, { f: W, first: 3, after }, { authorization: `Bearer ${other}` });
  expect(theirs.errors).toBeUndefined();
  expect(server.engine.executed.length).toBe(1);
  server.engine.reset();
  const mine = await server.gql<Page>(CALLERS, { f: W, first: 3, after });
  expect(server.engine.executed.length).toBe(0);
  expect(mine.data!.callers.edges).toEqual(theirs.data!.callers.edges);
});

test('a page cut from a kept list says what the list left out: the file it could not read', async () => {
  const server = await serve({ CACHE_ENABLED: 'false' });
  const sample = readRecords(trail.dir).find((f) => IOT_SOURCES.includes(f.record.eventSource) && inWindow(f.record, new Date(W.from), new Date(W.to)))!;
  const file = path.join(path.dirname(sample.file), `damaged_${Date.now()}.json.gz`);
  fs.writeFileSync(file, Buffer.from('not gzip at all'));
  try {
    const first = await server.gql<Page>(CALLERS, { f: W, first: 3 });
    const said = (res: GqlResponse<Page>) => ({ complete: res.extensions?.complete, warnings: res.extensions?.warnings });
    expect(said(first).complete).toBe(false);
    expect(JSON.stringify(said(first).warnings)).toContain(path.basename(file));
    server.engine.reset();
    const next = await server.gql<Page>(CALLERS, { f: W, first: 3, after: first.data!.callers.pageInfo.endCursor });
    expect(server.engine.executed.length).toBe(0);
    expect(said(next)).toEqual(said(first));
  } finally {
    fs.rmSync(file);
  }
});

test('a list is kept only when Event history lacked nothing of its window before it was read', async () => {
  // Event history catching up while the list is read: whole after the read, not before it.
  const config = testConfig(trail.dir, { PARQUET_ENABLED: 'false' });
  const { engine, dialect } = await createEngine(config, trail.dir);
  try {
    for (const lackedBefore of [true, false]) {
      let asked = 0;
      const walks = new WalkStore({ keepMs: 60_000, maxBytes: 1024 * 1024, whole: () => asked++ > 0 || !lackedBefore });
      const graph = new GraphService(new TrailService({ config, dialect, cursors: new CursorCodec('walks'), walks }, new QueryRunner(engine), FULL_SCOPE));
      const page = await graph.callers({ from: new Date(W.from), to: new Date(W.to) }, 2, null, 'CALLS_DESC', 'ARN');
      expect(page.pageInfo.hasNextPage).toBe(true);
      expect(page.pageInfo.endCursor).not.toBeNull();
      expect(walks.size.lists).toBe(lackedBefore ? 0 : 1);
    }
  } finally {
    await engine.close();
  }
});

