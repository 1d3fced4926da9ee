import { CompiledQuery, Engine, RequestScope, Row, UnreadableFile } from './engine';
import { EngineError } from '../errors';
import { Admission, Lane } from './admission';
import { Budget, EngineTimeBudget } from './budget';
import type { ScanBudget } from './scan-budget';

/** How an engine query ended; `not-run`: a preview's statement (`x-trailql-explain`), shown and never run. */
export type QueryOutcome = 'ok' | 'timeout' | 'cancelled' | 'error' | 'not-run';

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
  /** Engine queries: how they ended. A failed query is reported with the time it used and no rows. */
  readonly outcome?: QueryOutcome;
  /** Engine queries: their admission lane and how long they waited for a slot. */
  readonly lane?: Lane;
  readonly queueMs?: number;
  /**
   * Queries cancelled because the request's budget was spent: milliseconds from the cancellation
   * to the query's end. A request's engine time is at most its budget plus these.
   */
  readonly cancelLatencyMs?: number;
  /** Files left out because they could not be read: the rows are incomplete (never cached as complete). */
  readonly unreadable?: readonly UnreadableFile[];
}

/** Stable code of the warning an answer carries when it left out files it could not read. */
export const FILES_UNREADABLE = 'FILES_UNREADABLE';

/** The files a request's queries left out, each once, by path. */
export function unreadableFiles(reports: readonly QueryReport[]): UnreadableFile[] {
  const byPath = new Map<string, UnreadableFile>();
  for (const r of reports) for (const f of r.unreadable ?? []) if (!byPath.has(f.path)) byPath.set(f.path, { path: f.path, reason: f.reason });
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The report of a statement answered without the engine (from a cache): it scanned nothing and
 * spent no engine time; files the answer left out stay named.
 */
export function cachedReport(r: Pick<QueryReport, 'label' | 'engine' | 'rows' | 'unreadable'>): QueryReport {
  return { label: r.label, engine: r.engine, cached: true, rows: r.rows, bytesScanned: 0, engineMs: 0, ...(r.unreadable?.length ? { unreadable: r.unreadable } : {}) };
}

/** The statement went to the engine: neither answered from the cache nor a preview's. */
export const reachedEngine = (r: QueryReport): boolean => !r.cached && r.outcome !== 'not-run';

/** What a request's queries cost in all: cache hits and previews read no bytes and spend no engine time. */
export function costTotals(reports: readonly QueryReport[]) {
  const engine = reports.filter(reachedEngine);
  return {
    queries: reports.length,
    engineQueries: engine.length,
    cacheHits: reports.filter((r) => r.cached).length,
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
  /** Whose answers these are: answers kept under one partition are given under it only (undefined: shared). */
  readonly partition?: string;
}

/**
 * An answer that may be given again without asking anything: complete, over a window that had
 * ended when it was made. Until `ttlMs` has passed it can only change through new files, which
 * change the engine's `fingerprint` of the query (when the engine gives one).
 */
export interface AnswerReuse {
  readonly ttlMs: number;
  readonly fingerprint?: string;
}

/** Answers a compiled query from somewhere cheaper than the engine, when it can. */
export interface QueryCacheLayer {
  /** Answers are kept (a store is configured): the same statement asked again is not run again. */
  readonly keeps?: boolean;
  run(
    engine: Engine,
    query: CompiledQuery,
    exec: () => Promise<{ rows: Row[]; report: QueryReport }>,
    options?: CacheRunOptions,
  ): Promise<{ rows: Row[]; report: QueryReport; reuse?: AnswerReuse }>;
}

/** What a whole response depends on when each of its queries' answers may be reused. */
export interface ResponseReuse {
  readonly ttlMs: number;
  readonly dependencies: readonly { readonly query: CompiledQuery; readonly fingerprint?: string }[];
}

/** What a request's engine queries may use in all (REQUEST_ENGINE_BUDGET_MS, ...), with its state. */
export interface BudgetReport {
  readonly resource: string;
  readonly limit: number;
  readonly spent: number;
  readonly exhausted: boolean;
}

export interface RunnerOptions {
  readonly cache?: QueryCacheLayer;
  /** The request's signal: aborted when the client goes away or the service shuts down. */
  readonly signal?: AbortSignal;
  /** Longest one engine query may run (ENGINE_TIMEOUT_MS). */
  readonly timeoutMs?: number;
  readonly noCache?: boolean;
  /** The request already ran engine queries under another runner (a download's later page): its queries go ahead of new requests'. */
  readonly continuing?: boolean;
  /** The cache partition of the request's answers (CacheRunOptions.partition). */
  readonly cachePartition?: string;
  /** Engine time the whole request may use (REQUEST_ENGINE_BUDGET_MS), across parallel queries. */
  readonly budgetMs?: number;
  /**
   * What the request spent under its earlier runners (a download's earlier pages): its budgets go
   * on from there instead of starting anew (`budgetMs` and `scanBudget` are then not used).
   */
  readonly spentSoFar?: RequestSpending;
  /** Slots for engine queries, shared by every request. */
  readonly admission?: Admission;
  /**
   * Bytes this request may scan (engines billed by scan; see scan-budget.ts). Checked as each query
   * finishes, since engines report bytes only then; spending it cancels the request's other queries.
   */
  readonly scanBudget?: ScanBudget;
}

/** A request's budgets, carried from one of its runners to the next. */
export interface RequestSpending {
  readonly budgets: Budget[];
  readonly scanBudget?: ScanBudget;
}

function outcomeOf(err: unknown, signal: AbortSignal | undefined): QueryOutcome {
  if (err instanceof EngineError && err.options.timeout) return 'timeout';
  return signal?.aborted ? 'cancelled' : 'error';
}

/**
 * Runs compiled queries for one GraphQL request: through the cache layer when there is one, each
 * engine query after a slot from admission control, within the request's budgets, recording what
 * every query cost (failed, timed-out and cancelled ones too), and cancelling engine work when the
 * request is abandoned or a budget is spent.
 */
export class QueryRunner {
  readonly reports: QueryReport[] = [];
  /** Every compiled query this request ran or looked up, in order (tests and debugging). */
  readonly compiled: CompiledQuery[] = [];
  /**
   * The request's budgets. Each is reserved before a query runs, charged when it ends, and cancels
   * the queries running when it is spent (budget.ts); another resource is one more entry here.
   */
  readonly budgets: Budget[];
  /** Bytes the request may still scan (RunnerOptions.scanBudget). */
  private readonly scanBudget: ScanBudget | undefined;
  /**
   * Aborted when one of the request's budgets is spent. Budgets may outlive the runner (a
   * download's pages): its queries hang on this signal, which follows theirs through listeners
   * removed when the runner finishes, so nothing of a page stays registered with them.
   */
  private readonly budgetSpent = new AbortController();
  private readonly unfollow: (() => void)[] = [];
  /** What the request's engine queries share; closed by `finish()` once they have all ended. */
  private readonly scope = new RequestScope();
  /** Aborted by `finish()`: queries still running once the response is decided are not needed. */
  private readonly done = new AbortController();
  private finished = false;
  private readonly signal: AbortSignal;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly reusable: { query: CompiledQuery; reuse: AnswerReuse }[] = [];
  /** Some query's answer may not be reused (no cache, a bypass, an open window, a failure). */
  private notReusable = false;
  /** A query of this request was given an engine slot: its later ones go ahead of new requests'. */
  private admitted = false;

  constructor(
    private readonly engine: Engine,
    private readonly options: RunnerOptions = {},
  ) {
    this.budgets = options.spentSoFar?.budgets ?? (options.budgetMs !== undefined ? [new EngineTimeBudget(options.budgetMs)] : []);
    this.scanBudget = options.spentSoFar ? options.spentSoFar.scanBudget : options.scanBudget;
    for (const spent of [...this.budgets.map((b) => b.exhausted), ...(this.scanBudget ? [this.scanBudget.spent] : [])]) this.follow(spent);
    this.admitted = options.continuing === true;
    this.signal = options.signal ? AbortSignal.any([options.signal, this.done.signal]) : this.done.signal;
  }

  /**
   * The response is decided (GraphQL may answer before every field settled, e.g. when a non-null
   * field failed): cancels the engine queries still running or queued and waits for them, so the
   * cost report lists them too.
   */
  async finish(): Promise<void> {
    this.finished = true;
    // Aborting builds an error and walks every signal made from this one: only when there is work to stop.
    if (this.pending.size > 0) this.done.abort();
    await Promise.allSettled([...this.pending]);
    await this.scope.close();
    for (const stop of this.unfollow.splice(0)) stop();
  }

  private follow(spent: AbortSignal): void {
    if (spent.aborted) return void this.budgetSpent.abort(spent.reason);
    const stop = () => this.budgetSpent.abort(spent.reason);
    spent.addEventListener('abort', stop, { once: true });
    this.unfollow.push(() => spent.removeEventListener('abort', stop));
  }

  /** The request's budgets as spent so far, for its next runner (RunnerOptions.spentSoFar). */
  get spending(): RequestSpending {
    return { budgets: this.budgets, ...(this.scanBudget ? { scanBudget: this.scanBudget } : {}) };
  }

  /** Answers of this request's statements are kept for the next ones (a bypass still keeps its fresh answers). */
  get keepsAnswers(): boolean {
    return this.options.cache?.keeps === true;
  }

  budgetReport(): BudgetReport[] {
    return this.budgets.map((b) => ({ resource: b.resource, limit: b.limit, spent: Math.round(b.spent), exhausted: b.exhausted.aborted }));
  }

  private exec(query: CompiledQuery): Promise<{ rows: Row[]; report: QueryReport }> {
    // A query reaching the engine after the response was decided starts cancelled, as it would have.
    if (this.finished && !this.done.signal.aborted) this.done.abort();
    const running = this.execute(query);
    this.pending.add(running);
    void running.finally(() => this.pending.delete(running)).catch(() => undefined);
    return running;
  }

  private async execute(query: CompiledQuery): Promise<{ rows: Row[]; report: QueryReport }> {
    // A budget the request already spent (a download's earlier page) refuses before any wait for a slot.
    for (const b of this.budgets) if (b.exhausted.aborted) throw b.error();
    this.scanBudget?.check();
    const slot = await this.options.admission?.acquire(query, this.signal, this.admitted);
    if (slot) this.admitted = true;
    try {
      const scan = this.scanBudget;
      scan?.check();
      const leases = this.budgets.map((b) => b.reserve());
      const signal = AbortSignal.any([this.signal, this.budgetSpent.signal]);
      const started = performance.now();
      const base = {
        label: query.label,
        engine: this.engine.name,
        cached: false,
        ...(slot ? { lane: slot.lane, queueMs: Math.round(slot.waitedMs) } : {}),
      };
      try {
        const result = await this.engine.execute(query, { signal, timeoutMs: this.options.timeoutMs, scope: this.scope, fresh: this.options.noCache });
        const engineMs = performance.now() - started;
        for (const lease of leases) lease.charge({ engineMs, bytesScanned: result.stats.bytesScanned });
        // Past the budget, the rest of the request is cancelled; the request is refused once this
        // statement's answer is handed back (runReported): requests sharing it have their rows.
        scan?.add(result.stats.bytesScanned);
        const report: QueryReport = {
          ...base,
          outcome: result.stats.notRun ? 'not-run' : 'ok',
          rows: result.rows.length,
          bytesScanned: result.stats.bytesScanned,
          engineMs: Math.round(result.stats.engineMs),
          ...(result.stats.files ? { files: result.stats.files.length } : {}),
          ...(result.stats.queryId ? { queryId: result.stats.queryId } : {}),
          ...(result.stats.unreadable?.length ? { unreadable: result.stats.unreadable } : {}),
        };
        return { rows: result.rows, report };
      } catch (err) {
        const engineMs = performance.now() - started;
        // A query that failed or was cancelled is billed for what it had scanned, when the engine says.
        const bytesScanned = scannedBy(err);
        for (const lease of leases) lease.charge({ engineMs, bytesScanned });
        // Counted toward the request's budget; the query's own error is the one the request gets.
        const spentBefore = scan?.exceeded;
        scan?.add(bytesScanned);
        const spent = this.budgets.find((b) => b.exhausted.aborted);
        const outcome = spent ? 'cancelled' : outcomeOf(err, this.signal);
        const queryId = err instanceof EngineError ? err.options.queryId : undefined;
        const cancelLatencyMs = spent?.cancelledAt !== undefined ? Math.max(0, Math.round(performance.now() - spent.cancelledAt)) : undefined;
        this.reports.push({
          ...base,
          outcome,
          rows: 0,
          bytesScanned,
          engineMs: Math.round(engineMs),
          ...(cancelLatencyMs !== undefined ? { cancelLatencyMs } : {}),
          ...(queryId ? { queryId } : {}),
        });
        if (spent && !this.signal.aborted) throw spent.error();
        throw spentBefore ?? err;
      }
    } finally {
      slot?.release();
    }
  }

  /** The operation asks for what one statement answers (RequestScope.expectOneStatement). */
  expectOneStatement(): void {
    this.scope.expectOneStatement();
  }

  async run(query: CompiledQuery): Promise<Row[]> {
    return (await this.runReported(query)).rows;
  }

  /** As `run`, with what the statement's answer says of itself (the files it left out). */
  async runReported(query: CompiledQuery): Promise<{ rows: Row[]; report: QueryReport }> {
    this.compiled.push(query);
    const exec = () => this.exec(query);
    const ended = this.scope.statementStarted();
    try {
      const { rows, report, reuse }: { rows: Row[]; report: QueryReport; reuse?: AnswerReuse } = this.options.cache
        ? await this.options.cache.run(this.engine, query, exec, { noCache: this.options.noCache, signal: this.signal, partition: this.options.cachePartition })
        : await exec();
      this.reports.push(report);
      if (reuse && !this.options.noCache) this.reusable.push({ query, reuse });
      else this.notReusable = true;
      // This request's scan budget, spent by this statement or another.
      this.scanBudget?.check();
      return { rows, report };
    } catch (err) {
      this.notReusable = true;
      throw err;
    } finally {
      ended();
    }
  }

  /**
   * A page cut from the list an earlier request of its walk read (src/query/walks.ts): reported as
   * that statement answered from where it was kept, with the files it left out, so the answer says
   * what it read. Never given again as a whole response: the list is the walk's, not the request's.
   */
  answeredFromWalk(query: CompiledQuery, rows: number, unreadable: QueryReport['unreadable']): void {
    this.compiled.push(query);
    this.reports.push(cachedReport({ label: query.label, engine: this.engine.name, rows, unreadable }));
    this.notReusable = true;
  }

  /**
   * The answer depends on when it was asked (a window that ends "now"): the same request asked
   * later is another question, so this answer is never given again.
   */
  dependsOnClock(): void {
    this.notReusable = true;
  }

  /**
   * When every query this request asked (at least one) gave an answer that may be reused: the
   * shortest of their lifetimes and what each depends on. Undefined otherwise.
   */
  reuse(): ResponseReuse | undefined {
    if (this.notReusable || this.reusable.length === 0) return undefined;
    return {
      ttlMs: Math.min(...this.reusable.map((r) => r.reuse.ttlMs)),
      dependencies: this.reusable.map(({ query, reuse }) => ({ query, ...(reuse.fingerprint === undefined ? {} : { fingerprint: reuse.fingerprint }) })),
    };
  }
}

/** What a failed query had scanned: an engine error's count, or an error that carries its own (Athena's scan cutoff). */
function scannedBy(err: unknown): number {
  const bytes = err instanceof EngineError ? err.options.bytesScanned : (err as { bytesScanned?: unknown } | null)?.bytesScanned;
  return typeof bytes === 'number' && Number.isFinite(bytes) && bytes > 0 ? bytes : 0;
}
