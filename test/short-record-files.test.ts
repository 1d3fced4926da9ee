/**
 * A delivery file cut short before its first decompressed byte (an interrupted copy) reads as an
 * empty file in DuckDB, without an error. So does a gzip of nothing, or a `.json` of blanks. Each
 * is left out and named, over JSON and by compaction (whose partition is then read from JSON,
 * where the engine names it), never a silent gap in an answer that says it is complete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DuckDbEngine } from '../src/engines/duckdb/driver';
import { compactTrail } from '../src/engines/duckdb/compact';
import { duckdbDialect } from '../src/engines/duckdb/dialect';
import { defaultStoreDir } from '../src/engines/duckdb/parquet-store';
import { SMALL_RECORD_FILE_BYTES, smallFileProblem } from '../src/engines/duckdb/unreadable-files';
import { compile } from '../src/query/compiler';
import { IOT_SOURCES, RawRecord, dedupe, inWindow, listRecordFiles } from './support/records';
import { apiCallsCountPlan } from './support/plans';
import { sampleTrail } from './support/trails';

const WINDOW = { from: new Date('2026-03-14T00:00:00Z'), to: new Date('2026-03-15T00:00:00Z') };
const count = compile(duckdbDialect, apiCallsCountPlan({}, WINDOW), 1);

let dir: string;
/** The files damaged, trail-relative, with the reason each must be named with. */
const damaged = new Map<string, string>();

const recordsOf = (file: string): RawRecord[] => {
  const raw = fs.readFileSync(file);
  return (JSON.parse((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')) as { Records: RawRecord[] }).Records;
};
const rel = (file: string) => path.relative(dir, file).split(path.sep).join('/');

/** The window's calls in the files, those damaged left out. */
function expectedCount(): number {
  const records = listRecordFiles(dir)
    .filter((f) => !damaged.has(rel(f)))
    .flatMap((file) => recordsOf(file).map((record) => ({ file, record })));
  return dedupe(records).filter((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, WINDOW.from, WINDOW.to)).length;
}

beforeAll(async () => {
  dir = await sampleTrail(2, { iotEventsPerDay: 12, otherEventsPerIotEvent: 1 });
  // Files of the window's day holding IoT Events calls: cut to 40 bytes, a gzip of nothing, blanks.
  const day = listRecordFiles(dir)
    .filter((f) => f.includes('/2026/03/14/') && recordsOf(f).some((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, WINDOW.from, WINDOW.to)))
    .sort();
  const [cut, empty, blank] = [day[0]!, day[1]!, day[2]!];
  fs.truncateSync(cut, 40);
  damaged.set(rel(cut), 'not a complete gzip stream');
  fs.writeFileSync(empty, gzipSync(Buffer.alloc(0)));
  damaged.set(rel(empty), 'empty file');
  const blankJson = blank.replace(/\.gz$/, '');
  fs.rmSync(blank);
  fs.writeFileSync(blankJson, ' \n\t\n');
  damaged.set(rel(blankJson), 'empty file');
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('smallFileProblem: what holds nothing is named, what holds anything is left to the reader', () => {
  for (const [file, reason] of damaged) expect(smallFileProblem(path.join(dir, file))).toBe(reason);
  const whole = listRecordFiles(dir).find((f) => !damaged.has(rel(f)) && f.endsWith('.gz'))!;
  expect(smallFileProblem(whole)).toBeUndefined();
  // Cut where it gives part of its JSON (which DuckDB would refuse as such): named too.
  const part = path.join(dir, 'part.json.gz');
  const zipped = gzipSync(Buffer.from(JSON.stringify({ Records: recordsOf(whole) })));
  fs.writeFileSync(part, zipped.subarray(0, Math.min(SMALL_RECORD_FILE_BYTES, zipped.length - 8)));
  expect(smallFileProblem(part)).toBe('not a complete gzip stream');
  fs.rmSync(part);
});

describe.each([
  ['over JSON', false],
  ['over the store', true],
])('%s', (_name, store) => {
  let engine: DuckDbEngine;

  beforeAll(async () => {
    if (store) {
      const result = await compactTrail({ trailDir: dir, eventSources: IOT_SOURCES, lookbackDays: 1 });
      expect(result.failed).toEqual([]);
      // Compaction names them, and writes the others' records.
      expect(result.unreadable.map((u) => [u.path, u.reason]).sort()).toEqual([...damaged].sort());
    }
    engine = await DuckDbEngine.create({ trailDir: dir, threads: 2, eventSources: IOT_SOURCES, deliveryMarginDays: 1, ...(store ? { parquetDir: defaultStoreDir(dir) } : {}) });
  });

  afterAll(async () => {
    await engine?.close();
  });

  test('the answer counts the other files and names these, each with why', async () => {
    const result = await engine.execute(count);
    expect(Number(result.rows[0]!.calls)).toBe(expectedCount());
    expect(result.stats.unreadable?.map((u) => [u.path, u.reason]).sort()).toEqual([...damaged].sort());
    // Asked again, the same: each version is judged once, and stays set aside.
    const again = await engine.execute(count);
    expect(again.stats.unreadable?.length).toBe(damaged.size);
    expect((await engine.trailHealth()).unreadableFound).toBe(damaged.size);
  });
});
