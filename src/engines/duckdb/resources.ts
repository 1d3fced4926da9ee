/**
 * How much memory DuckDB's JSON reader holds, and the threads and concurrent queries that fit a
 * memory limit.
 *
 * A delivery file is one JSON object (`{"Records":[...]}`), so `maximum_object_size` must hold a
 * whole uncompressed file. CloudTrail delivers a file per account and region about every five
 * minutes; even busy accounts' files are tens of MB uncompressed (the largest real fixture here
 * is 0.5 MB, the largest sample file 33 KB, and no record is above 6 KB). 64 MiB keeps a margin
 * over that.
 *
 * DuckDB's reader reserves a buffer of twice that size against `memory_limit` for every thread
 * reading JSON, whatever the file's size; the threads reading at once are DuckDB's worker threads
 * plus the thread of each running query. So `threads + concurrent queries` readers need
 * `2 × 64 MiB` each, and that must fit in a share of the limit, the rest being left for the
 * statement itself (deduplication, grouping, sorting). Measured on DuckDB 1.5: with the former
 * 1 GiB object size a single one-hour query failed under `4GB` and 2 threads.
 */

/** Largest uncompressed delivery file the reader accepts. */
export const MAX_DELIVERY_FILE_BYTES = 64 * 1024 * 1024;

/** What the reader reserves per reading thread. */
export const READER_RESERVATION_BYTES = 2 * MAX_DELIVERY_FILE_BYTES;

/** Share of the memory limit the readers may reserve; the rest is for the statements. */
export const READER_SHARE = 0.75;

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** A DuckDB memory size (`4GB`, `512MiB`: decimal and binary units, as DuckDB reads them) in bytes. */
export function memoryBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/i.exec(text.trim());
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`not a memory size: "${text}"`);
  return Math.floor(Number(m[1]) * unit);
}

export interface DuckDbResourceRequest {
  /** DUCKDB_THREADS; 0 or absent: one per core. */
  readonly threads?: number;
  /** DUCKDB_MEMORY_LIMIT; absent: DuckDB's default, 80% of the host's memory. */
  readonly memoryLimit?: string;
  /** The most engine queries the service admits at once (ENGINE_MAX_CONCURRENT). */
  readonly concurrentQueries: number;
  readonly cores: number;
  readonly totalMemoryBytes: number;
}

export interface DuckDbResources {
  readonly threads: number;
  readonly memoryLimitBytes: number;
  /** Engine queries that may run at once within the limit (never above the request). */
  readonly concurrentQueries: number;
  /** What was lowered to fit, for the start-up log; empty when nothing was. */
  readonly adjusted: string[];
}

/**
 * Threads and concurrent queries that fit the memory limit: what was asked when it fits;
 * otherwise threads are lowered first (down to 1), then concurrent queries (down to 1). Throws
 * when one thread running one query does not fit: the limit is too small to read a delivery file.
 */
export function duckDbResources(request: DuckDbResourceRequest): DuckDbResources {
  const memoryLimitBytes = request.memoryLimit ? memoryBytes(request.memoryLimit) : Math.floor(request.totalMemoryBytes * 0.8);
  const readers = Math.floor((memoryLimitBytes * READER_SHARE) / READER_RESERVATION_BYTES);
  const asked = { threads: request.threads || request.cores, queries: request.concurrentQueries };
  if (readers < 2) {
    const least = Math.ceil((2 * READER_RESERVATION_BYTES) / READER_SHARE / 2 ** 20);
    throw new Error(`DUCKDB_MEMORY_LIMIT: ${request.memoryLimit ?? 'the default'} cannot hold one query reading delivery files of up to 64 MiB; give at least ${least}MiB`);
  }
  const threads = Math.max(1, Math.min(asked.threads, readers - 1));
  const concurrentQueries = Math.max(1, Math.min(asked.queries, readers - threads));
  const adjusted = [
    ...(threads < asked.threads ? [`DuckDB threads lowered from ${asked.threads} to ${threads}`] : []),
    ...(concurrentQueries < asked.queries ? [`concurrent engine queries lowered from ${asked.queries} to ${concurrentQueries}`] : []),
  ];
  return { threads, memoryLimitBytes, concurrentQueries, adjusted };
}
