/**
 * A trail file the service may not read (mode 000) is left out of the answer and named in it,
 * never a failed day, and the incomplete answer is never cached.
 *
 * Permissions only bind a process without CAP_DAC_OVERRIDE: as root (as these tests run) the
 * service reads any file. So the service runs here as a child process without that capability
 * (and without CAP_DAC_READ_SEARCH), as the container image's unprivileged `node` user would, over
 * a trail it may read except for the one file. When the tests do not run as root, mode 000 binds
 * the service as it is.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ChildServer, spawnServer } from './support/child-server';
import { IOT_SOURCES, RawRecord, dedupe, inWindow, listRecordFiles } from './support/records';
import { TEST_KEY } from './support/server';
import { sampleTrail } from './support/trails';

const FROM = '2026-03-13T00:00:00Z';
const TO = '2026-03-14T00:00:00Z';
const PAGE = `query($filter: ApiCallFilter, $first: Int, $after: String) {
  apiCalls(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { eventId } } }
}`;

let dir: string;
let server: ChildServer;

async function gql(query: string, variables: Record<string, unknown>) {
  const res = await fetch(`${server.origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_KEY}` },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as { data?: any; errors?: any[]; extensions?: any }) }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const rel = (abs: string) => path.relative(dir, abs).split(path.sep).join('/');

/** Calls of the window straight from the files, `skip` left out. */
function expectedCalls(skip: string): string[] {
  const records = listRecordFiles(dir)
    .filter((f) => f !== skip)
    .flatMap((file) => (JSON.parse(gunzipSync(fs.readFileSync(file)).toString('utf8')) as { Records: RawRecord[] }).Records.map((record) => ({ file, record })));
  return dedupe(records)
    .filter((r: RawRecord) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, new Date(FROM), new Date(TO)))
    .map((r) => r.eventID)
    .sort();
}

async function walk(first: number) {
  const ids: string[] = [];
  const responses = [];
  let after: string | null = null;
  for (let i = 0; i < 100; i++) {
    const r = await gql(PAGE, { filter: { from: FROM, to: TO }, first, after });
    expect(r.errors).toBeUndefined();
    responses.push(r);
    ids.push(...r.data.apiCalls.edges.map((e: { node: { eventId: string } }) => e.node.eventId));
    if (!r.data.apiCalls.pageInfo.hasNextPage) break;
    after = r.data.apiCalls.pageInfo.endCursor;
  }
  return { ids, responses, total: responses[0]!.data.apiCalls.totalCount as number };
}

beforeAll(async () => {
  dir = await sampleTrail(3, { iotEventsPerDay: 16, otherEventsPerIotEvent: 1 });
  server = await spawnServer(dir, { PARQUET_ENABLED: 'false' }, true);
}, 120_000);

afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('a file without read permission is left out and named: the day answers from the others, complete false, nothing cached', async () => {
  const day = listRecordFiles(dir).filter((f) => f.includes(`${path.sep}2026${path.sep}03${path.sep}13${path.sep}`));
  const clean = expectedCalls('');
  const locked = day.find((f) => expectedCalls(f).length < clean.length)!;
  expect(locked).toBeDefined();
  const expected = expectedCalls(locked);
  fs.chmodSync(locked, 0o000);
  // The service's user cannot open it (the test, as root, still could).
  const probe = await gql(PAGE, { filter: { from: FROM, to: TO }, first: 1 });
  expect(probe.errors).toBeUndefined();

  for (const first of [500, 7]) {
    const { ids, total, responses } = await walk(first);
    expect(ids.sort()).toEqual(expected);
    expect(total).toBe(expected.length);
    for (const r of responses) {
      expect(r.extensions?.complete).toBe(false);
      const [w] = r.extensions?.warnings ?? [];
      expect(w).toMatchObject({ code: 'FILES_UNREADABLE', count: 1, files: [{ path: rel(locked), reason: 'permission denied' }] });
    }
  }
  // Asked again: from the engine again, never a cached answer.
  const again = await gql(PAGE, { filter: { from: FROM, to: TO }, first: 500 });
  expect(again.extensions.cost.queries.length).toBeGreaterThan(0);
  expect(again.extensions.cost.queries.every((q: { cached: boolean }) => !q.cached)).toBe(true);
  expect(again.extensions.complete).toBe(false);
  // Logged once, with the reason.
  const logged = server.lines().filter((l) => l.msg === 'trail file unreadable: left out of answers until it changes');
  expect(logged).toEqual([expect.objectContaining({ file: rel(locked), reason: 'permission denied' })]);

  // Readable again: the mode change moves no folder time, yet the file counts at once (it changed).
  fs.chmodSync(locked, 0o644);
  const { ids, responses } = await walk(500);
  expect(ids.sort()).toEqual(clean);
  expect(responses[0]!.extensions.complete).toBe(true);
}, 180_000);
