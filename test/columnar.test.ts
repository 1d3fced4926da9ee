/**
 * The Parquet store answers exactly as the JSON trail does. A sample trail is compacted, then two
 * servers run over it: one reading JSON only (PARQUET_ENABLED=false), one reading the store. The
 * end-to-end query set must give identical responses (cursors included: both sign with the same
 * secret). Then new files land in one day folder: that day must be read from JSON until it is
 * compacted again, answers staying identical, and compacting again must rewrite that day only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DuckDbEngine } from '../src/engines/duckdb/driver';
import { MANIFEST_FILE, Manifest, defaultStoreDir, partitionDir } from '../src/engines/duckdb/parquet-store';
import { compile } from '../src/query/compiler';
import { DISTINCT_EVENTS, duckdbDialect } from '../src/engines/duckdb/dialect';
import { CompactResult, compactTrail } from '../src/engines/duckdb/compact';
import { generateSampleTrail } from '../src/trail/sample';
import { API_CALL_FIELDS, followPages } from './support/api-calls';
import { FILTER_CASES, GRAPH_QUERY as GRAPH } from './support/filter-cases';
import { apiCallsCountPlan, apiCallsPlan } from './support/plans';
import { IOT_SOURCES, inWindow, listRecordFiles, readRecords } from './support/records';
import { TestServer, startServer } from './support/server';
import { SAMPLE_END, sampleTrail, tempDir } from './support/trails';

const FROM = new Date(SAMPLE_END.getTime() - 48 * 3_600_000).toISOString();
const TO = SAMPLE_END.toISOString();
const ENV = { CURSOR_SECRET: 'the-same-secret-for-both-servers' };
/** The day folder new files land in, and its partition key. */
const LANDING = { account: '111122223333', region: 'us-east-1', day: '2026/03/14' };
const LANDING_KEY = `${LANDING.account}/${LANDING.region}/${LANDING.day}`;
/** The day after it: compacted against it (for earlier copies), so it follows it. */
const NEXT_KEY = `${LANDING.account}/${LANDING.region}/2026/03/15`;

let dir: string;
let other: string;
let first: CompactResult;
/** The Parquet file the first compaction wrote for the landing day. */
let firstParquet: string;
let json: TestServer;
let columnar: TestServer;

beforeAll(async () => {
  dir = await sampleTrail(2, { iotEventsPerDay: 60, deliveryMinutes: 60 });
  first = await compactTrail({ trailDir: dir, eventSources: IOT_SOURCES });
  json = await startServer(dir, { ...ENV, PARQUET_ENABLED: 'false' }, { now: () => SAMPLE_END });
  columnar = await startServer(dir, ENV, { now: () => SAMPLE_END });
});

afterAll(async () => {
  await json?.close();
  await columnar?.close();
  for (const d of [dir, other]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

const CALLS = `query($filter: ApiCallFilter, $first: Int, $after: String, $withTotal: Boolean = true) {
  apiCalls(filter: $filter, first: $first, after: $after) {
    totalCount @include(if: $withTotal)
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { ${API_CALL_FIELDS} } }
  }
}`;


/** One of each grouped answer: run for every filter. */
const GROUPS = `query($filter: ApiCallFilter) {
  callers(filter: $filter, first: 15) { pageInfo { hasNextPage endCursor } nodes { key arn principal identityType rawType category temporaryCredentials
    mfaAuthenticated invokedBy accountId userName stats { calls errors firstSeen lastSeen distinctActions distinctSourceIps accessKeyIds } } }
  sourceIps(filter: $filter, first: 15, orderBy: LAST_SEEN_DESC) { nodes { address kind stats { calls errors firstSeen lastSeen distinctActions distinctCallers } } }
  actions(filter: $filter) { action eventSource calls errors distinctCallers distinctSourceIps firstSeen lastSeen errorsByCode { code calls } }
  hourly: activity(filter: $filter, interval: HOUR, groupBy: IDENTITY_TYPE) { buckets { start key calls errors } }
}`;

const NESTED = `query($filter: ApiCallFilter) {
  apiCalls(filter: $filter, first: 30) { edges { node { eventId iotEventsResources { kind name }
    caller { key stats { calls errors accessKeyIds } sourceIps(first: 3) { nodes { sourceIp { address kind } calls errors firstSeen lastSeen } }
      actions(first: 3) { nodes { action eventSource calls } } calls(first: 2) { edges { node { eventId } } pageInfo { hasNextPage } } }
    sourceIp { address stats { calls distinctCallers } callers(first: 2) { nodes { caller { key identityType } calls } } calls(first: 2) { totalCount } } } } }
  resource(name: "boiler-temp", filter: $filter) { name changes { eventId action } created { eventId } lastUpdated { eventId } deleted { eventId } }
}`;

/** The same request to both servers: the answers, and the files each server's engine opened. */
async function both(query: string, variables: Record<string, unknown>) {
  json.engine.reset();
  columnar.engine.reset();
  const [a, b] = await Promise.all([json.gql(query, variables), columnar.gql(query, variables)]);
  expect(a.errors).toBeUndefined();
  expect(b.errors).toBeUndefined();
  return { json: a.data, columnar: b.data, jsonFiles: json.engine.filesRead.flat(), columnarFiles: columnar.engine.filesRead.flat() };
}

/** Every page of apiCalls from both servers, compared page by page; the ids seen. */
async function allPagesAlike(filter: Record<string, unknown>, pageSize: number): Promise<string[]> {
  const pages = await followPages(async (after) => {
    const r = await both(CALLS, { filter: { from: FROM, to: TO, ...filter }, first: pageSize, after, withTotal: after === null });
    expect(r.columnar).toEqual(r.json);
    return r.json.apiCalls;
  });
  return pages.flatMap((conn) => conn.edges.map((e: { node: { eventId: string } }) => e.node.eventId));
}

const isParquet = (f: string) => f.endsWith('.parquet');

describe('compaction', () => {
  test('writes one partition per account, region and day folder, with a manifest', () => {
    const slots = new Set(
      listRecordFiles(dir).map((f) => {
        const m = /[\\/](\d{12})[\\/]CloudTrail[\\/]([a-z0-9-]+)[\\/](\d{4})[\\/](\d{2})[\\/](\d{2})[\\/]/.exec(f)!;
        return `${m[1]}/${m[2]}/${m[3]}/${m[4]}/${m[5]}`;
      }),
    );
    expect(first.failed).toEqual([]);
    expect(first.compacted).toEqual([...slots].sort());
    expect(first.days).toBe(slots.size);
    const store = defaultStoreDir(dir);
    const m = JSON.parse(fs.readFileSync(path.join(partitionDir(store, LANDING.account, LANDING.region, LANDING.day), MANIFEST_FILE), 'utf8')) as Manifest;
    expect(m.eventSources).toEqual(IOT_SOURCES);
    expect(m.files.length).toBeGreaterThan(0);
    expect(m.records).toBeGreaterThan(0);
    const partition = path.join(store, `account=${LANDING.account}`, `region=${LANDING.region}`, 'day=2026-03-14');
    expect(fs.readdirSync(partition).filter((n) => n.endsWith('.parquet'))).toEqual([m.parquet!.file]);
    firstParquet = m.parquet!.file;
  });

  test('a second run finds every day up to date and writes nothing', async () => {
    const again = await compactTrail({ trailDir: dir, eventSources: IOT_SOURCES });
    expect(again.compacted).toEqual([]);
    expect(again.upToDate).toBe(first.days);
  });

  test('a store made for fewer event sources is not read for more', async () => {
    const store = tempDir('trailql-store-');
    try {
      await compactTrail({ trailDir: dir, storeDir: store, eventSources: ['iotevents.amazonaws.com'] });
      const query = compile(duckdbDialect, apiCallsPlan({}, { from: new Date(FROM), to: new Date(TO) }), 1);
      const servesBoth = await DuckDbEngine.create({ trailDir: dir, threads: 1, parquetDir: store, eventSources: IOT_SOURCES });
      const servesOne = await DuckDbEngine.create({ trailDir: dir, threads: 1, parquetDir: store, eventSources: ['iotevents.amazonaws.com'] });
      try {
        expect((await servesBoth.files(query)).some(isParquet)).toBe(false);
        expect((await servesOne.files(query)).every(isParquet)).toBe(true);
      } finally {
        await servesBoth.close();
        await servesOne.close();
      }
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });
});

describe('the store answers as the JSON files do', () => {
  test('the store server opens Parquet files only, the other JSON files only', async () => {
    const r = await both(CALLS, { filter: { from: FROM, to: TO }, first: 5 });
    expect(r.columnarFiles.length).toBeGreaterThan(0);
    expect(r.columnarFiles.every(isParquet)).toBe(true);
    expect(r.jsonFiles.some(isParquet)).toBe(false);
    expect(r.columnar).toEqual(r.json);
  });

  test.each(Object.entries(FILTER_CASES))('apiCalls, filter %s, every page', async (_name, filter) => {
    const ids = await allPagesAlike(filter, 250);
    expect(ids.length).toBeGreaterThan(0);
  });

  test.each(Object.entries(FILTER_CASES))('callers, sourceIps, actions and activity, filter %s', async (_name, filter) => {
    const r = await both(GROUPS, { filter: { from: FROM, to: TO, ...filter } });
    expect(r.columnar).toEqual(r.json);
  });

  test.each(['none', 'combined'])('principals, every ordering and interval, filter %s', async (name) => {
    const r = await both(GRAPH, { filter: { from: FROM, to: TO, ...FILTER_CASES[name] } });
    expect(r.columnar).toEqual(r.json);
  });

  test('nested fields through loaders, and resource history', async () => {
    const r = await both(NESTED, { filter: { from: FROM, to: TO } });
    expect(r.columnar).toEqual(r.json);
    expect(r.json.apiCalls.edges.length).toBe(30);
  });
});

describe('new files after compaction', () => {
  let landed: string[];

  beforeAll(async () => {
    // Another trail (another seed: other event ids) over the same days; a few of its files land in one day folder.
    other = tempDir();
    await generateSampleTrail({ outDir: other, days: 2, end: SAMPLE_END, seed: 99, iotEventsPerDay: 60, deliveryMinutes: 60, orgAccount: null });
    const rel = path.join('AWSLogs', LANDING.account, 'CloudTrail', LANDING.region, ...LANDING.day.split('/'));
    const names = fs.readdirSync(path.join(other, rel)).filter((n) => n.endsWith('.json.gz')).sort().slice(0, 6);
    landed = names.map((n) => {
      const to = path.join(dir, rel, n);
      expect(fs.existsSync(to)).toBe(false);
      fs.copyFileSync(path.join(other, rel, n), to);
      return to;
    });
  });

  test('the changed day is read from JSON, the others still from Parquet; answers identical and include the new calls', async () => {
    const r = await both(CALLS, { filter: { from: FROM, to: TO }, first: 5 });
    expect(r.columnarFiles).toEqual(expect.arrayContaining(landed));
    const jsonRead = r.columnarFiles.filter((f) => !isParquet(f));
    const landing = path.dirname(landed[0]!);
    expect(new Set(jsonRead.map((f) => path.dirname(f)))).toEqual(new Set([landing, path.join(landing, '..', '..', '03', '15')]));
    expect(r.columnarFiles.some(isParquet)).toBe(true);
    expect(r.columnar).toEqual(r.json);

    const before = new Set(await allPagesAlike({ accounts: [LANDING.account], regions: [LANDING.region] }, 500));
    const landedIds = landed.flatMap((f) => {
      const raw = fs.readFileSync(f);
      const doc = JSON.parse(gunzipSync(raw).toString('utf8')) as { Records: { eventID: string; eventSource: string; eventTime: string }[] };
      return doc.Records.filter((x) => IOT_SOURCES.includes(x.eventSource) && x.eventTime >= FROM && x.eventTime < TO).map((x) => x.eventID);
    });
    expect(landedIds.length).toBeGreaterThan(0);
    for (const id of landedIds) expect(before.has(id)).toBe(true);
  });

  test.each(['none', 'categorySession'])('grouped answers identical while the day is stale, filter %s', async (name) => {
    const r = await both(GRAPH, { filter: { from: FROM, to: TO, ...FILTER_CASES[name] } });
    expect(r.columnar).toEqual(r.json);
  });

  test('compacting again rewrites that day and the next only; then Parquet again, answers identical', async () => {
    const again = await compactTrail({ trailDir: dir, eventSources: IOT_SOURCES });
    expect(again.compacted).toEqual([LANDING_KEY, NEXT_KEY]);
    expect(again.refreshed).toEqual([]);
    expect(again.upToDate).toBe(first.days - 2);
    const m = JSON.parse(
      fs.readFileSync(path.join(partitionDir(defaultStoreDir(dir), LANDING.account, LANDING.region, LANDING.day), MANIFEST_FILE), 'utf8'),
    ) as Manifest;
    for (const f of landed) expect(m.files.map((x) => x.path)).toContain(path.relative(dir, f).split(path.sep).join('/'));
    // A new file under a new name; the old one is gone.
    const partition = partitionDir(defaultStoreDir(dir), LANDING.account, LANDING.region, LANDING.day);
    expect(fs.readdirSync(partition).filter((n) => n.endsWith('.parquet'))).toEqual([m.parquet!.file]);
    expect(m.parquet!.file).not.toBe(firstParquet);

    const r = await both(CALLS, { filter: { from: FROM, to: TO }, first: 5 });
    expect(r.columnarFiles.every(isParquet)).toBe(true);
    expect(r.columnar).toEqual(r.json);
    await allPagesAlike({ accounts: [LANDING.account] }, 200);
    const g = await both(GRAPH, { filter: { from: FROM, to: TO } });
    expect(g.columnar).toEqual(g.json);
  });

  test('a day folder touched without any file changing gets its manifest refreshed, and the next day\'s, not rewritten', async () => {
    const folder = path.dirname(landed[0]!);
    const scratch = path.join(folder, 'scratch.tmp');
    fs.writeFileSync(scratch, 'x');
    fs.rmSync(scratch);
    const r = await both(CALLS, { filter: { from: FROM, to: TO }, first: 5 });
    expect(r.columnarFiles.some((f) => !isParquet(f))).toBe(true);
    expect(r.columnar).toEqual(r.json);
    const again = await compactTrail({ trailDir: dir, eventSources: IOT_SOURCES });
    expect(again.compacted).toEqual([]);
    expect(again.refreshed).toEqual([LANDING_KEY, NEXT_KEY]);
    const after = await both(CALLS, { filter: { from: FROM, to: TO }, first: 5 });
    expect(after.columnarFiles.every(isParquet)).toBe(true);
  });

  test('a day whose JSON folder is gone is removed from the store and read from nowhere', async () => {
    const gone = { account: '444455556666', region: 'eu-west-1', day: '2026/03/13' };
    fs.rmSync(path.join(dir, 'AWSLogs', gone.account, 'CloudTrail', gone.region, ...gone.day.split('/')), { recursive: true });
    const r = await both(CALLS, { filter: { from: FROM, to: TO, accounts: [gone.account] }, first: 50 });
    expect(r.columnar).toEqual(r.json);
    const again = await compactTrail({ trailDir: dir, eventSources: IOT_SOURCES });
    expect(again.removed).toEqual([`${gone.account}/${gone.region}/${gone.day}`]);
    expect(fs.existsSync(partitionDir(defaultStoreDir(dir), gone.account, gone.region, gone.day))).toBe(false);
  });
});

describe('each call once in the store', () => {
  const WINDOW = { from: new Date(SAMPLE_END.getTime() - 3 * 86_400_000), to: SAMPLE_END };
  const DAY_14 = path.join('AWSLogs', LANDING.account, 'CloudTrail', LANDING.region, '2026', '03', '14');
  const DAY_15 = path.join('AWSLogs', LANDING.account, 'CloudTrail', LANDING.region, '2026', '03', '15');
  let trail: string;
  let copied: { eventID: string };

  beforeAll(async () => {
    trail = await sampleTrail(2, { iotEventsPerDay: 30, deliveryMinutes: 60 });
    // One call of the 14th delivered again: once more that day, once the next day.
    const iotCalls = (n: string) =>
      (JSON.parse(gunzipSync(fs.readFileSync(path.join(trail, DAY_14, n))).toString('utf8')) as { Records: { eventID: string; eventSource: string }[] }).Records.filter((r) =>
        IOT_SOURCES.includes(r.eventSource),
      );
    // The first delivery file of the day that holds an IoT Events call (not every file does).
    const name = fs
      .readdirSync(path.join(trail, DAY_14))
      .sort()
      .find((n) => n.endsWith('.json.gz') && iotCalls(n).length > 0)!;
    copied = iotCalls(name)[0];
    const again = gzipSync(JSON.stringify({ Records: [copied] }));
    fs.writeFileSync(path.join(trail, DAY_14, `zz_again_${name}`), again);
    fs.writeFileSync(path.join(trail, DAY_15, `zz_again_${name}`), again);
  });

  afterAll(() => fs.rmSync(trail, { recursive: true, force: true }));

  /** Calls in the window by an engine over the store (or JSON only), and the statement it ran. */
  async function count(storeDir: string | undefined): Promise<{ calls: number; sql: string; files: string[] }> {
    const engine = await DuckDbEngine.create({ trailDir: trail, threads: 1, parquetDir: storeDir, eventSources: IOT_SOURCES, deliveryMarginDays: 1 });
    try {
      const query = compile(duckdbDialect, apiCallsCountPlan({}, WINDOW), 1);
      const result = await engine.execute(query);
      return { calls: Number(result.rows[0]?.calls), sql: await engine.statement(query), files: await engine.files(query) };
    } finally {
      await engine.close();
    }
  }

  test('compaction leaves out repeated deliveries, the same day or the next; the store then needs no deduplication', async () => {
    const records = readRecords(trail).map((r) => r.record).filter((r) => IOT_SOURCES.includes(r.eventSource));
    const unique = new Set(records.map((r) => r.eventID));
    const result = await compactTrail({ trailDir: trail, eventSources: IOT_SOURCES });
    expect(result.records).toBe(unique.size);
    expect(result.duplicates).toBe(records.length - unique.size);
    const next = JSON.parse(fs.readFileSync(path.join(partitionDir(defaultStoreDir(trail), LANDING.account, LANDING.region, '2026/03/15'), MANIFEST_FILE), 'utf8')) as Manifest;
    expect(next.duplicates).toBeGreaterThanOrEqual(1);
    expect(next.lookbackDays).toBe(2);
    expect(next.earlier.sources.map((s) => s.dir)).toContain(DAY_14.split(path.sep).join('/'));

    const fromJson = await count(undefined);
    const fromStore = await count(defaultStoreDir(trail));
    expect(fromJson.sql).toContain(DISTINCT_EVENTS);
    expect(fromStore.files.every(isParquet)).toBe(true);
    expect(fromStore.sql).not.toContain('DISTINCT ON');
    // Nor does it read eventID, which only deduplication needed here.
    expect(fromStore.sql).not.toContain('"eventID"');
    expect(fromStore.calls).toBe(fromJson.calls);
    expect(fromStore.calls).toBe(new Set(records.filter((r) => inWindow(r, WINDOW.from, WINDOW.to)).map((r) => r.eventID)).size);
  });

  test('a folder that is no calendar day is not a day of the trail', async () => {
    const stray = path.join(trail, 'AWSLogs', LANDING.account, 'CloudTrail', LANDING.region, '2026', '13', '01');
    fs.mkdirSync(stray, { recursive: true });
    const store = tempDir('trailql-store-');
    try {
      const result = await compactTrail({ trailDir: trail, storeDir: store, eventSources: IOT_SOURCES });
      expect(result.failed).toEqual([]);
      expect(result.compacted.some((k) => k.includes('/13/'))).toBe(false);
    } finally {
      fs.rmSync(stray, { recursive: true, force: true });
      fs.rmSync(store, { recursive: true, force: true });
    }
  });

  test('a store that looked back less than the delivery margin is still deduplicated by the query', async () => {
    const store = tempDir('trailql-store-');
    try {
      await compactTrail({ trailDir: trail, storeDir: store, eventSources: IOT_SOURCES, lookbackDays: 0 });
      const fromStore = await count(store);
      expect(fromStore.files.every(isParquet)).toBe(true);
      expect(fromStore.sql).toContain(DISTINCT_EVENTS);
      expect(fromStore.calls).toBe((await count(undefined)).calls);
    } finally {
      fs.rmSync(store, { recursive: true, force: true });
    }
  });

  test('a day after a changed day is read from JSON with deduplication until compacted again', async () => {
    const scratch = path.join(trail, DAY_14, 'scratch.tmp');
    fs.writeFileSync(scratch, 'x');
    fs.rmSync(scratch);
    const stale = await count(defaultStoreDir(trail));
    const jsonDirs = new Set(stale.files.filter((f) => !isParquet(f)).map((f) => path.relative(trail, path.dirname(f))));
    expect(jsonDirs).toEqual(new Set([DAY_14, DAY_15]));
    expect(stale.sql).toContain(DISTINCT_EVENTS);
    expect(stale.calls).toBe((await count(undefined)).calls);
  });
});
