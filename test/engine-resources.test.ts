/**
 * DuckDB's reader holds a buffer of twice the largest delivery file per reading thread against the
 * memory limit: the documented combinations of DUCKDB_MEMORY_LIMIT and DUCKDB_THREADS answer a
 * 31-day query, and settings that cannot hold the readers are lowered or refused at start.
 */
import { loadConfig, ConfigError } from '../src/config';
import { MAX_DELIVERY_FILE_BYTES, duckDbResources, memoryBytes } from '../src/engines/duckdb/resources';
import { startServer } from './support/server';
import { SAMPLE_END, useSampleTrail } from './support/trails';

const GIB = 2 ** 30;
const MONTH = { from: new Date(SAMPLE_END.getTime() - 31 * 86_400_000).toISOString(), to: SAMPLE_END.toISOString() };

// 31 days and their margin, few events a day: every day folder is read, quickly.
const trail = useSampleTrail(33, { iotEventsPerDay: 6, otherEventsPerIotEvent: 1, deliveryMinutes: 240 });

test.each([
  ['1GB', '2'],
  ['4GB', '2'],
  ['4GB', '8'],
])('DUCKDB_MEMORY_LIMIT=%s DUCKDB_THREADS=%s answers a 31-day query', async (memoryLimit, threads) => {
  const server = await startServer(trail.dir, { DUCKDB_MEMORY_LIMIT: memoryLimit, DUCKDB_THREADS: threads });
  try {
    const res = await server.gql(`query($f: ApiCallFilter) { actions(filter: $f) { action calls } }`, { f: MONTH });
    expect(res.errors).toBeUndefined();
    expect(res.data.actions.reduce((a: number, x: { calls: number }) => a + x.calls, 0)).toBeGreaterThan(100);
    // Every day of the month was read, not the newest alone.
    expect(server.engine.executed.some((q) => q.partitions.days.length >= 31)).toBe(true);
  } finally {
    await server.close();
  }
});

test('the reader bound covers the largest delivery file with a margin, and memory sizes read like DuckDB reads them', () => {
  expect(MAX_DELIVERY_FILE_BYTES).toBe(64 * 2 ** 20);
  expect(memoryBytes('4GB')).toBe(4e9);
  expect(memoryBytes('512MiB')).toBe(512 * 2 ** 20);
  expect(memoryBytes('1.5 GiB')).toBe(1.5 * GIB);
  expect(() => memoryBytes('lots')).toThrow();
});

test('threads, then concurrent queries, are lowered to what the memory limit holds; a limit too small for one query is refused', () => {
  const host = { cores: 8, totalMemoryBytes: 16 * GIB };
  expect(duckDbResources({ ...host, threads: 2, memoryLimit: '4GB', concurrentQueries: 4 })).toMatchObject({ threads: 2, concurrentQueries: 4, adjusted: [] });
  expect(duckDbResources({ ...host, threads: 8, memoryLimit: '4GB', concurrentQueries: 4 })).toMatchObject({ threads: 8, concurrentQueries: 4, adjusted: [] });
  // 1 GB holds five 128 MiB reader buffers in its 75% share: two threads and three queries.
  expect(duckDbResources({ ...host, threads: 2, memoryLimit: '1GB', concurrentQueries: 4 })).toMatchObject({ threads: 2, concurrentQueries: 3 });
  expect(duckDbResources({ ...host, threads: 8, memoryLimit: '1GB', concurrentQueries: 4 })).toMatchObject({ threads: 4, concurrentQueries: 1 });
  // No limit: DuckDB's default, 80% of the host's memory; no threads given: one per core.
  expect(duckDbResources({ ...host, concurrentQueries: 4 })).toMatchObject({ threads: 8, concurrentQueries: 4, memoryLimitBytes: Math.floor(16 * GIB * 0.8) });
  expect(() => duckDbResources({ ...host, threads: 1, memoryLimit: '256MB', concurrentQueries: 1 })).toThrow(/DUCKDB_MEMORY_LIMIT/);
  expect(() => loadConfig({ TRAIL_DIR: trail.dir, API_KEYS: '[]', DUCKDB_MEMORY_LIMIT: '256MB' })).toThrow(ConfigError);
});
