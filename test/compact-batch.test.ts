/**
 * Compaction writes partitions together (one read of many days' files) or one at a time (the way
 * a batch holding an unreadable file goes): both must write the same store. The trail holds calls
 * delivered again the same day, the next day and three days later, and twins in one file; each store is checked against
 * the rule written in compact.ts, worked out here from the JSON records, and the ways against each
 * other: the same records in the same partitions, each file in time order, the same counts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { CompactResult, compactTrail } from '../src/engines/duckdb/compact';
import { IOT_SOURCES, RawRecord, listRecordFiles } from './support/records';
import { sampleTrail, tempDir } from './support/trails';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const LOOKBACK = 2;

let trail: string;
let root: string;
/** The day folder of the chain's last copy. */
let chainDay: string;
const stores: string[] = [];

/** `AWSLogs/...` key of a file, as the store's sourceFile column holds it. */
const keyOf = (file: string) => file.slice(file.lastIndexOf(`${path.sep}AWSLogs${path.sep}`) + 1).split(path.sep).join('/');
/** account/region/yyyy/mm/dd of a file's day folder. */
function partitionOf(key: string): string {
  const m = /([0-9]{12})\/CloudTrail\/([^/]+)\/([0-9]{4}\/[0-9]{2}\/[0-9]{2})\/[^/]+$/.exec(key);
  if (!m) throw new Error(`not a record file: ${key}`);
  return `${m[1]}/${m[2]}/${m[3]}`;
}
const dayNumber = (day: string) => Date.parse(`${day.replace(/\//g, '-')}T00:00:00Z`) / 86_400_000;

function recordsOf(file: string): RawRecord[] {
  const raw = fs.readFileSync(file);
  return (JSON.parse((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')) as { Records: RawRecord[] }).Records;
}

/**
 * What each partition must hold, as sorted `eventID file` lines: a record is left out when a copy
 * of its eventID came before it in the same day folder (by time, then file), or lies in one of the
 * LOOKBACK day folders before (same account and region).
 */
function expectedStore(): Map<string, string[]> {
  const rows = listRecordFiles(trail).flatMap((file) => {
    const key = keyOf(file);
    return recordsOf(file)
      .map((r, index) => ({ r, index }))
      .filter(({ r }) => IOT_SOURCES.includes(r.eventSource))
      .map(({ r, index }) => ({ id: r.eventID as string, time: r.eventTime as string, key, index, partition: partitionOf(key) }));
  });
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const [account, region, ...day] = r.partition.split('/');
    const d = dayNumber(day.join('/'));
    const earlier = rows.some((o) => {
      if (o === r || o.id !== r.id) return false;
      const [oa, or, ...od] = o.partition.split('/');
      if (oa !== account || or !== region) return false;
      const e = dayNumber(od.join('/'));
      if (e === d) return o.time < r.time || (o.time === r.time && (o.key < r.key || (o.key === r.key && o.index < r.index)));
      return e < d && e >= d - LOOKBACK;
    });
    if (!earlier) out.set(r.partition, [...(out.get(r.partition) ?? []), `${r.id} ${r.key}`]);
  }
  for (const v of out.values()) v.sort();
  return out;
}

/** What a store holds, per partition, and whether each file is in time order. */
async function storeContents(store: string): Promise<{ partitions: Map<string, string[]>; outOfOrder: number }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await DuckDBConnection.create(instance);
  try {
    const glob = `${store}/**/*.parquet`.replace(/'/g, "''");
    const rows = (
      await connection.runAndReadAll(`SELECT "eventID", "sourceFile", "eventTime", file_row_number, filename FROM read_parquet('${glob}', filename = true, file_row_number = true, hive_partitioning = false)`)
    ).getRowObjectsJS() as { eventID: string; sourceFile: string; eventTime: string; file_row_number: bigint; filename: string }[];
    const partitions = new Map<string, string[]>();
    const byFile = new Map<string, typeof rows>();
    for (const r of rows) {
      const m = /account=([^/]+)\/region=([^/]+)\/day=([0-9-]+)\//.exec(r.filename)!;
      const key = `${m[1]}/${m[2]}/${m[3]!.replace(/-/g, '/')}`;
      expect(partitionOf(r.sourceFile)).toBe(key);
      partitions.set(key, [...(partitions.get(key) ?? []), `${r.eventID} ${r.sourceFile}`]);
      byFile.set(r.filename, [...(byFile.get(r.filename) ?? []), r]);
    }
    for (const v of partitions.values()) v.sort();
    let outOfOrder = 0;
    for (const list of byFile.values()) {
      const ordered = [...list].sort((a, b) => Number(a.file_row_number - b.file_row_number));
      ordered.forEach((r, i) => i > 0 && ordered[i - 1]!.eventTime > r.eventTime && outOfOrder++);
    }
    return { partitions, outOfOrder };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The userAgent of each stored record with this eventID. */
async function userAgentsOf(store: string, eventId: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await DuckDBConnection.create(instance);
  try {
    const glob = `${store}/**/*.parquet`.replace(/'/g, "''");
    const p = await connection.prepare(`SELECT "userAgent" FROM read_parquet('${glob}', hive_partitioning = false) WHERE "eventID" = $1`);
    p.bind([eventId]);
    return (await p.runAndReadAll()).getRowsJS().map((r) => String(r[0]));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function compactInto(batchFiles: number | undefined): Promise<{ store: string; result: CompactResult }> {
  const store = tempDir('trailql-store-');
  stores.push(store);
  const result = await compactTrail({ trailDir: trail, storeDir: store, eventSources: IOT_SOURCES, lookbackDays: LOOKBACK, ...(batchFiles === undefined ? {} : { batchFiles }) });
  return { store, result };
}

beforeAll(async () => {
  trail = await sampleTrail(5, { iotEventsPerDay: 30, deliveryMinutes: 60 });
  root = path.join(trail, 'AWSLogs', ACCOUNT, 'CloudTrail', REGION);
  const days = listRecordFiles(root)
    .map((f) => path.relative(root, path.dirname(f)))
    .filter((d, i, all) => all.indexOf(d) === i)
    .sort();
  expect(days.length).toBeGreaterThanOrEqual(5);
  const firstCall = (day: string) => {
    const file = fs
      .readdirSync(path.join(root, day))
      .sort()
      .find((n) => recordsOf(path.join(root, day, n)).some((r) => IOT_SOURCES.includes(r.eventSource)))!;
    return { file, record: recordsOf(path.join(root, day, file)).find((r) => IOT_SOURCES.includes(r.eventSource))! };
  };
  const lastCall = (day: string) => {
    const file = fs
      .readdirSync(path.join(root, day))
      .sort()
      .reverse()
      .find((n) => recordsOf(path.join(root, day, n)).some((r) => IOT_SOURCES.includes(r.eventSource)))!;
    return { file, record: recordsOf(path.join(root, day, file)).filter((r) => IOT_SOURCES.includes(r.eventSource)).at(-1)! };
  };
  const deliverAgain = (day: string, name: string, record: RawRecord) => fs.writeFileSync(path.join(root, day, `zz_again_${name}`), gzipSync(JSON.stringify({ Records: [record] })));
  // A call delivered again the same day, and three days later (beyond the lookback: kept there).
  const x = firstCall(days[0]!);
  deliverAgain(days[0]!, x.file, x.record);
  deliverAgain(days[3]!, x.file, x.record);
  // A call delivered again the next day and two days later (left out both times: within the lookback).
  const y = firstCall(days[1]!);
  deliverAgain(days[2]!, y.file, y.record);
  deliverAgain(days[3]!, y.file, y.record);
  // A chain: two days later, then the day after (left out there too: the copy two days later is
  // in a folder within the lookback, though that day's stored file left it out).
  const z = lastCall(days[1]!);
  expect(z.record.eventID).not.toBe(y.record.eventID);
  deliverAgain(days[3]!, `z_${z.file}`, z.record);
  deliverAgain(days[4]!, `z_${z.file}`, z.record);
  chainDay = days[4]!;
  // Twins: one eventID twice in one file at the same time, told apart by userAgent: the first is kept.
  const twin = { ...lastCall(days[2]!).record, eventID: 'twin-0001' };
  fs.writeFileSync(path.join(root, days[2]!, 'zz_twins.json.gz'), gzipSync(JSON.stringify({ Records: [{ ...twin, userAgent: 'first' }, { ...twin, userAgent: 'second' }] })));
});

afterAll(() => {
  for (const d of [trail, ...stores]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

test('together, one batch per partition, or one at a time: the store the rule gives, in time order', async () => {
  const expected = expectedStore();
  const ways = [await compactInto(undefined), await compactInto(1), await compactInto(0)];
  const written = [...expected.values()].reduce((a, v) => a + v.length, 0);
  // The first two ways wrote every partition in batches, the third none.
  expect(ways[0]!.result.compacted.length).toBeGreaterThan(1);
  expect(ways.map((w) => w.result.together)).toEqual([ways[0]!.result.compacted.length, ways[1]!.result.compacted.length, 0]);
  for (const { store, result } of ways) {
    expect(result.failed).toEqual([]);
    expect(result.records).toBe(written);
    const { partitions, outOfOrder } = await storeContents(store);
    expect(partitions).toEqual(expected);
    expect(outOfOrder).toBe(0);
    expect(await userAgentsOf(store, 'twin-0001')).toEqual(['first']);
  }
  // The same counts, partition by partition, whichever way they were written.
  const manifests = (store: string) =>
    Object.fromEntries(
      fs
        .readdirSync(store, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('manifest.json'))
        .map((f) => {
          const m = JSON.parse(fs.readFileSync(path.join(store, f), 'utf8')) as { records: number; duplicates: number };
          return [path.dirname(f), { records: m.records, duplicates: m.duplicates }];
        }),
    );
  expect(manifests(ways[0]!.store)).toEqual(manifests(ways[2]!.store));
  expect(manifests(ways[1]!.store)).toEqual(manifests(ways[2]!.store));
  // The copies made above were left out where the rule says: at least 5.
  expect(ways[0]!.result.duplicates).toBe(ways[2]!.result.duplicates);
  expect(ways[0]!.result.duplicates).toBeGreaterThanOrEqual(5);
});

test('a batch size that is no whole number is refused', async () => {
  const store = tempDir('trailql-store-');
  stores.push(store);
  await expect(compactTrail({ trailDir: trail, storeDir: store, eventSources: IOT_SOURCES, batchFiles: -1 })).rejects.toThrow(/batchFiles/);
  expect(fs.readdirSync(store)).toEqual([]);
});

test('a copy delivered late, after the days before it were stored, is left out as from scratch', async () => {
  const { store, result } = await compactInto(undefined);
  expect(result.failed).toEqual([]);
  // The chain's call once more, in a new file of the chain's last day: that day (and the ones
  // after it) are compacted again, against the stored days before it.
  const z = fs.readdirSync(path.join(root, chainDay)).find((n) => n.startsWith('zz_again_z_'))!;
  fs.copyFileSync(path.join(root, chainDay, z), path.join(root, chainDay, 'zz_late_copy.json.gz'));
  try {
    const again = await compactTrail({ trailDir: trail, storeDir: store, eventSources: IOT_SOURCES, lookbackDays: LOOKBACK });
    expect(again.compacted.length).toBeGreaterThan(0);
    expect(again.compacted.length).toBeLessThan(result.compacted.length);
    expect((await storeContents(store)).partitions).toEqual(expectedStore());
  } finally {
    fs.rmSync(path.join(root, chainDay, 'zz_late_copy.json.gz'));
  }
});

test('day folders a batch cannot tell apart (a region folder named AWSLogs) are written one at a time, each with its own records', async () => {
  const odd = await sampleTrail(1, { iotEventsPerDay: 20 });
  try {
    // The same day's files again under a region folder named AWSLogs, in two accounts.
    for (const account of ['111122223333', '777788889999']) {
      const base = fs.existsSync(path.join(odd, 'AWSLogs', account)) ? path.join(odd, 'AWSLogs', account, 'CloudTrail') : undefined;
      const org = fs.readdirSync(path.join(odd, 'AWSLogs')).find((n) => n.startsWith('o-'));
      const cloudTrail = base ?? path.join(odd, 'AWSLogs', org!, account, 'CloudTrail');
      const day = listRecordFiles(path.join(cloudTrail, REGION)).map((f) => path.relative(path.join(cloudTrail, REGION), path.dirname(f)))[0]!;
      fs.cpSync(path.join(cloudTrail, REGION, day), path.join(cloudTrail, 'AWSLogs', day), { recursive: true });
    }
    const counts = async (batchFiles: number | undefined) => {
      const store = tempDir('trailql-store-');
      stores.push(store);
      const result = await compactTrail({ trailDir: odd, storeDir: store, eventSources: IOT_SOURCES, ...(batchFiles === undefined ? {} : { batchFiles }) });
      expect(result.failed).toEqual([]);
      const perPartition = Object.fromEntries(
        fs
          .readdirSync(store, { recursive: true })
          .map(String)
          .filter((f) => f.endsWith('manifest.json'))
          .map((f) => [path.dirname(f), (JSON.parse(fs.readFileSync(path.join(store, f), 'utf8')) as { records: number }).records]),
      );
      return { result, perPartition };
    };
    const together = await counts(undefined);
    const alone = await counts(0);
    expect(Object.keys(together.perPartition).filter((k) => k.includes('region=AWSLogs'))).toHaveLength(2);
    expect(together.perPartition).toEqual(alone.perPartition);
    expect(together.result.together).toBe(0);
  } finally {
    fs.rmSync(odd, { recursive: true, force: true });
  }
});

test('two runs at once: one after the other, every manifest naming its file; files a stopped run left behind are removed', async () => {
  const store = tempDir('trailql-store-');
  stores.push(store);
  // A lock untouched for STALE_MS is taken over: each run, longer than that, keeps its own touched
  // (every 50 ms; the touch waits behind the run's own file reads, so not much less than that).
  // A run here takes about a second on a fast machine, so the lock goes stale well within one.
  const STALE_MS = 400;
  const run = () => compactTrail({ trailDir: trail, storeDir: store, eventSources: IOT_SOURCES, lookbackDays: LOOKBACK, force: true, batchFiles: 0, lock: { beatMs: 50, staleMs: STALE_MS } });
  const started = performance.now();
  const [a, b] = await Promise.all([run(), run()]);
  expect(a.ms + b.ms).toBeLessThanOrEqual(performance.now() - started);
  expect(Math.min(a.ms, b.ms)).toBeGreaterThan(STALE_MS);
  expect(a.failed).toEqual([]);
  expect(b.failed).toEqual([]);
  const manifests = listManifests(store);
  expect(manifests.length).toBe(a.days);
  for (const m of manifests) {
    const { parquet } = JSON.parse(fs.readFileSync(m, 'utf8'));
    if (parquet) expect(fs.existsSync(path.join(path.dirname(m), parquet.file))).toBe(true);
  }
  expect((await storeContents(store)).partitions).toEqual(expectedStore());
  // What a run stopped midway leaves: a Parquet file and a manifest under temporary names, a
  // Parquet file placed but never named by a manifest, the copies list under a temporary name.
  const folder = path.dirname(manifests[0]!);
  const left = [
    path.join(folder, 'part-abc-0123456789ab.parquet.tmp-4242_deadbeef'),
    path.join(folder, 'manifest.json.tmp-4242-deadbeef'),
    path.join(folder, 'part-abc-0123456789ab.parquet'),
    path.join(store, 'copies.json.tmp-4242-deadbeef'),
  ];
  for (const f of left) fs.writeFileSync(f, 'partial');
  await compactTrail({ trailDir: trail, storeDir: store, eventSources: IOT_SOURCES, lookbackDays: LOOKBACK });
  for (const f of left) expect(fs.existsSync(f)).toBe(false);
  expect(fs.existsSync(path.join(store, 'compact.lock'))).toBe(false);
  expect((await storeContents(store)).partitions).toEqual(expectedStore());
});

function listManifests(store: string): string[] {
  return fs.readdirSync(store, { recursive: true, encoding: 'utf8' }).filter((f) => path.basename(f) === 'manifest.json').map((f) => path.join(store, f));
}
