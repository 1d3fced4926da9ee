/**
 * Statements over the same JSON delivery files share one reading of them
 * (src/engines/duckdb/shared-scans.ts): the answer is the one each statement reading its files
 * gives, only the first statement reads the files, files found unreadable are still left out and
 * named, a reading is kept for the next requests until its files change, and none is left once
 * no request holds it and its time is up.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { duckdbDialect } from '../src/engines/duckdb/dialect';
import { DuckDbEngine } from '../src/engines/duckdb/driver';
import { RequestScans, ScanPool } from '../src/engines/duckdb/shared-scans';
import { QueryReport } from '../src/query/runner';
import { IOT_SOURCES, listRecordFiles } from './support/records';
import { ConfigError } from '../src/config/vars';
import { TestServer, startServer, testConfig } from './support/server';
import { SAMPLE_END, sampleTrail } from './support/trails';

const W = { from: new Date(SAMPLE_END.getTime() - 40 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() };

/**
 * A grouped list with each entry's newest calls (under a filter of their own, so a statement of their
 * own), and a page of calls with its total: three statements over one window.
 */
const QUESTION = `query($f: ApiCallFilter) {
  callers(filter: $f, first: 4) { edges { node { key stats { calls errors } calls(filter: $f, first: 3) { edges { node { eventId eventTime action errorCode } } } } } }
  apiCalls(filter: $f, first: 20) { totalCount edges { node { eventId eventTime action sourceIpAddress caller { arn } } } }
}`;

const ENV = { PARQUET_ENABLED: 'false', CACHE_ENABLED: 'false', MAX_QUERY_COMPLEXITY: '10000000' };

let dir: string;
/** Sharing within a request only (SHARED_SCAN_KEEP_SECONDS=0). */
let shared: TestServer;
/** Keeping readings for the next requests (the default). */
let kept: TestServer;
let apart: TestServer;
/** Sharing at most 1 KiB of files per statement: every window here is more. */
let capped: TestServer;

beforeAll(async () => {
  dir = await sampleTrail(2, { iotEventsPerDay: 80, deliveryMinutes: 60 });
  shared = await startServer(dir, { ...ENV, SHARED_SCAN_KEEP_SECONDS: '0' }, { now: () => SAMPLE_END });
  kept = await startServer(dir, ENV, { now: () => SAMPLE_END });
  apart = await startServer(dir, { ...ENV, SHARED_SCAN_MAX_MB: '0' }, { now: () => SAMPLE_END });
  const engine = await DuckDbEngine.create({ trailDir: dir, threads: 2, eventSources: IOT_SOURCES, sharedScanMaxBytes: 1024 });
  capped = await startServer(dir, ENV, { now: () => SAMPLE_END, engine: { engine, dialect: duckdbDialect } });
});

afterAll(async () => {
  await shared?.close();
  await kept?.close();
  await apart?.close();
  await capped?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const engineReports = (res: { extensions?: Record<string, unknown> }) =>
  ((res.extensions?.cost as { queries: QueryReport[] }).queries ?? []).filter((q) => !q.cached);

/** Tables of the server's engine named as shared scans. */
async function sharedTables(server: TestServer): Promise<number> {
  const engine = (server.engine as unknown as { inner: DuckDbEngine }).inner;
  const connection = await DuckDBConnection.create(engine['instance']);
  try {
    const reader = await connection.runAndReadAll("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'trailql_shared_scan_%'");
    return Number(reader.getRows()[0]![0]);
  } finally {
    connection.closeSync();
  }
}

test('the statements of a request read its files once and answer as each reading them', async () => {
  const one = await shared.gql(QUESTION, { f: W });
  const each = await apart.gql(QUESTION, { f: W });
  expect(one.errors).toBeUndefined();
  expect(each.errors).toBeUndefined();
  expect(one.data.callers.edges.length).toBe(4);
  expect(one.data.apiCalls.edges.length).toBe(20);
  expect(one.data).toEqual(each.data);

  const read = engineReports(one);
  const readApart = engineReports(each);
  expect(read.length).toBe(readApart.length);
  expect(read.length).toBeGreaterThanOrEqual(3);
  // Reading apart, every statement reads the files; shared, the first alone does.
  expect(readApart.every((q) => q.bytesScanned > 0)).toBe(true);
  expect(read.filter((q) => q.bytesScanned > 0)).toHaveLength(1);
  expect(read.every((q) => q.files === readApart[0]!.files)).toBe(true);
  expect(await sharedTables(shared)).toBe(0);
});

test("waiting for the table another statement fills is that statement's engine time, not counted again", async () => {
  // The filling is held back long enough that a statement counting its wait would report most of
  // it: a margin no machine's speed closes (each statement's own read of the table takes tens of ms).
  const engine = (shared.engine as unknown as { inner: DuckDbEngine }).inner as unknown as Record<string, unknown>;
  const fill = engine['fillSharedScan'] as (...args: unknown[]) => Promise<unknown>;
  const HELD_MS = 2_000;
  engine['fillSharedScan'] = async function (this: unknown, ...args: unknown[]) {
    await new Promise((r) => setTimeout(r, HELD_MS));
    return fill.apply(this, args);
  };
  try {
    const res = await shared.gql(QUESTION, { f: W });
    expect(res.errors).toBeUndefined();
    const read = engineReports(res);
    const filler = read.find((q) => q.bytesScanned > 0)!;
    const others = read.filter((q) => q !== filler);
    expect(filler.engineMs).toBeGreaterThanOrEqual(HELD_MS);
    expect(others.length).toBeGreaterThanOrEqual(2);
    for (const q of others) expect(q.engineMs).toBeLessThan(HELD_MS / 2);
  } finally {
    // The engine's own method again (from its class).
    delete engine['fillSharedScan'];
  }
});

test('serving every event source, each statement reads its own files', async () => {
  const all = await startServer(dir, { ...ENV, EVENT_SOURCES: '*' }, { now: () => SAMPLE_END });
  try {
    const res = await all.gql(QUESTION, { f: W });
    expect(res.errors).toBeUndefined();
    const reports = engineReports(res);
    expect(reports.length).toBeGreaterThanOrEqual(3);
    expect(reports.every((q) => q.bytesScanned > 0)).toBe(true);
  } finally {
    await all.close();
  }
});

test('a reading is kept for the next request until its files change', async () => {
  const first = await kept.gql(QUESTION, { f: W });
  const again = await kept.gql(QUESTION, { f: W });
  const each = await apart.gql(QUESTION, { f: W });
  expect(first.errors).toBeUndefined();
  expect(again.data).toEqual(first.data);
  expect(first.data).toEqual(each.data);
  expect(engineReports(first).filter((q) => q.bytesScanned > 0)).toHaveLength(1);
  expect(engineReports(again).every((q) => q.bytesScanned === 0)).toBe(true);
  expect(await sharedTables(kept)).toBe(1);

  // The same records delivered again in a new file: another list of files, read anew, and each call still counted once.
  const newest = listRecordFiles(dir).sort().at(-1)!;
  const copy = path.join(path.dirname(newest), 'redelivered.json.gz');
  fs.copyFileSync(newest, copy);
  try {
    const after = await kept.gql(QUESTION, { f: W });
    expect(after.errors).toBeUndefined();
    expect(after.data).toEqual(first.data);
    expect(engineReports(after).filter((q) => q.bytesScanned > 0)).toHaveLength(1);
    // Asked for fresh answers, the files are read now, once for the request.
    const fresh = await kept.gql(QUESTION, { f: W }, { 'x-trailql-no-cache': '1' });
    expect(fresh.data).toEqual(first.data);
    expect(engineReports(fresh).filter((q) => q.bytesScanned > 0)).toHaveLength(1);
  } finally {
    fs.rmSync(copy);
  }
});

test('a file rewritten in place, its folder unchanged, is read anew', async () => {
  const ADDRESSES = `query($f: ApiCallFilter) { sourceIps(filter: $f, first: 200) { edges { node { address stats { calls } } } } }`;
  const before = await kept.gql(ADDRESSES, { f: W });
  expect(before.errors).toBeUndefined();
  // A file of the window holding an IoT Events call: one digit of that call's address changes, the text keeps its length.
  const file = listRecordFiles(dir).sort().reverse().find((f) => f.endsWith('.gz') && gunzipSync(fs.readFileSync(f)).toString('utf8').includes('"iotevents'))!;
  const original = fs.readFileSync(file);
  const folder = fs.statSync(path.dirname(file));
  const doc = JSON.parse(gunzipSync(original).toString('utf8')) as { Records: { eventSource: string; sourceIPAddress: string }[] };
  const call = doc.Records.find((r) => r.eventSource.startsWith('iotevents') && /\d$/.test(r.sourceIPAddress))!;
  // Another digit somewhere in the address, compressed to the very size of the original (some digit
  // and level give it): the file's size then tells nothing, only its modification time does.
  const address = call.sourceIPAddress;
  const gz = (text: string, level: number) => {
    call.sourceIPAddress = text;
    return gzipSync(JSON.stringify(doc), { level });
  };
  let rewritten: Buffer | undefined;
  const positions = [...address].flatMap((c, i) => (/\d/.test(c) ? [i] : []));
  search: for (const level of [6, 5, 7, 8, 9, 4]) {
    for (const i of positions) {
      for (const d of '0123456789') {
        if (d === address[i]) continue;
        const b = gz(address.slice(0, i) + d + address.slice(i + 1), level);
        if (b.length === original.length) {
          rewritten = b;
          break search;
        }
      }
    }
  }
  expect(rewritten?.length).toBe(original.length);
  try {
    fs.writeFileSync(file, rewritten!);
    fs.utimesSync(path.dirname(file), folder.atime, folder.mtime);
    const after = await kept.gql(ADDRESSES, { f: W });
    const each = await apart.gql(ADDRESSES, { f: W });
    expect(after.errors).toBeUndefined();
    expect(after.data).toEqual(each.data);
    expect(after.data).not.toEqual(before.data);
    expect(engineReports(after).filter((q) => q.bytesScanned > 0)).toHaveLength(1);
  } finally {
    fs.writeFileSync(file, original);
  }
});

test('a question one statement answers reads its files itself; a second question over them makes the reading', async () => {
  const lone = await startServer(dir, ENV, { now: () => SAMPLE_END });
  try {
    const ACTIONS = `query($f: ApiCallFilter) { actions(filter: $f) { action eventSource calls errors } }`;
    const TOTAL = `query($f: ApiCallFilter) { apiCalls(filter: $f, first: 1) { totalCount } }`;
    const first = await lone.gql(ACTIONS, { f: W });
    expect(first.errors).toBeUndefined();
    expect(first.data).toEqual((await apart.gql(ACTIONS, { f: W })).data);
    expect(engineReports(first)).toHaveLength(1);
    expect(engineReports(first)[0]!.bytesScanned).toBeGreaterThan(0);
    // Nothing copied for statements that were not asked for.
    expect(await sharedTables(lone)).toBe(0);
    // Another question over the same files within the keeping time: a reading pays now, and serves the next.
    const second = await lone.gql(TOTAL, { f: W });
    expect(second.data).toEqual((await apart.gql(TOTAL, { f: W })).data);
    expect(engineReports(second)[0]!.bytesScanned).toBeGreaterThan(0);
    expect(await sharedTables(lone)).toBe(1);
    const third = await lone.gql(ACTIONS, { f: W });
    expect(third.data).toEqual(first.data);
    expect(engineReports(third)).toHaveLength(1);
    expect(engineReports(third)[0]!.bytesScanned).toBe(0);
  } finally {
    await lone.close();
  }
});

test('statements over more bytes of files than SHARED_SCAN_MAX_MB each read their own', async () => {
  const res = await capped.gql(QUESTION, { f: W });
  expect(res.errors).toBeUndefined();
  const reports = engineReports(res);
  expect(reports.length).toBeGreaterThanOrEqual(3);
  expect(reports.every((q) => q.bytesScanned > 1024)).toBe(true);
});

test('statements over other files read their own, and a statement reading payloads reads its files', async () => {
  // Two days apart: each window's statements read other day folders.
  const day = (d: number) => ({ from: new Date(SAMPLE_END.getTime() - d * 86_400_000 - 6 * 3_600_000).toISOString(), to: new Date(SAMPLE_END.getTime() - d * 86_400_000).toISOString() });
  const query = `query($a: ApiCallFilter, $b: ApiCallFilter) {
    a: apiCalls(filter: $a, first: 5) { totalCount edges { node { eventId } } }
    b: apiCalls(filter: $b, first: 5) { totalCount edges { node { eventId } } }
    p: apiCalls(filter: $b, first: 5) { edges { node { eventId requestParameters } } }
  }`;
  const vars = { a: day(0), b: day(1) };
  const one = await shared.gql(query, vars);
  const each = await apart.gql(query, vars);
  expect(one.errors).toBeUndefined();
  expect(one.data.a.totalCount).toBeGreaterThan(0);
  expect(one.data.b.totalCount).toBeGreaterThan(0);
  expect(one.data.p.edges.some((e: { node: { requestParameters: unknown } }) => e.node.requestParameters !== null)).toBe(true);
  expect(one.data).toEqual(each.data);
  // The two windows' statements each read their files; the payload page reads its own too.
  expect(engineReports(one).filter((q) => q.bytesScanned > 0)).toHaveLength(3);
  expect(await sharedTables(shared)).toBe(0);
});

test('a file found unreadable is left out and named alike, shared or not', async () => {
  const day = path.dirname(listRecordFiles(dir).sort().at(-1)!);
  const bad = path.join(day, 'damaged.json.gz');
  fs.writeFileSync(bad, Buffer.from('this is not gzip'));
  try {
    const one = await shared.gql(QUESTION, { f: W });
    const each = await apart.gql(QUESTION, { f: W });
    expect(one.errors).toBeUndefined();
    expect(one.data).toEqual(each.data);
    expect(one.extensions?.complete).toBe(false);
    expect(one.extensions?.warnings).toEqual(each.extensions?.warnings);
    expect(JSON.stringify(one.extensions?.warnings)).toContain('damaged.json.gz');
    expect(await sharedTables(shared)).toBe(0);
  } finally {
    fs.rmSync(bad);
  }
});

test('SHARED_SCAN_MAX_MB is whole MiB from 0 (off), 64 when unset; SHARED_SCAN_KEEP_SECONDS whole seconds up to a day, 120 when unset; SHARED_SCAN_KEEP_MB whole MiB, 256 when unset', () => {
  expect(testConfig(dir, {}).duckdb.sharedScanKeepMemoryBytes).toBe(256 * 2 ** 20);
  expect(testConfig(dir, { SHARED_SCAN_KEEP_MB: '0' }).duckdb.sharedScanKeepMemoryBytes).toBe(0);
  for (const bad of ['-1', '2.5', 'all']) expect(() => testConfig(dir, { SHARED_SCAN_KEEP_MB: bad })).toThrow(ConfigError);
  expect(testConfig(dir, {}).duckdb.sharedScanMaxBytes).toBe(64 * 2 ** 20);
  expect(testConfig(dir, { SHARED_SCAN_MAX_MB: '3' }).duckdb.sharedScanMaxBytes).toBe(3 * 2 ** 20);
  expect(testConfig(dir, { SHARED_SCAN_MAX_MB: '0' }).duckdb.sharedScanMaxBytes).toBe(0);
  for (const bad of ['-1', '1.5', 'lots']) expect(() => testConfig(dir, { SHARED_SCAN_MAX_MB: bad })).toThrow(ConfigError);
  expect(testConfig(dir, {}).duckdb.sharedScanKeepMs).toBe(120_000);
  expect(testConfig(dir, { SHARED_SCAN_KEEP_SECONDS: '0' }).duckdb.sharedScanKeepMs).toBe(0);
  for (const bad of ['-1', '0.5', '86401']) expect(() => testConfig(dir, { SHARED_SCAN_KEEP_SECONDS: bad })).toThrow(ConfigError);
});

describe('ScanPool', () => {
  let instance: DuckDBInstance;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
  });
  afterAll(() => instance.closeSync());

  const tablesLeft = async () => {
    const conn = await DuckDBConnection.create(instance);
    try {
      return Number((await conn.runAndReadAll("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'trailql_shared_scan_%'")).getRows()[0]![0]);
    } finally {
      conn.closeSync();
    }
  };
  /**
   * The tables left once the drops under way have run, waiting while more than `atMost` are (a
   * reading is dropped after whoever lets it go has moved on: nobody awaits that). Polled, not
   * slept on: a busy machine takes as long as it takes, and a drop that never comes still fails.
   */
  const tablesLeftSettled = async (atMost: number) => {
    const deadline = Date.now() + 30_000;
    let left = await tablesLeft();
    while (left > atMost && Date.now() < deadline) {
      await new Promise((r) => setImmediate(r));
      left = await tablesLeft();
    }
    return left;
  };
  /** Until the pool's trim of idle readings beyond the memory kept, started when a request let go of one, has run. */
  const trimmed = (pool: ScanPool) => (pool as unknown as { trimming: Promise<void> }).trimming;

  /**
   * The pool's clock is the test's: `performance.now()` reads `clock` and the pool's timers are
   * Jest's, moved on by `pass` only; a busy machine (a pause between two requests) changes nothing.
   */
  let clock = 0;
  const ownClock = () => {
    clock = 1_000;
    jest.useFakeTimers({ doNotFake: ['performance', 'Date', 'hrtime', 'nextTick', 'queueMicrotask', 'setImmediate', 'clearImmediate'] });
    jest.spyOn(performance, 'now').mockImplementation(() => clock);
  };
  const pass = (ms: number) => {
    clock += ms;
    jest.advanceTimersByTime(ms);
  };
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  /** A fill making a table of `rows` rows of about 100 bytes each. */
  const fill = (calls: string[], rows = 1) => async (name: string) => {
    calls.push(name);
    const c = await DuckDBConnection.create(instance);
    try {
      await c.run(`CREATE TABLE "${name}" AS SELECT i, repeat('x', 100) || i AS s FROM range(${rows}) t(i)`);
    } finally {
      c.closeSync();
    }
    return 'v1';
  };
  /** The files are as they were read. */
  const same = () => true;
  const MiB = 2 ** 20;

  test('a list of files is read once per request, another list again, and nothing is left once it ends', async () => {
    const scans = new RequestScans(new ScanPool(instance, { keepMs: 0, keepMemoryBytes: 100 * MiB }));
    const calls: string[] = [];
    const [a, b, c] = await Promise.all([scans.table('a', fill(calls), same), scans.table('a', fill(calls), same), scans.table('b', fill(calls), same)]);
    expect(calls).toHaveLength(2);
    expect(a!.name).toBe(b!.name);
    expect([a!.made, b!.made]).toEqual([true, false]);
    expect(c!.name).not.toBe(a!.name);
    expect(await tablesLeft()).toBe(2);
    await scans.close();
    expect(await tablesLeftSettled(0)).toBe(0);
    expect(scans.table('a', fill(calls), same)).toBeUndefined();
  });

  test('a statement alone in its request reads its files itself; a second over them, in the request or in another within the keeping time, makes the reading', async () => {
    ownClock();
    const pool = new ScanPool(instance, { keepMs: 400, keepMemoryBytes: 100 * MiB });
    const calls: string[] = [];
    const one = new RequestScans(pool);
    expect(one.table('a', fill(calls), same, true)).toBeUndefined();
    expect(calls).toHaveLength(0);
    // The request turns out to read the same files again.
    expect((await one.table('a', fill(calls), same, true))!.made).toBe(true);
    await one.close();
    // A reading kept serves a lone statement.
    const kept = new RequestScans(pool);
    expect((await kept.table('a', fill(calls), same, true))!.made).toBe(false);
    await kept.close();
    // Files another request's lone statement read itself within the keeping time.
    const two = new RequestScans(pool);
    expect(two.table('b', fill(calls), same, true)).toBeUndefined();
    await two.close();
    const three = new RequestScans(pool);
    expect((await three.table('b', fill(calls), same, true))!.made).toBe(true);
    await three.close();
    // ... but not a request asking for fresh answers, and not once the keeping time is over.
    const four = new RequestScans(pool);
    expect(four.table('c', fill(calls), same, true)).toBeUndefined();
    await four.close();
    expect(new RequestScans(pool, true).table('c', fill(calls), same, true)).toBeUndefined();
    pass(450);
    expect(new RequestScans(pool).table('c', fill(calls), same, true)).toBeUndefined();
    expect(calls).toHaveLength(2);
    // Readings serving no later request: a lone statement never makes one for itself, a second in its request does.
    const none = new ScanPool(instance, { keepMs: 0, keepMemoryBytes: 100 * MiB });
    for (let i = 0; i < 2; i++) {
      const r = new RequestScans(none);
      expect(r.table('d', fill(calls), same, true)).toBeUndefined();
      await r.close();
    }
    expect(calls).toHaveLength(2);
    const twice = new RequestScans(none);
    expect(twice.table('d', fill(calls), same, true)).toBeUndefined();
    expect((await twice.table('d', fill(calls), same, true))!.made).toBe(true);
    await twice.close();
    expect(calls).toHaveLength(3);
    await pool.close();
    expect(await tablesLeftSettled(0)).toBe(0);
  });

  test('a reading serves later requests for its time after its files were read, and is dropped after', async () => {
    ownClock();
    const pool = new ScanPool(instance, { keepMs: 400, keepMemoryBytes: 100 * MiB });
    const calls: string[] = [];
    const one = new RequestScans(pool);
    expect((await one.table('a', fill(calls), same))!.made).toBe(true);
    await one.close();
    const two = new RequestScans(pool);
    expect((await two.table('a', fill(calls), same))!.made).toBe(false);
    expect(calls).toHaveLength(1);
    // Held by a request, it outlives its time; once released, it is gone.
    pass(500);
    expect(pool.size).toBe(1);
    await two.close();
    expect(pool.size).toBe(0);
    expect(await tablesLeftSettled(0)).toBe(0);
    // Used again and again, a reading still serves only its time: then the files are read anew.
    const three = new RequestScans(pool);
    await three.table('a', fill(calls), same);
    await three.close();
    pass(250);
    const four = new RequestScans(pool);
    expect((await four.table('a', fill(calls), same))!.made).toBe(false);
    await four.close();
    pass(250);
    const five = new RequestScans(pool);
    expect((await five.table('a', fill(calls), same))!.made).toBe(true);
    await five.close();
    await pool.close();
    expect(await tablesLeftSettled(0)).toBe(0);
  });

  test('idle readings beyond the memory kept are dropped, least recently used first', async () => {
    // Each table holds about 25 MiB: two fit in 60 MiB, three do not.
    const pool = new ScanPool(instance, { keepMs: 60_000, keepMemoryBytes: 60 * MiB });
    const calls: string[] = [];
    const use = async (key: string) => {
      const r = new RequestScans(pool);
      const t = await r.table(key, fill(calls, 200_000), same);
      await r.close();
      await trimmed(pool);
      return t!.made;
    };
    expect(await use('a')).toBe(true);
    expect(await use('b')).toBe(true);
    expect(pool.size).toBe(2);
    expect(await use('a')).toBe(false);
    // a, b, c idle do not fit: b (least recently used) goes.
    expect(await use('c')).toBe(true);
    expect(pool.size).toBe(2);
    expect(await use('a')).toBe(false);
    expect(await use('b')).toBe(true);
    await pool.close();
    expect(await tablesLeftSettled(0)).toBe(0);
  });

  test('a reading whose files changed since it was read serves no later request', async () => {
    const pool = new ScanPool(instance, { keepMs: 60_000, keepMemoryBytes: 100 * MiB });
    const calls: string[] = [];
    const one = new RequestScans(pool);
    const made = await one.table('a', fill(calls), same);
    // Within the request that holds it, it is not looked at again.
    expect(await one.table('a', fill(calls), () => false)).toEqual({ name: made!.name, made: false });
    await one.close();
    const seen: string[] = [];
    const two = new RequestScans(pool);
    const again = await two.table('a', fill(calls), (version) => {
      seen.push(version);
      return false;
    });
    expect(seen).toEqual(['v1']);
    expect(again!.made).toBe(true);
    expect(calls).toHaveLength(2);
    await two.close();
    await pool.close();
    expect(await tablesLeftSettled(0)).toBe(0);
  });

  test('a request asking for fresh answers reads anew, and its reading replaces the kept one', async () => {
    const pool = new ScanPool(instance, { keepMs: 60_000, keepMemoryBytes: 100 * MiB });
    const calls: string[] = [];
    const old = new RequestScans(pool);
    const kept = await old.table('a', fill(calls), same);
    await old.close();
    const fresh = new RequestScans(pool, true);
    const [one, two] = await Promise.all([fresh.table('a', fill(calls), same), fresh.table('a', fill(calls), same)]);
    expect(calls).toHaveLength(2);
    expect(one!.made).toBe(true);
    expect(two!.name).toBe(one!.name);
    expect(one!.name).not.toBe(kept!.name);
    await fresh.close();
    const next = new RequestScans(pool);
    expect(await next.table('a', fill(calls), same)).toEqual({ name: one!.name, made: false });
    await next.close();
    // The replaced reading is gone; the fresh one is kept.
    expect(await tablesLeftSettled(1)).toBe(1);
    await pool.close();
    expect(await tablesLeftSettled(0)).toBe(0);
  });

  test('a failed reading is not kept: the next statement reads again', async () => {
    const pool = new ScanPool(instance, { keepMs: 60_000, keepMemoryBytes: 100 * MiB });
    const scans = new RequestScans(pool);
    await expect(scans.table('a', async () => Promise.reject(new Error('unreadable')), same)).rejects.toThrow('unreadable');
    const calls: string[] = [];
    const again = await scans.table('a', fill(calls), same);
    expect(again!.made).toBe(true);
    expect(calls).toHaveLength(1);
    await scans.close();
    await pool.close();
  });

  test('a request ending does not wait for a reading another request is still filling', async () => {
    const pool = new ScanPool(instance, { keepMs: 60_000, keepMemoryBytes: 100 * MiB });
    let finish!: () => void;
    const slow = new Promise<void>((r) => (finish = r));
    const filling = new RequestScans(pool);
    const first = filling.table('a', async (name) => {
      await slow;
      return fill([])(name);
    }, same);
    const waiting = new RequestScans(pool);
    void waiting.table('a', fill([]), same)!.catch(() => undefined);
    let closed = false;
    await waiting.close().then(() => (closed = true));
    expect(closed).toBe(true);
    finish();
    await first;
    await filling.close();
    await pool.close();
    expect(await tablesLeftSettled(0)).toBe(0);
  });
});
