/**
 * Compaction over a damaged trail: the day holding a truncated file is written from its other
 * files and names the one left out; that day is read from JSON (where answers report the file)
 * until the file changes, and compacted again then; every other day is read from the store.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDbEngine } from '../src/engines/duckdb/driver';
import { defaultStoreDir } from '../src/engines/duckdb/parquet-store';
import { compactTrail } from '../src/engines/duckdb/compact';
import { IOT_SOURCES, listRecordFiles } from './support/records';
import { sampleTrail } from './support/trails';
import { duckdbDialect } from '../src/engines/duckdb/dialect';
import { compile } from '../src/query/compiler';
import { apiCallsCountPlan } from './support/plans';

let dir: string;
let engine: DuckDbEngine;
let bad: string;
let original: Buffer;

beforeAll(async () => {
  dir = await sampleTrail(2, { iotEventsPerDay: 10, otherEventsPerIotEvent: 1 });
  bad = listRecordFiles(dir).find((f) => f.includes(`${path.sep}2026${path.sep}03${path.sep}14${path.sep}`))!;
  original = fs.readFileSync(bad);
  fs.writeFileSync(bad, original.subarray(0, Math.floor(original.length / 2)));
  engine = await DuckDbEngine.create({ trailDir: dir, threads: 2, parquetDir: defaultStoreDir(dir), eventSources: IOT_SOURCES, deliveryMarginDays: 1 });
});

afterAll(async () => {
  await engine?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const relBad = () => path.relative(dir, bad).split(path.sep).join('/');

test('compaction writes every other file, names the one left out, and the day stays on JSON until it changes', async () => {
  const first = await compactTrail({ trailDir: dir, eventSources: IOT_SOURCES, lookbackDays: 2 });
  expect(first.failed).toEqual([]);
  expect(first.unreadable).toEqual([{ partition: expect.stringContaining('2026/03/14'), path: relBad(), reason: expect.stringMatching(/gzip|truncated/) }]);
  expect(first.compacted.length).toBe(first.days);
  // The one batch holding the damaged file was written one partition at a time, to find it.
  expect(first.together).toBe(0);

  // The damaged day is read from JSON, where the answer names the file; the other days from Parquet.
  const query = compile(duckdbDialect, apiCallsCountPlan({}, { from: new Date('2026-03-14T00:00:00Z'), to: new Date('2026-03-14T12:00:00Z') }), 1);
  const result = await engine.execute(query);
  expect(result.stats.unreadable).toEqual([{ path: relBad(), reason: expect.any(String) }]);
  expect(result.stats.files!.some((f) => f.endsWith('.parquet'))).toBe(true);
  expect(result.stats.files!.some((f) => f.includes(`${path.sep}14${path.sep}`) && f.endsWith('.json.gz'))).toBe(true);

  // Nothing changed: nothing rewritten, the file still reported.
  const again = await compactTrail({ trailDir: dir, eventSources: IOT_SOURCES, lookbackDays: 2 });
  expect(again.compacted).toEqual([]);
  expect(again.unreadable.map((u) => u.path)).toEqual([relBad()]);

  // Repaired: its day (and the days checked against it) are written again, nothing left out.
  fs.writeFileSync(bad, original);
  const repaired = await compactTrail({ trailDir: dir, eventSources: IOT_SOURCES, lookbackDays: 2 });
  expect(repaired.unreadable).toEqual([]);
  expect(repaired.compacted.some((k) => k.endsWith('2026/03/14'))).toBe(true);
  expect(repaired.together).toBe(repaired.compacted.length);
  const clean = await engine.execute(query);
  expect(clean.stats.unreadable).toBeUndefined();
  expect(clean.rows[0]!.calls).toBeGreaterThan(result.rows[0]!.calls as number);
}, 120_000);

test('a link to nothing, a pipe and a folder named like a record file are left out and named, without a read; the rest is compacted', async () => {
  const day = path.dirname(listRecordFiles(dir).find((f) => f.includes(`${path.sep}2026${path.sep}03${path.sep}13${path.sep}`))!);
  const named = (tag: string) => path.join(day, `111122223333_CloudTrail_us-east-1_20260313T2355Z_${tag}.json.gz`);
  const planted = { link: named('LinkToNothing0000'), pipe: named('NamedPipe00000000'), folder: named('AFolder000000000') };
  fs.symlinkSync(path.join(dir, 'no-such-target.json.gz'), planted.link);
  execFileSync('mkfifo', [planted.pipe]);
  fs.mkdirSync(planted.folder);
  try {
    const run = await compactTrail({ trailDir: dir, eventSources: IOT_SOURCES, lookbackDays: 2 });
    expect(run.failed).toEqual([]);
    const rel = (f: string) => path.relative(dir, f).split(path.sep).join('/');
    expect(run.unreadable.filter((u) => u.partition.endsWith('2026/03/13'))).toEqual(
      [
        { partition: expect.any(String), path: rel(planted.folder), reason: 'not a file' },
        { partition: expect.any(String), path: rel(planted.link), reason: 'a link to nothing' },
        { partition: expect.any(String), path: rel(planted.pipe), reason: 'not a file' },
      ].sort((a, b) => (a.path < b.path ? -1 : 1)),
    );
    expect(run.compacted.some((k) => k.endsWith('2026/03/13'))).toBe(true);
  } finally {
    for (const f of Object.values(planted)) fs.rmSync(f, { recursive: true, force: true });
  }
}, 120_000);
