import { CompiledQuery, Engine, Row, UnreadableFile } from '../engines/engine';
import { TooComplexError } from '../errors';
import type { ScanBudget } from './scan-budget';

/** One line of the cost report a response carries in `extensions.cost`. */
export interface QueryReport {
  readonly label: string;
  readonly engine: string;
  readonly cached: boolean;
  readonly rows: number;
  readonly bytesScanned: number;
  readonly engineMs: number;
  readonly files?: number;
  readonly queryId?: string;
  /** Files left out because they could not be read: the rows are incomplete (never cached as complete). */
  readonly unreadable?: readonly UnreadableFile[];
}

/** The files a request's queries left out, each once, by path. */
export function unreadableFiles(reports: readonly QueryReport[]): UnreadableFile[] {
  const byPath = new Map<string, UnreadableFile>();
  for (const r of reports) for (const f of r.unreadable ?? []) if (!byPath.has(f.path)) byPath.set(f.path, { path: f.path, reason: f.reason });
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** What a request's queries cost in all: cache hits read no bytes and spend no engine time. */
export function costTotals(reports: readonly QueryReport[]) {
  const engine = reports.filter((r) => !r.cached);
  return {
    queries: reports.length,
    engineQueries: engine.length,
    cacheHits: reports.length - engine.length,
    rows: reports.reduce((a, r) => a + r.rows, 0),
    bytesScanned: engine.reduce((a, r) => a + r.bytesScanned, 0),
    engineMs: engine.reduce((a, r) => a + r.engineMs, 0),
  };
}

/** Per-call options of a cache lookup. */
export interface CacheRunOptions {
  /** Skip the lookup and run the engine (the fresh answer still replaces the stored one). */
  readonly noCache?: boolean;
  /** The request's abort signal: an abandoned request's query is not shared with the others. */
  readonly signal?: AbortSignal;
}

/** Answers a compiled query from somewhere cheaper than the engine, when it can. */
export interface QueryCacheLayer {
  run(
    engine: Engine,
    query: CompiledQuery,
    exec: () => Promise<{ rows: Row[]; report: QueryReport }>,
    options?: CacheRunOptions,
  ): Promise<{ rows: Row[]; report: QueryReport }>;
}

/**
 * Runs compiled queries for one GraphQL request: through the cache layer when there is one,
 * recording what each query cost, and cancelling engine work when the request is abandoned.
 */
export class QueryRunner {
  readonly reports: QueryReport[] = [];
  /** Every compiled query this request ran or looked up, in order (tests and debugging). */
  readonly compiled: CompiledQuery[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly options: {
      cache?: QueryCacheLayer;
      signal?: AbortSignal;
      timeoutMs?: number;
      noCache?: boolean;
      budgetMs?: number;
      /** Bytes this request may scan (engines billed by scan); see scan-budget.ts. */
      scanBudget?: ScanBudget;
    } = {},
  ) {}

  /** Engine time (wall clock of engine calls) this request has used. */
  private spentMs = 0;

  async run(query: CompiledQuery): Promise<Row[]> {
    this.compiled.push(query);
    const exec = async () => {
      const remaining = (this.options.budgetMs ?? Infinity) - this.spentMs;
      if (remaining <= 0) throw new TooComplexError('this request used up its engine time budget; ask for less in one request');
      const timeoutMs = Math.min(this.options.timeoutMs ?? Infinity, remaining);
      const scan = this.options.scanBudget;
      scan?.check();
      const signal = scan ? scan.signal(this.options.signal) : this.options.signal;
      const started = performance.now();
      const result = await this.engine
        .execute(query, { signal, timeoutMs: Number.isFinite(timeoutMs) ? timeoutMs : undefined })
        .catch((err: unknown) => {
          throw scan?.exceeded ?? err;
        })
        .finally(() => (this.spentMs += performance.now() - started));
      scan?.charge(result.stats.bytesScanned);
      const report: QueryReport = {
        label: query.label,
        engine: this.engine.name,
        cached: false,
        rows: result.rows.length,
        bytesScanned: result.stats.bytesScanned,
        engineMs: Math.round(result.stats.engineMs),
        ...(result.stats.files ? { files: result.stats.files.length } : {}),
        ...(result.stats.queryId ? { queryId: result.stats.queryId } : {}),
        ...(result.stats.unreadable?.length ? { unreadable: result.stats.unreadable } : {}),
      };
      return { rows: result.rows, report };
    };
    const { rows, report } = this.options.cache
      ? await this.options.cache.run(this.engine, query, exec, { noCache: this.options.noCache, signal: this.options.signal })
      : await exec();
    this.reports.push(report);
    return rows;
  }
}
