/**
 * A damaged Parquet file in the store: the partition is read from its JSON files instead (the
 * store is a copy of them), the answer stays whole and complete, the file is logged once, and it
 * is not read again until compaction replaces it. A manifest written by something else is read
 * from JSON too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDbEngine } from '../src/engines/duckdb/driver';
import { defaultStoreDir } from '../src/engines/duckdb/parquet-store';
import { compactTrail } from '../src/engines/duckdb/compact';
import { duckdbDialect } from '../src/engines/duckdb/dialect';
import { compile } from '../src/query/compiler';
import { IOT_SOURCES } from './support/records';
import { apiCallsCountPlan, apiCallsPlan } from './support/plans';
import { sampleTrail } from './support/trails';

let dir: string;
let engine: DuckDbEngine;
const warnings: Record<string, unknown>[] = [];
const logger = { warn: (o: Record<string, unknown>) => warnings.push(o), info: () => {}, error: () => {}, debug: () => {} };

const WINDOW = { from: new Date('2026-03-14T00:00:00Z'), to: new Date('2026-03-14T12:00:00Z') };
const count = compile(duckdbDialect, apiCallsCountPlan({}, WINDOW), 1);
const page = compile(duckdbDialect, apiCallsPlan({}, WINDOW, { size: 500 }), 1);

beforeAll(async () => {
  dir = await sampleTrail(2, { iotEventsPerDay: 10, otherEventsPerIotEvent: 1 });
  const result = await compactTrail({ trailDir: dir, eventSources: IOT_SOURCES, lookbackDays: 2 });
  expect(result.failed).toEqual([]);
  engine = await DuckDbEngine.create({
    trailDir: dir,
    threads: 2,
    parquetDir: defaultStoreDir(dir),
    eventSources: IOT_SOURCES,
    deliveryMarginDays: 1,
    logger: logger as never,
  });
});

afterAll(async () => {
  await engine?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('a Parquet file damaged after it was checked: the partition is read from JSON, the answer whole', async () => {
  const clean = await engine.execute(count);
  const cleanPage = await engine.execute(page);
  const stored = clean.stats.files!.filter((f) => f.endsWith('.parquet'));
  expect(stored.length).toBeGreaterThan(0);
  const calls = Number(clean.rows[0]!.calls);
  expect(calls).toBeGreaterThan(0);

  // Damaged in place, its size kept (the engine checked it against its manifest before).
  const victim = stored[0]!;
  const bytes = fs.readFileSync(victim);
  bytes.fill(0x5a, 4, bytes.length - 8);
  fs.writeFileSync(victim, bytes);

  const after = await engine.execute(count);
  expect(Number(after.rows[0]!.calls)).toBe(calls);
  expect(after.stats.unreadable).toBeUndefined();
  expect(after.stats.files).not.toContain(victim);
  const afterPage = await engine.execute(page);
  expect(afterPage.rows.map((r) => r.event_id).sort()).toEqual(cleanPage.rows.map((r) => r.event_id).sort());
  const logged = warnings.filter((w) => w.storeFile === path.relative(defaultStoreDir(dir), victim).split(path.sep).join('/'));
  expect(logged).toHaveLength(1);

  // The next compaction replaces it (its modification time moved), and the store is read again.
  const again = await compactTrail({ trailDir: dir, eventSources: IOT_SOURCES, lookbackDays: 2 });
  expect(again.failed).toEqual([]);
  const repaired = await engine.execute(count);
  expect(Number(repaired.rows[0]!.calls)).toBe(calls);
  expect(repaired.stats.files!.filter((f) => f.endsWith('.parquet')).length).toBe(stored.length);
}, 120_000);

test('a manifest whose folders are not folder names: the partition is read from JSON, the answer whole', async () => {
  const clean = await engine.execute(count);
  const stored = clean.stats.files!.filter((f) => f.endsWith('.parquet'));
  expect(stored.length).toBeGreaterThan(0);
  const manifestFile = path.join(path.dirname(stored[0]!), 'manifest.json');
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  fs.writeFileSync(manifestFile, JSON.stringify({ ...manifest, sources: [{ dir: 42, mtimeNs: manifest.sources[0].mtimeNs }, ...manifest.sources.slice(1)] }));
  const after = await engine.execute(count);
  expect(Number(after.rows[0]!.calls)).toBe(Number(clean.rows[0]!.calls));
  expect(after.stats.files).not.toContain(stored[0]);
  expect(after.stats.files!.some((f) => f.endsWith('.json.gz'))).toBe(true);
}, 60_000);

test("a manifest naming no file of its own (not a name, or another partition's file by a path): the partition is read from JSON, the answer whole", async () => {
  const clean = await engine.execute(count);
  const stored = clean.stats.files!.filter((f) => f.endsWith('.parquet'));
  expect(stored.length).toBeGreaterThan(1);
  const [own, other] = [stored[0]!, stored[1]!];
  const manifestFile = path.join(path.dirname(own), 'manifest.json');
  const text = fs.readFileSync(manifestFile, 'utf8');
  const manifest = JSON.parse(text);
  const otherParquet = JSON.parse(fs.readFileSync(path.join(path.dirname(other), 'manifest.json'), 'utf8')).parquet;
  const elsewhere = path.relative(path.dirname(own), other).split(path.sep).join('/');
  try {
    for (const parquet of [{ ...manifest.parquet, file: 12345 }, { ...otherParquet, file: elsewhere }]) {
      fs.writeFileSync(manifestFile, JSON.stringify({ ...manifest, parquet }));
      const after = await engine.execute(count);
      expect(Number(after.rows[0]!.calls)).toBe(Number(clean.rows[0]!.calls));
      expect(after.stats.files).not.toContain(own);
      expect(after.stats.files!.filter((f) => f === other)).toHaveLength(1);
    }
  } finally {
    fs.writeFileSync(manifestFile, text);
  }
}, 60_000);

test('a manifest another program wrote (event sources or look-back not its own) or one that cannot be read: the partition is read from JSON, the answer whole', async () => {
  const clean = await engine.execute(count);
  const stored = clean.stats.files!.filter((f) => f.endsWith('.parquet'));
  expect(stored.length).toBeGreaterThan(2);
  const [own, unreadable] = [stored[stored.length - 1]!, stored[stored.length - 2]!];
  const manifestFile = path.join(path.dirname(own), 'manifest.json');
  const unreadableFile = path.join(path.dirname(unreadable), 'manifest.json');
  const text = fs.readFileSync(manifestFile, 'utf8');
  const unreadableText = fs.readFileSync(unreadableFile, 'utf8');
  const manifest = JSON.parse(text);
  const { eventSources: _sources, ...noSources } = manifest;
  const { lookbackDays: _lookback, ...noLookback } = manifest;
  try {
    for (const foreign of [noSources, { ...manifest, eventSources: [7] }, { ...manifest, eventSources: 'iotevents.amazonaws.com' }, noLookback, { ...manifest, lookbackDays: 1e9 }, { ...manifest, lookbackDays: -1 }, { ...manifest, lookbackDays: 1.5 }]) {
      fs.writeFileSync(manifestFile, JSON.stringify(foreign));
      const after = await engine.execute(count);
      expect(Number(after.rows[0]!.calls)).toBe(Number(clean.rows[0]!.calls));
      expect(after.stats.files).not.toContain(own);
      expect(after.stats.files!.some((f) => f.endsWith('.json.gz'))).toBe(true);
    }
    // A folder where the manifest was: it cannot be read, and another partition's is foreign at once.
    fs.rmSync(unreadableFile);
    fs.mkdirSync(unreadableFile);
    const after = await engine.execute(count);
    expect(Number(after.rows[0]!.calls)).toBe(Number(clean.rows[0]!.calls));
    expect(after.stats.files).not.toContain(unreadable);
    expect(after.stats.files).not.toContain(own);
  } finally {
    fs.rmSync(unreadableFile, { recursive: true, force: true });
    fs.writeFileSync(unreadableFile, unreadableText);
    fs.writeFileSync(manifestFile, text);
  }
  const restored = await engine.execute(count);
  expect(restored.stats.files).toContain(own);
  expect(restored.stats.files).toContain(unreadable);
}, 60_000);
