/**
 * The DuckDB engine gives a statement's connection to the next statement when the statement ran
 * to its end and changed none of the connection's settings, and keeps at most one idle connection
 * per statement that may run at once (src/engines/duckdb/driver.ts `run`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDbEngine } from '../src/engines/duckdb/driver';

/** What `run` takes and gives, reached from a test. */
type Run = (sql: string, values: unknown[], options: { timeoutMs?: number }, setup?: string) => Promise<Record<string, unknown>[]>;

let dir: string;
let engine: DuckDbEngine;
const run: Run = (...args) => (engine['run'] as Run).apply(engine, args);
const idle = () => (engine['idle'] as unknown[]).length;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-connections-'));
  fs.mkdirSync(path.join(dir, 'AWSLogs'));
  engine = await DuckDbEngine.create({ trailDir: dir, threads: 2, concurrentQueries: 2 });
});

afterAll(async () => {
  await engine?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const insertionOrder = async () => (await run("SELECT current_setting('preserve_insertion_order') AS v", [], {}))[0]!.v;

test('a statement after one that changed its connection settings runs with the defaults', async () => {
  expect(await insertionOrder()).toBe(true);
  const rows = await run("SELECT current_setting('preserve_insertion_order') AS v", [], {}, 'SET SESSION preserve_insertion_order = false');
  expect(rows[0]!.v).toBe(false);
  for (let i = 0; i < 3; i++) expect(await insertionOrder()).toBe(true);
});

test('statements one after another share one connection; at once, at most one idle per statement that may run', async () => {
  await insertionOrder();
  const before = idle();
  expect(before).toBeGreaterThanOrEqual(1);
  for (let i = 0; i < 5; i++) await insertionOrder();
  expect(idle()).toBe(before);
  const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => run('SELECT ?::INTEGER AS v', [i], {})));
  expect(answers.map((r) => r[0]!.v)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(idle()).toBe(engine.maxConcurrentQueries);
  expect(engine.maxConcurrentQueries).toBe(2);
});

test('a statement that failed or timed out gives no connection back, and the next statement answers', async () => {
  await insertionOrder();
  const before = idle();
  await expect(run('SELECT * FROM no_such_table', [], {})).rejects.toThrow(/no_such_table/);
  expect(idle()).toBe(before - 1);
  await expect(run('SELECT count(*) AS n FROM range(20000000000) t(x) WHERE x % 7 = 3', [], { timeoutMs: 50 })).rejects.toThrow(/timed out|interrupt/i);
  expect(await insertionOrder()).toBe(true);
  expect(await run('SELECT 42 AS v', [], {})).toEqual([{ v: 42 }]);
});

test('a statement still running when the engine closes keeps no connection, and no statement starts after', async () => {
  const other = await DuckDbEngine.create({ trailDir: dir, threads: 2, concurrentQueries: 2 });
  const runOn: Run = (...args) => (other['run'] as Run).apply(other, args);
  await runOn('SELECT 1 AS v', [], {});
  expect((other['idle'] as unknown[]).length).toBe(1);
  const running = runOn('SELECT count(*) AS n FROM range(300000000) t(x) WHERE x % 7 = 3', [], {});
  await new Promise((r) => setTimeout(r, 50));
  await other.close();
  await running.catch(() => undefined);
  expect((other['idle'] as unknown[]).length).toBe(0);
  await expect(runOn('SELECT 42 AS v', [], {})).rejects.toThrow(/closed/);
});
