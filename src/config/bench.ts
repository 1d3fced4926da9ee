/**
 * Settings of the benchmarks (`npm run bench:*`). Unset values take each benchmark's own default,
 * so only the ones a benchmark reads matter to it.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { ConfigError, Env, optionalInt, problemsOf, processEnvironment } from './vars';

const BenchSchema = z.object({
  BENCH_DURATION: optionalInt(1, 3600),
  BENCH_UNCACHED_DURATION: optionalInt(1, 3600),
  BENCH_ROUNDS: optionalInt(1, 1000),
  BENCH_CONNECTIONS: optionalInt(1, 10_000),
  BENCH_DAYS: optionalInt(1, 400),
  BENCH_LIGHT: optionalInt(1, 10_000),
  BENCH_CALLS: optionalInt(1, 100_000_000),
  BENCH_OUT: z.string().optional(),
  BENCH_HEAP_MB: optionalInt(16, 65_536),
  BENCH_DUCKDB_MEMORY_LIMIT: z.string().regex(/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'must be like "512MiB"').optional(),
  BENCH_ANSWER: z.string().optional(),
  BENCH_NOW: z.string().datetime({ offset: true }).optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL').optional(),
});

export interface BenchConfig {
  /** Seconds each measured run lasts (BENCH_DURATION). */
  readonly durationSeconds: number | undefined;
  /** Seconds of the uncached runs, which need longer to collect a sample (BENCH_UNCACHED_DURATION). */
  readonly uncachedDurationSeconds: number | undefined;
  /** Alternating rounds of the cache benchmark (BENCH_ROUNDS). */
  readonly rounds: number | undefined;
  /** Concurrent HTTP connections (BENCH_CONNECTIONS). */
  readonly connections: number | undefined;
  /** Days of generated sample trail (BENCH_DAYS). */
  readonly days: number | undefined;
  /** Light queries per phase of the load benchmark (BENCH_LIGHT). */
  readonly lightQueries: number | undefined;
  /** Calls exported by the export benchmark (BENCH_CALLS). */
  readonly calls: number | undefined;
  /** The cache benchmark's bare servers: the file holding the answer they return (BENCH_ANSWER). */
  readonly answerFile: string | undefined;
  /** The clock a bench server runs with, when not the real one (BENCH_NOW, an ISO time). */
  readonly now: Date | undefined;
  /** The export benchmark's capped run: the server's V8 old-space limit in MiB (BENCH_HEAP_MB). */
  readonly heapMb: number | undefined;
  /** The export benchmark's capped run: the server's DUCKDB_MEMORY_LIMIT (BENCH_DUCKDB_MEMORY_LIMIT). */
  readonly duckdbMemoryLimit: string | undefined;
  /** Where the results table is written (BENCH_OUT). */
  readonly out: string | undefined;
  /** A Redis to measure against instead of a throwaway one (REDIS_URL). */
  readonly redisUrl: string | undefined;
}

export function loadBenchConfig(env: Env = processEnvironment()): BenchConfig {
  const parsed = BenchSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(problemsOf(parsed.error));
  const e = parsed.data;
  return {
    durationSeconds: e.BENCH_DURATION,
    uncachedDurationSeconds: e.BENCH_UNCACHED_DURATION,
    rounds: e.BENCH_ROUNDS,
    connections: e.BENCH_CONNECTIONS,
    days: e.BENCH_DAYS,
    lightQueries: e.BENCH_LIGHT,
    calls: e.BENCH_CALLS,
    heapMb: e.BENCH_HEAP_MB,
    duckdbMemoryLimit: e.BENCH_DUCKDB_MEMORY_LIMIT,
    // "-": print the report only.
    out: e.BENCH_OUT ? (e.BENCH_OUT === '-' ? '-' : path.resolve(e.BENCH_OUT)) : undefined,
    answerFile: e.BENCH_ANSWER,
    now: e.BENCH_NOW ? new Date(e.BENCH_NOW) : undefined,
    redisUrl: e.REDIS_URL,
  };
}
