/**
 * Prometheus metrics. Each app owns its registry (never prom-client's global one), so several apps
 * can live in one process. Every label value comes from a small, bounded set: clients choose
 * operation names, so those pass through {@link OperationLabels} first.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CacheStats } from '../cache';
import type { ResponseCacheStats } from '../cache/response-cache';
import { EngineError } from '../errors';
import { CompiledQuery, Engine, EngineResult, ExecuteOptions, TrailHealth } from '../query/engine';
import { IdleWaiters } from './idle';

/** What the metrics read from the answer cache at scrape time (QueryCache.stats()). */
export type CacheStatsSource = { stats(): Pick<CacheStats, 'backend' | 'connected' | 'hits' | 'misses' | 'errors'> & Partial<CacheStats> };

/** True when `cache` exposes the cache layer's counters. */
export function hasCacheStats(cache: unknown): cache is CacheStatsSource {
  return typeof cache === 'object' && cache !== null && typeof (cache as { stats?: unknown }).stats === 'function';
}

export interface MetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop, GC). Default true. */
  readonly processMetrics?: boolean;
  /** Distinct operation names kept as label values; later ones are counted as "other". Default 100. */
  readonly maxOperationNames?: number;
}

const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const ENGINE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** A GraphQL Name, not too long. Anything else a client sends is not used as a label value. */
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
/** Query labels come from the compiler; still checked, so a label can never carry data. */
const QUERY_LABEL = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;

/** Label values with a meaning of their own, never taken from a client. */
const RESERVED = new Set(['anonymous', 'other', 'unknown']);

/**
 * Maps client-chosen operation names to label values: the name itself for the first N distinct
 * well-formed names, "anonymous" for an unnamed operation, "other" for everything else
 * ("unknown" is for requests refused before their operation was read).
 */
export class OperationLabels {
  private readonly known = new Set<string>();
  constructor(private readonly max: number) {}

  label(name: string | null | undefined): string {
    if (name === null || name === undefined || name === '') return 'anonymous';
    if (!OPERATION_NAME.test(name) || RESERVED.has(name)) return 'other';
    if (this.known.has(name)) return name;
    if (this.known.size >= this.max) return 'other';
    this.known.add(name);
    return name;
  }
}

export type EngineOutcome = 'ok' | 'error' | 'timeout' | 'cancelled';

export class Metrics {
  readonly registry = new Registry();
  readonly operations: OperationLabels;
  readonly requests: Counter<'operation' | 'outcome'>;
  readonly requestDuration: Histogram<'operation' | 'outcome'>;
  readonly engineQueries: Counter<'engine' | 'label' | 'outcome'>;
  readonly engineDuration: Histogram<'engine'>;
  readonly engineBytes: Counter<'engine'>;
  readonly engineInFlight: Gauge<'engine'>;
  private cache: CacheStatsSource | undefined;
  private responses: { stats(): ResponseCacheStats } | undefined;
  private http: { readonly inFlight: number } | undefined;
  private trail: Pick<Engine, 'trailHealth'> | undefined;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    this.operations = new OperationLabels(options.maxOperationNames ?? 100);
    this.requests = new Counter({
      name: 'trailql_graphql_requests_total',
      help: 'GraphQL operations answered, by operation name and outcome (ok, or the first error code).',
      labelNames: ['operation', 'outcome'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'trailql_graphql_request_duration_seconds',
      help: 'Time from receiving a GraphQL operation to sending its response.',
      labelNames: ['operation', 'outcome'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.engineQueries = new Counter({
      name: 'trailql_engine_queries_total',
      help: 'Queries run on the engine (cache hits excluded), by engine, query label and outcome (ok, error, timeout, cancelled).',
      labelNames: ['engine', 'label', 'outcome'],
      registers,
    });
    this.engineDuration = new Histogram({
      name: 'trailql_engine_query_duration_seconds',
      help: 'Wall time of engine queries, submission to last row, whatever their outcome.',
      labelNames: ['engine'],
      buckets: ENGINE_BUCKETS,
      registers,
    });
    this.engineBytes = new Counter({
      name: 'trailql_engine_bytes_scanned_total',
      help: 'Bytes the engine read for successful queries (Athena: DataScannedInBytes; DuckDB: size of the files opened).',
      labelNames: ['engine'],
      registers,
    });
    this.engineInFlight = new Gauge({
      name: 'trailql_engine_queries_in_flight',
      help: 'Engine queries running right now.',
      labelNames: ['engine'],
      registers,
    });
    const metrics = this;
    type Stats = ReturnType<CacheStatsSource['stats']>;
    /**
     * A counter read from the cache layer's own counters at every scrape. Never lower than what a
     * scrape already saw: the layer may take back a count it made, and a falling counter would
     * read as a restart.
     */
    const cacheCounter = (name: string, help: string, value: (s: Stats) => number) => {
      let seen = 0;
      return new Counter({
        name,
        help,
        registers,
        collect() {
          const s = metrics.cache?.stats();
          seen = Math.max(seen, s ? value(s) : 0);
          this.reset();
          this.inc(seen);
        },
      });
    };
    cacheCounter(
      'trailql_cache_hits_total',
      'Compiled queries answered without running the engine (from the cache store, or shared with an identical query already running).',
      (s) => s.hits + (s.waited ?? 0) + (s.coalesced ?? 0),
    );
    cacheCounter(
      'trailql_cache_misses_total',
      'Compiled queries the cache could not answer, so the engine ran them (requests asking for no cache included).',
      (s) => s.misses + (s.bypassed ?? 0),
    );
    cacheCounter(
      'trailql_cache_errors_total',
      'Cache store operations that failed or timed out, and stored entries rejected as unreadable; each was answered by the engine.',
      (s) => s.errors + (s.invalid ?? 0),
    );
    const responseCounter = (name: string, help: string, value: (s: ResponseCacheStats) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(metrics.responses ? value(metrics.responses.stats()) : 0);
        },
      });
    responseCounter('trailql_response_cache_hits_total', 'GraphQL requests answered whole from the response cache (no parsing, planning or statement lookups).', (s) => s.hits);
    responseCounter('trailql_response_cache_stale_total', 'Kept answers not given because a file they read changed since.', (s) => s.stale);
    responseCounter('trailql_response_cache_stores_total', 'Answers kept in the response cache.', (s) => s.stores);
    new Gauge({
      name: 'trailql_response_cache_bytes',
      help: 'Bytes of the answers the response cache holds.',
      registers,
      collect() {
        this.set(metrics.responses?.stats().bytes ?? 0);
      },
    });
    new Gauge({
      name: 'trailql_cache_up',
      help: 'Whether the cache store is reachable (1) or not (0); backend is memory, redis or off (always 0).',
      labelNames: ['backend'],
      registers,
      collect() {
        const s = metrics.cache?.stats();
        this.reset();
        this.set({ backend: s?.backend ?? 'off' }, s?.connected && s.backend !== 'off' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'trailql_http_requests_in_flight',
      help: 'HTTP requests being served right now (this scrape included).',
      registers,
      collect() {
        this.set(metrics.http?.inFlight ?? 0);
      },
    });
    /** The trail's state, read once per scrape by the metrics below. */
    let health: Promise<TrailHealth | undefined> | undefined;
    const trailHealth = () => (health ??= (metrics.trail?.trailHealth?.() ?? Promise.resolve(undefined)).catch(() => undefined).finally(() => setImmediate(() => (health = undefined))));
    new Gauge({
      name: 'trailql_trail_unreadable_files',
      help: 'Trail files set aside right now because they cannot be read (left out of every answer, which then says complete: false).',
      registers,
      async collect() {
        this.set((await trailHealth())?.unreadable.length ?? 0);
      },
    });
    let found = 0;
    new Counter({
      name: 'trailql_trail_unreadable_files_found_total',
      help: 'Trail files found unreadable since start, each file version (size, modification time) once.',
      registers,
      async collect() {
        found = Math.max(found, (await trailHealth())?.unreadableFound ?? 0);
        this.reset();
        this.inc(found);
      },
    });
    new Gauge({
      name: 'trailql_trail_available',
      help: 'Whether the trail can be read at all (1), or its folder or AWSLogs/ is missing (0); 1 when the engine cannot tell.',
      registers,
      async collect() {
        this.set((await trailHealth())?.available === false ? 0 : 1);
      },
    });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Reads the response cache's counters at every scrape. */
  observeResponses(responses: { stats(): ResponseCacheStats } | undefined): void {
    this.responses = responses;
  }

  /** Reads the cache counters from `cache` at every scrape. */
  observeCache(cache: unknown): void {
    this.cache = hasCacheStats(cache) ? cache : undefined;
  }

  /** Reads the trail's state (unreadable files, availability) from `engine` at every scrape. */
  observeTrail(engine: Pick<Engine, 'trailHealth'>): void {
    this.trail = engine;
  }

  /** Reads the number of HTTP requests in flight from `http` at every scrape. */
  observeHttp(http: { readonly inFlight: number }): void {
    this.http = http;
  }

  /** Records one GraphQL operation. */
  request(operationName: string | null | undefined, outcome: string, seconds: number): void {
    const labels = { operation: this.operations.label(operationName), outcome };
    this.requests.inc(labels);
    this.requestDuration.observe(labels, seconds);
  }

  /**
   * Records a request refused before any operation started (authentication failed, not a GraphQL
   * request): counted with operation "unknown", not timed.
   */
  refused(outcome: string): void {
    this.requests.inc({ operation: 'unknown', outcome });
  }

  /** The text exposition format, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  return new Metrics(options);
}

function engineOutcome(err: unknown, signal: AbortSignal | undefined): EngineOutcome {
  if (err instanceof EngineError && err.options.timeout) return 'timeout';
  if (signal?.aborted) return 'cancelled';
  return 'error';
}

/**
 * An Engine that records every query in the metrics and knows how many are running, so that a
 * shutdown can wait for cancelled queries to settle before the engine is closed.
 */
export class InstrumentedEngine implements Engine {
  private running = 0;
  private readonly waiters = new IdleWaiters();
  /** When (performance.now()) an engine query last succeeded. */
  lastOkAt: number | undefined;

  readonly fingerprint?: Engine['fingerprint'];
  readonly trailHealth?: () => Promise<TrailHealth>;

  constructor(
    readonly inner: Engine,
    readonly metrics: Metrics,
  ) {
    if (inner.fingerprint) this.fingerprint = (query) => inner.fingerprint!(query);
    if (inner.trailHealth) this.trailHealth = () => inner.trailHealth!();
  }

  get name(): string {
    return this.inner.name;
  }
  get capabilities() {
    return this.inner.capabilities;
  }
  get sourceId(): string {
    return this.inner.sourceId;
  }
  get maxConcurrentQueries(): number | undefined {
    return this.inner.maxConcurrentQueries;
  }

  /** Engine queries running right now. */
  get inFlight(): number {
    return this.running;
  }

  async execute(query: CompiledQuery, options?: ExecuteOptions): Promise<EngineResult> {
    const engine = this.inner.name;
    const label = QUERY_LABEL.test(query.label) ? query.label : 'other';
    const started = performance.now();
    this.running += 1;
    this.metrics.engineInFlight.inc({ engine });
    let outcome: EngineOutcome = 'error';
    try {
      const result = await this.inner.execute(query, options);
      outcome = 'ok';
      this.lastOkAt = performance.now();
      const bytes = result.stats.bytesScanned;
      if (Number.isFinite(bytes) && bytes > 0) this.metrics.engineBytes.inc({ engine }, bytes);
      return result;
    } catch (err) {
      outcome = engineOutcome(err, options?.signal);
      throw err;
    } finally {
      this.metrics.engineDuration.observe({ engine }, (performance.now() - started) / 1000);
      this.metrics.engineQueries.inc({ engine, label, outcome });
      this.metrics.engineInFlight.dec({ engine });
      this.running -= 1;
      if (this.running === 0) this.waiters.wake();
    }
  }

  /** Resolves true once no query is running, or false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    return this.waiters.wait(this.running === 0, timeoutMs);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Wraps `engine` so its queries are counted once; an engine already wrapped for `metrics` is returned as it is. */
export function instrumentEngine(engine: Engine, metrics: Metrics): InstrumentedEngine {
  if (engine instanceof InstrumentedEngine && engine.metrics === metrics) return engine;
  metrics.engineInFlight.set({ engine: engine.name }, 0);
  return new InstrumentedEngine(engine, metrics);
}
