/**
 * Calls the store holds in more than one file, which compaction's look-back cannot leave out: a
 * copy delivered again days later, a log copied into another account's folder, an untimed record
 * delivered again (every folder keeps its own). Compaction lists the files holding them
 * (copies.json); a query reading any of those deduplicates, so the store answers as JSON does.
 * Kept answers follow the store: a compaction that rewrites a partition a query reads changes its
 * fingerprint.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DuckDbEngine } from '../src/engines/duckdb/driver';
import { COPIES_FILE, defaultStoreDir } from '../src/engines/duckdb/parquet-store';
import { DISTINCT_EVENTS, duckdbDialect } from '../src/engines/duckdb/dialect';
import { compactTrail } from '../src/engines/duckdb/compact';
import { compile } from '../src/query/compiler';
import { AggregateQuery } from '../src/query/plan';
import { apiCallsCountPlan } from './support/plans';
import { IOT_SOURCES, RawRecord } from './support/records';
import { SAMPLE_END, sampleTrail, settleFolders } from './support/trails';

const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '444455556666';
const REGION = 'us-east-1';
const dayDir = (trail: string, account: string, day: string) => path.join(trail, 'AWSLogs', account, 'CloudTrail', REGION, ...day.split('/'));
const WINDOW = { from: new Date('2026-03-10T00:00:00Z'), to: SAMPLE_END };

let trail: string;
let store: string;

function iotRecords(file: string): RawRecord[] {
  return (JSON.parse(gunzipSync(fs.readFileSync(file)).toString('utf8')) as { Records: RawRecord[] }).Records.filter((r) => IOT_SOURCES.includes(r.eventSource));
}

/** The first delivery file of a day folder holding an IoT Events call. */
function fileWithCalls(dir: string): string {
  return fs
    .readdirSync(dir)
    .sort()
    .map((n) => path.join(dir, n))
    .find((f) => f.endsWith('.json.gz') && iotRecords(f).length > 0)!;
}

const deliver = (dir: string, name: string, records: RawRecord[]) => {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${ACCOUNT}_CloudTrail_${REGION}_${name}.json.gz`), gzipSync(JSON.stringify({ Records: records })));
};

beforeAll(async () => {
  trail = await sampleTrail(6, { iotEventsPerDay: 20, deliveryMinutes: 60 });
  store = defaultStoreDir(trail);
  // A call of the 10th delivered again on the 14th: four days later, past the look-back (2).
  const late = iotRecords(fileWithCalls(dayDir(trail, ACCOUNT, '2026/03/10')))[0]!;
  deliver(dayDir(trail, ACCOUNT, '2026/03/14'), '20260314T0105Z_LateCopy0000000', [late]);
  // A whole log of the 12th copied into another account's folder of the same day.
  const copied = fileWithCalls(dayDir(trail, ACCOUNT, '2026/03/12'));
  fs.copyFileSync(copied, path.join(dayDir(trail, OTHER_ACCOUNT, '2026/03/12'), path.basename(copied)));
  // A record whose eventTime cannot be read, on the 11th and again the next day.
  const untimed = { ...late, eventID: 'f00dcafe-0000-4000-8000-00000000c0de', eventTime: 'not a time' };
  deliver(dayDir(trail, ACCOUNT, '2026/03/11'), '20260311T0105Z_Untimed0000000', [untimed]);
  deliver(dayDir(trail, ACCOUNT, '2026/03/12'), '20260312T0110Z_UntimedAgain00', [untimed]);
  settleFolders(trail);
});

afterAll(() => fs.rmSync(trail, { recursive: true, force: true }));

const untimedPlan = (window: typeof WINDOW): AggregateQuery => ({ ...apiCallsCountPlan({}, window), label: 'untimedCount', untimed: true });

/** A count by an engine over the store (or JSON only): the answer, the statement and whether it read Parquet alone. */
async function ask(storeDir: string | undefined, plan: AggregateQuery) {
  // The store's folders just written by a compaction, as if a while ago: their fingerprint is taken.
  if (fs.existsSync(store)) settleFolders(store);
  const engine = await DuckDbEngine.create({ trailDir: trail, threads: 1, parquetDir: storeDir, eventSources: IOT_SOURCES, deliveryMarginDays: 1 });
  try {
    const query = compile(duckdbDialect, plan, 1);
    const result = await engine.execute(query);
    const files = await engine.files(query);
    return { calls: Number(result.rows[0]?.calls), sql: await engine.statement(query), files, parquetOnly: files.every((f) => f.endsWith('.parquet')), fingerprint: await engine.fingerprint(query) };
  } finally {
    await engine.close();
  }
}

test('the store answers as JSON does: each late, copied or untimed call once, the files holding them deduplicated', async () => {
  const result = await compactTrail({ trailDir: trail, eventSources: IOT_SOURCES });
  expect(result.failed).toEqual([]);
  // The late copy, the copied log's calls and the untimed record.
  const copiedCalls = iotRecords(fileWithCalls(dayDir(trail, ACCOUNT, '2026/03/12'))).length;
  expect(result.copies).toBe(1 + copiedCalls + 1);
  const listed = JSON.parse(fs.readFileSync(path.join(store, COPIES_FILE), 'utf8')) as { files: Record<string, number> };
  expect(Object.entries(listed.files).filter(([, n]) => n > 0).length).toBe(5);

  for (const plan of [apiCallsCountPlan({}, WINDOW), untimedPlan(WINDOW), untimedPlan({ from: new Date('2026-03-12T00:00:00Z'), to: SAMPLE_END })]) {
    const [json, parquet] = [await ask(undefined, plan), await ask(store, plan)];
    expect(parquet.parquetOnly).toBe(true);
    expect(parquet.sql).toContain(DISTINCT_EVENTS);
    expect(parquet.calls).toBe(json.calls);
  }
  // The untimed record: in each folder read, once where both are.
  expect((await ask(store, untimedPlan({ from: new Date('2026-03-12T00:00:00Z'), to: SAMPLE_END }))).calls).toBe(1);
  expect((await ask(store, untimedPlan(WINDOW))).calls).toBe(1);
  // Days holding none of them still need no deduplication.
  const quiet = await ask(store, apiCallsCountPlan({}, { from: new Date('2026-03-15T00:00:00Z'), to: SAMPLE_END }));
  expect(quiet.parquetOnly).toBe(true);
  expect(quiet.sql).not.toContain('DISTINCT ON');
});

test('without the copies list, or with a file written since it, the store is deduplicated; kept answers follow what compaction changed', async () => {
  await compactTrail({ trailDir: trail, eventSources: IOT_SOURCES });
  const plan = apiCallsCountPlan({}, { from: new Date('2026-03-15T00:00:00Z'), to: SAMPLE_END });
  const listed = path.join(store, COPIES_FILE);
  const before = await ask(store, plan);
  expect(before.sql).not.toContain('DISTINCT ON');
  const text = fs.readFileSync(listed, 'utf8');
  fs.rmSync(listed);
  try {
    const without = await ask(store, plan);
    expect(without.sql).toContain(DISTINCT_EVENTS);
    expect(without.calls).toBe(before.calls);
    // A list that does not name a file the query reads (one written since it): that file is deduplicated.
    const index = JSON.parse(text) as { files: Record<string, number> };
    const read = (await ask(store, plan)).files.map((f) => path.relative(store, f).split(path.sep).join('/'));
    expect(read.every((f) => index.files[f] === 0)).toBe(true);
    fs.writeFileSync(listed, JSON.stringify({ ...index, files: Object.fromEntries(Object.entries(index.files).filter(([f]) => f !== read[0])) }));
    const unlisted = await ask(store, plan);
    expect(unlisted.sql).toContain(DISTINCT_EVENTS);
    expect(unlisted.calls).toBe(before.calls);
  } finally {
    fs.writeFileSync(listed, text);
  }
  // Nothing changed: the same store files, the same fingerprint.
  await compactTrail({ trailDir: trail, eventSources: IOT_SOURCES });
  expect((await ask(store, plan)).fingerprint).toBe(before.fingerprint);
  // Rewritten by a forced run: new files, a new fingerprint, though no day folder changed.
  await compactTrail({ trailDir: trail, eventSources: IOT_SOURCES, force: true });
  const rewritten = await ask(store, plan);
  expect(rewritten.fingerprint).not.toBe(before.fingerprint);
  expect(rewritten.sql).not.toContain('DISTINCT ON');
});
