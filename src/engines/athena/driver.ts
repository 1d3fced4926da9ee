import { randomUUID } from 'node:crypto';
import {
  AthenaClient,
  type AthenaClientConfig,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetTableMetadataCommand,
  GetWorkGroupCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type ColumnInfo,
  type QueryExecution,
  type StartQueryExecutionCommandInput,
  type StartQueryExecutionCommandOutput,
  type TableMetadata,
} from '@aws-sdk/client-athena';
import { isServerError, isTransientError } from '@smithy/core/retry';
import { windowBoundMs } from '../../query/engine';
import type {
  CompiledQuery,
  Engine,
  EngineCapabilities,
  EngineResult,
  EngineStats,
  ExecuteOptions,
  Row,
  TrailHealth,
} from '../../query/engine';
import type { Logger } from '../../logger';
import { BadInputError, EngineError, TooComplexError } from '../../errors';
import {
  DEFAULT_CATALOG,
  DEFAULT_MAX_RETRIES,
  DEFAULT_POLL_INITIAL_MS,
  DEFAULT_POLL_MAX_MS,
  DEFAULT_QUERY_TIMEOUT_MS,
  isOrganizationTrail,
  normalisePrefix,
  type AthenaSettings,
} from './settings';
import { checkStatementSize, decodeRow, encodeExecutionParameter, reusableStatement } from './statement';
import { MAX_SET_ASIDE_PER_QUERY, SetAsideObjects, unreadableObjectOf } from './unreadable-objects';

export { MAX_STATEMENT_BYTES, checkStatementSize, decodeAthenaValue, encodeExecutionParameter, reusableStatement } from './statement';

const ENGINE = 'athena';
/** Rows per GetQueryResults page (Athena's maximum). */
export const RESULT_PAGE_SIZE = 1_000;
const POLL_FACTOR = 1.5;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Test and tuning hooks. Everything has a production default; tests inject an instant `sleep`
 * and a fixed `random` to run retries and polling without real waiting.
 */
export interface AthenaEngineOptions {
  /**
   * Waits `ms` milliseconds. Must resolve early (not reject) as soon as `signal` aborts; the
   * driver checks the signal after every wait.
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform random number in [0, 1) for retry jitter. */
  random?: () => number;
  /** Idempotency token for StartQueryExecution (kept across retries of one start). */
  clientRequestToken?: () => string;
  /** Base of the full-jitter backoff for throttled calls (default 200 ms). */
  retryBaseMs?: number;
  /** Cap of one backoff wait (default 10,000 ms). */
  retryMaxMs?: number;
  /**
   * How long after a window ends its answer is complete (late deliveries landed): Athena is let
   * reuse a kept result only for a window that ended this long ago (default: one day).
   */
  deliveryLagMs?: number;
  /** The clock that lag is measured on. */
  now?: () => Date;
  /** Where each object set aside as unreadable is logged, once each time it is found. */
  logger?: Pick<Logger, 'warn'>;
}

/** What a statement run without fetching rows (DDL) reports. */
export interface StatementResult {
  readonly queryId: string;
  readonly stats: EngineStats;
  /** Athena's statement type: `DDL`, `DML` or `UTILITY`. */
  readonly statementType?: string;
}

/** Options of {@link AthenaEngine.runStatement}. */
export interface StatementOptions extends ExecuteOptions {
  /**
   * Database to run in; defaults to the configured one. `null` sends no database, for statements
   * that must not depend on it existing (`CREATE DATABASE`).
   */
  readonly database?: string | null;
}

/**
 * The Athena client the driver makes for itself. Its own retries are off (`maxAttempts: 1`): the
 * driver retries failed calls itself (see `withRetry`, which classifies them as the SDK's retry
 * strategy does), and two layers multiply (the SDK's default 3 attempts under the driver's 6 made
 * up to 18 calls per logical call with the default 5 retries). The driver's loop is the one kept
 * because it sees the request's abort signal and deadline between attempts, keeps one
 * ClientRequestToken across retries of a start, and counts attempts in one place. A call that
 * gets no answer is given up after CALL_TIMEOUT_MS, and retried.
 */
export function createAthenaClient(region: string, extra: Omit<AthenaClientConfig, 'region' | 'maxAttempts'> = {}): AthenaClient {
  return new AthenaClient({ requestHandler: { requestTimeout: CALL_TIMEOUT_MS, connectionTimeout: CONNECT_TIMEOUT_MS }, ...extra, region, maxAttempts: 1 });
}

/** How long one call to Athena may wait for its answer, and for its connection. */
const CALL_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 5_000;

/** Polls that must see a failure Athena marks Retryable before it is taken as final. */
const FAILED_POLLS_BEFORE_FINAL = 3;

/** Raised inside the driver when the deadline's signal fires; mapped to an EngineError at the edge. */
class Aborted extends Error {}

interface ServiceErrorLike {
  name?: string;
  message?: string;
  $fault?: string;
  $retryable?: { throttling?: boolean };
}

function asServiceError(err: unknown): ServiceErrorLike {
  return typeof err === 'object' && err !== null ? (err as ServiceErrorLike) : {};
}

const THROTTLING_NAMES = new Set(['ThrottlingException', 'TooManyRequestsException', 'Throttling', 'RequestLimitExceeded']);

/** Whether an SDK error means "slow down": by name, or by the SDK's throttling metadata. */
export function isThrottlingError(err: unknown): boolean {
  const e = asServiceError(err);
  return (e.name !== undefined && THROTTLING_NAMES.has(e.name)) || e.$retryable?.throttling === true;
}

/**
 * Whether a failed call may succeed when sent again: throttled, or transient or a server fault as
 * the SDK's own retry strategy classifies them (a connection reset or refused, a timeout, a 5xx).
 * Every call the driver makes is safe to repeat: a start keeps its ClientRequestToken.
 */
export function isRetryableError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || err instanceof Aborted) return false;
  const e = err as Parameters<typeof isTransientError>[0];
  return isThrottlingError(err) || isTransientError(e) || isServerError(e) || asServiceError(err).$fault === 'server';
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Settles with `promise`, or rejects with {@link Aborted} as soon as `signal` aborts. */
function raceAbort<T>(pending: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  const promise = Promise.resolve(pending);
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(new Aborted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** The caller's signal and the time limit folded into one signal, remembering which fired. */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private timedOutFlag = false;
  private readonly onOuterAbort = (): void => this.controller.abort(this.outer?.reason);

  constructor(
    private readonly outer: AbortSignal | undefined,
    readonly timeoutMs: number,
  ) {
    if (outer?.aborted) this.controller.abort(outer.reason);
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    this.timer = setTimeout(() => {
      this.timedOutFlag = true;
      this.controller.abort(new Error(`time limit of ${timeoutMs} ms reached`));
    }, timeoutMs);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True when the time limit fired, or the caller aborted with a `TimeoutError` reason. */
  get timedOut(): boolean {
    if (this.timedOutFlag) return true;
    const reason: unknown = this.outer?.reason;
    const isTimeoutReason = typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
    return this.outer?.aborted === true && isTimeoutReason;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }
}

/** AthenaError.ErrorCategory (Athena's error catalog): what the failure is blamed on. */
const ERROR_CATEGORY: Record<number, string> = { 1: 'system', 2: 'user', 3: 'other' };

/**
 * The Amazon Athena engine. Submits with StartQueryExecution (parameters as
 * `ExecutionParameters`), polls GetQueryExecution with exponential backoff, pages
 * GetQueryResults and decodes rows by column type. Throttled calls are retried with full-jitter
 * backoff; an aborted or timed-out query is stopped with StopQueryExecution. Every failure leaves
 * as an {@link EngineError} (a too-long parameter as a {@link BadInputError}, before anything is
 * sent).
 */
export class AthenaEngine implements Engine {
  readonly name = ENGINE;
  readonly capabilities: EngineCapabilities = { billedByScan: true, cancellable: true };
  /** `athena:<catalog>.<database>.<table>@s3://<bucket>/<prefix>` */
  readonly sourceId: string;

  private readonly client: AthenaClient;
  private readonly catalog: string;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly token: () => string;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly deliveryLagMs: number;
  private readonly now: () => Date;
  private readonly logger: Pick<Logger, 'warn'> | undefined;
  /** `s3://<bucket>/<prefix>`: objects under its `AWSLogs/` are the trail's. */
  private readonly trailRoot: string;
  private readonly setAside: SetAsideObjects;

  /**
   * @param settings where and how to run (see {@link AthenaSettings})
   * @param client an Athena client; by default {@link createAthenaClient} for `settings.region`
   *   with the default credential chain (an injected client should also have `maxAttempts: 1`)
   * @param options test and tuning hooks
   */
  constructor(
    private readonly settings: AthenaSettings,
    client?: AthenaClient,
    options: AthenaEngineOptions = {},
  ) {
    this.client = client ?? createAthenaClient(settings.region);
    this.catalog = settings.catalog ?? DEFAULT_CATALOG;
    this.trailRoot = `s3://${settings.bucket}/${normalisePrefix(settings.prefix)}`;
    this.sourceId = `athena:${this.catalog}.${settings.database}.${settings.table}@${this.trailRoot}`;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.token = options.clientRequestToken ?? randomUUID;
    this.retryBaseMs = options.retryBaseMs ?? 200;
    this.retryMaxMs = options.retryMaxMs ?? 10_000;
    this.deliveryLagMs = options.deliveryLagMs ?? 86_400_000;
    this.now = options.now ?? (() => new Date());
    this.logger = options.logger;
    this.setAside = new SetAsideObjects(this.now, isOrganizationTrail(settings));
  }

  /**
   * Runs `query` without the trail objects set aside as unreadable within its partitions; when it
   * fails on an object of the trail it could not read, sets that one aside and runs it again
   * without it (unreadable-objects.ts), up to MAX_SET_ASIDE_PER_QUERY objects. The answer names
   * every object it left out; the tries that failed are billed, and counted in its bytes scanned.
   */
  async execute(query: CompiledQuery, options: ExecuteOptions = {}): Promise<EngineResult> {
    const spent = { engineMs: 0, bytesScanned: 0 };
    // One time limit for the statement, however many tries it takes.
    const end = performance.now() + (options.timeoutMs ?? this.settings.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS);
    for (let found = 0; ; ) {
      const leftOut = query.excluding ? this.setAside.within(query.partitions) : [];
      try {
        const q = leftOut.length ? query.excluding!(leftOut.map((o) => o.uri)) : query;
        const result = await this.executeOnce(q, { ...options, timeoutMs: Math.max(1, Math.round(end - performance.now())) });
        const stats: EngineStats = {
          ...result.stats,
          engineMs: result.stats.engineMs + spent.engineMs,
          bytesScanned: result.stats.bytesScanned + spent.bytesScanned,
          ...(leftOut.length ? { unreadable: leftOut.map(({ path, reason }) => ({ path, reason })) } : {}),
        };
        return { rows: result.rows, stats };
      } catch (err) {
        const failed = err instanceof AthenaQueryFailed ? err : undefined;
        // A failure Athena says may pass on its own is no damaged object.
        const object = failed && query.excluding && !failed.options.retryable ? unreadableObjectOf(failed.reason, this.trailRoot) : undefined;
        if (!failed || !object || leftOut.some((o) => o.uri === object.uri) || found >= MAX_SET_ASIDE_PER_QUERY) throw withEarlierBytes(err, spent.bytesScanned);
        found += 1;
        spent.engineMs += failed.engineMs;
        spent.bytesScanned += failed.options.bytesScanned ?? 0;
        if (this.setAside.add(object)) {
          this.logger?.warn({ file: object.path, reason: object.reason, queryId: failed.options.queryId }, 'trail file unreadable: left out of answers for an hour');
        }
        // Asked again only if that leaves the object out: otherwise it fails again, billed.
        if (!this.setAside.within(query.partitions).some((o) => o.uri === object.uri)) throw withEarlierBytes(err, spent.bytesScanned - (failed.options.bytesScanned ?? 0));
      }
    }
  }

  /** Objects set aside now (each for RECHECK_MS): for readiness and the `trailHealth` query. */
  async trailHealth(): Promise<TrailHealth> {
    return this.setAside.health();
  }

  private async executeOnce(query: CompiledQuery, options: ExecuteOptions): Promise<EngineResult> {
    const parameters = query.params.map(encodeExecutionParameter);
    // A request for fresh answers (`x-trailql-no-cache`) takes no result Athena kept either.
    // Nor a window that has not ended a delivery lag ago: a kept result of it may miss late files.
    const ended = windowBoundMs(query.window.to) <= this.now().getTime() - this.deliveryLagMs;
    const reuse = !options.fresh && ended && (this.settings.resultReuseMaxAgeMinutes ?? 0) > 0;
    const sql = reuse ? reusableStatement(query.sql, parameters) : query.sql;
    checkStatementSize(sql);
    return this.run(sql, parameters, this.settings.database, options, true, reuse);
  }

  /**
   * Runs a statement without parameters and without fetching rows (DDL: `CREATE DATABASE`,
   * `CREATE EXTERNAL TABLE`, `DROP TABLE`), through the same start/poll/stop path as
   * {@link execute}.
   */
  async runStatement(sql: string, options: StatementOptions = {}): Promise<StatementResult> {
    const database = options.database === undefined ? this.settings.database : options.database;
    checkStatementSize(sql);
    const result = await this.run(sql, [], database, options, false, false);
    return { queryId: result.stats.queryId ?? '', stats: result.stats, statementType: result.statementType };
  }

  /**
   * The configured table's metadata from the catalog (columns, partition keys, table
   * properties), or `undefined` when the table does not exist.
   */
  async getTableMetadata(): Promise<TableMetadata | undefined> {
    try {
      const out = await this.withRetry('GetTableMetadata', () =>
        this.client.send(
          new GetTableMetadataCommand({
            CatalogName: this.catalog,
            DatabaseName: this.settings.database,
            TableName: this.settings.table,
          }),
        ),
      );
      return out.TableMetadata;
    } catch (err) {
      const e = asServiceError(err instanceof EngineError && err.options.cause !== undefined ? err.options.cause : err);
      if (
        (e.name === 'MetadataException' || e.name === 'ResourceNotFoundException' || e.name === 'InvalidRequestException') &&
        /entity ?not ?found|not found|does not exist/i.test(e.message ?? '')
      ) {
        return undefined;
      }
      throw err;
    }
  }

  /** The workgroup's BytesScannedCutoffPerQuery (undefined: none, or it cannot be read), asked once. */
  private cutoff: Promise<number | undefined> | undefined;

  private perQueryCutoff(): Promise<number | undefined> {
    this.cutoff ??= (async () => {
      try {
        const out = await this.client.send(new GetWorkGroupCommand({ WorkGroup: this.settings.workGroup }));
        return out?.WorkGroup?.Configuration?.BytesScannedCutoffPerQuery ?? undefined;
      } catch {
        // Asked again at the next cancellation.
        this.cutoff = undefined;
        return undefined;
      }
    })();
    return this.cutoff;
  }

  /** GetWorkGroup: proves credentials, region and workgroup; fails when the workgroup is disabled. */
  async ping(): Promise<void> {
    const out = await this.withRetry('GetWorkGroup', () =>
      this.client.send(new GetWorkGroupCommand({ WorkGroup: this.settings.workGroup })),
    );
    if (out.WorkGroup?.State === 'DISABLED') throw new EngineError(`Athena workgroup ${this.settings.workGroup} is disabled`, ENGINE);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private async run(
    sql: string,
    parameters: string[],
    database: string | null,
    options: ExecuteOptions,
    fetchRows: boolean,
    /** Athena may answer with a result it kept (ATHENA_RESULT_REUSE_MINUTES). */
    reusable: boolean,
  ): Promise<EngineResult & { statementType?: string }> {
    const deadline = new Deadline(options.signal, options.timeoutMs ?? this.settings.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS);
    let queryId: string | undefined;
    let finished = false;
    try {
      if (deadline.signal.aborted) throw new Aborted();
      queryId = await this.start(sql, parameters, database, reusable, deadline.signal);
      if (deadline.signal.aborted) throw new Aborted();
      const execution = await this.waitForCompletion(queryId, deadline.signal, () => (finished = true));
      const statistics = execution.Statistics;
      const stats: EngineStats = {
        engineMs: statistics?.EngineExecutionTimeInMillis ?? 0,
        bytesScanned: statistics?.DataScannedInBytes ?? 0,
        queryId,
      };
      // SELECTs (DML) carry a header row; SHOW/DESCRIBE (UTILITY) and DDL results do not.
      const hasHeader = execution.StatementType !== 'UTILITY' && execution.StatementType !== 'DDL';
      const rows = fetchRows ? await this.fetchRows(queryId, hasHeader, deadline.signal) : [];
      return { rows, stats, statementType: execution.StatementType };
    } catch (err) {
      // Whatever ended the wait (an abort, a call that kept failing), a query still running is
      // stopped: it would scan, and bill, for nobody.
      if (queryId !== undefined && !finished) await this.stopQuietly(queryId);
      if (deadline.signal.aborted) throw this.abortError(deadline, queryId, err);
      if (err instanceof EngineError) {
        if (queryId === undefined || err.options.queryId !== undefined) throw err;
        throw new EngineError(err.message, ENGINE, { ...err.options, queryId });
      }
      if (err instanceof BadInputError || err instanceof TooComplexError) throw err;
      throw this.sdkError('query', err, queryId);
    } finally {
      deadline.dispose();
    }
  }

  private async start(
    sql: string,
    parameters: string[],
    database: string | null,
    /** A SELECT whose answer may be a result Athena kept (not a statement, not a fresh ask, an ended window). */
    reusable: boolean,
    signal: AbortSignal,
  ): Promise<string> {
    const input: StartQueryExecutionCommandInput = {
      QueryString: sql,
      ClientRequestToken: this.token(),
      QueryExecutionContext: database === null ? { Catalog: this.catalog } : { Catalog: this.catalog, Database: database },
      WorkGroup: this.settings.workGroup,
    };
    if (this.settings.outputLocation) input.ResultConfiguration = { OutputLocation: this.settings.outputLocation };
    if (parameters.length > 0) input.ExecutionParameters = parameters;
    // Result reuse applies to SELECTs only; statements (DDL) and fresh asks always run.
    const reuse = reusable ? (this.settings.resultReuseMaxAgeMinutes ?? 0) : 0;
    if (reuse > 0) input.ResultReuseConfiguration = { ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: reuse } };
    // The start call itself is not cancelled on abort: once sent, Athena may have started the query,
    // and only its id lets it be stopped. The wait for it ends with the request all the same, and a
    // query that starts after is stopped then.
    const send = (): Promise<StartQueryExecutionCommandOutput> => this.client.send(new StartQueryExecutionCommand(input));
    const starting = this.withRetry('StartQueryExecution', send, signal, false);
    const out = await raceAbort(starting, signal).catch((err: unknown) => {
      if (signal.aborted) {
        starting.then(
          (late) => (late.QueryExecutionId ? this.stopQuietly(late.QueryExecutionId) : undefined),
          () => undefined,
        );
      }
      throw err;
    });
    if (!out.QueryExecutionId) throw new EngineError('Athena StartQueryExecution returned no QueryExecutionId', ENGINE);
    return out.QueryExecutionId;
  }

  /**
   * Polls until the query ends; `ended` is called once it has (succeeded, failed or cancelled). A
   * failure Athena marks Retryable is final only once seen FAILED_POLLS_BEFORE_FINAL times: Athena
   * retries such queries itself, and they go back to QUEUED.
   */
  private async waitForCompletion(queryId: string, signal: AbortSignal, ended: () => void): Promise<QueryExecution> {
    let delay = this.settings.pollInitialMs ?? DEFAULT_POLL_INITIAL_MS;
    const maxDelay = this.settings.pollMaxMs ?? DEFAULT_POLL_MAX_MS;
    let retryableFailures = 0;
    for (;;) {
      const out = await this.withRetry(
        'GetQueryExecution',
        () => this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }), { abortSignal: signal }),
        signal,
      );
      const execution = out.QueryExecution ?? {};
      const status = execution.Status;
      switch (status?.State) {
        case 'SUCCEEDED':
          ended();
          return execution;
        case 'FAILED': {
          const error = status.AthenaError;
          if (error?.Retryable === true && ++retryableFailures < FAILED_POLLS_BEFORE_FINAL) break;
          ended();
          const category = error?.ErrorCategory ?? 3;
          const reason = status.StateChangeReason ?? error?.ErrorMessage ?? 'no reason given';
          throw new AthenaQueryFailed(
            `Athena query ${queryId} failed (${ERROR_CATEGORY[category] ?? `category ${category}`} error` +
              `${error?.ErrorType !== undefined ? `, type ${error.ErrorType}` : ''}): ${reason}`,
            reason,
            execution.Statistics?.EngineExecutionTimeInMillis ?? 0,
            { userError: category === 2, retryable: error?.Retryable === true, queryId, ...scannedOf(execution) },
          );
        }
        case 'CANCELLED': {
          ended();
          // The workgroup's per-query scan limit cancels a statement that reaches it: the question
          // was too large for the table's limit, not a fault of the service.
          const cutoff = await this.perQueryCutoff();
          const scanned = execution.Statistics?.DataScannedInBytes;
          if (cutoff !== undefined && scanned !== undefined && scanned >= cutoff) throw new ScanCutoffError(cutoff, queryId, scanned);
          throw new EngineError(
            `Athena query ${queryId} was cancelled outside this request` +
              (status.StateChangeReason ? `: ${status.StateChangeReason}` : ''),
            ENGINE,
            { queryId, ...scannedOf(execution) },
          );
        }
        default:
        // QUEUED, RUNNING, or no state reported yet: keep polling.
      }
      await this.sleep(delay, signal);
      if (signal.aborted) throw new Aborted();
      delay = Math.min(maxDelay, Math.ceil(delay * POLL_FACTOR));
    }
  }

  private async fetchRows(queryId: string, hasHeader: boolean, signal: AbortSignal): Promise<Row[]> {
    const rows: Row[] = [];
    let columns: readonly ColumnInfo[] | undefined;
    let names: string[] = [];
    let nextToken: string | undefined;
    let firstPage = true;
    do {
      const token = nextToken;
      const page = await this.withRetry(
        'GetQueryResults',
        () =>
          this.client.send(
            new GetQueryResultsCommand(
              token === undefined
                ? { QueryExecutionId: queryId, MaxResults: RESULT_PAGE_SIZE }
                : { QueryExecutionId: queryId, MaxResults: RESULT_PAGE_SIZE, NextToken: token },
            ),
            { abortSignal: signal },
          ),
        signal,
      );
      if (columns === undefined) {
        columns = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
        names = columns.map((c, i) => (c.Name ?? c.Label ?? `_col${i}`).toLowerCase());
      }
      let data = page.ResultSet?.Rows ?? [];
      if (firstPage && hasHeader) data = data.slice(1);
      firstPage = false;
      for (const row of data) rows.push(decodeRow(row, columns, names));
      nextToken = page.NextToken || undefined;
    } while (nextToken !== undefined);
    return rows;
  }

  /**
   * Calls `send`, retrying throttled and transient failures (isRetryableError) with full-jitter exponential backoff up to
   * `maxRetries` times (the only retry layer: the client's own is off, see
   * {@link createAthenaClient}), so at most `maxRetries + 1` calls per logical call; any other failure becomes an EngineError naming `call`. With a signal,
   * waits wake on abort and (when `race`) the call itself is abandoned on abort.
   */
  private async withRetry<T>(call: string, send: () => Promise<T>, signal?: AbortSignal, race = true): Promise<T> {
    const maxRetries = this.settings.maxRetries ?? DEFAULT_MAX_RETRIES;
    for (let attempt = 0; ; attempt++) {
      try {
        return await (race ? raceAbort(send(), signal) : send());
      } catch (err) {
        if (err instanceof Aborted || signal?.aborted) throw err;
        if (!isRetryableError(err)) throw this.sdkError(call, err);
        if (attempt >= maxRetries) {
          const name = asServiceError(err).name ?? 'failed';
          const what = isThrottlingError(err) ? 'kept being throttled' : 'kept failing';
          throw new EngineError(`Athena ${call} ${what} (${name}); gave up after ${maxRetries} retries`, ENGINE, {
            retryable: true,
            cause: err,
          });
        }
        const cap = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** attempt);
        await this.sleep(Math.floor(this.random() * cap), signal);
        if (signal?.aborted) throw new Aborted();
      }
    }
  }

  private async stopQuietly(queryId: string): Promise<void> {
    try {
      await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId }), {
        abortSignal: AbortSignal.timeout(STOP_TIMEOUT_MS),
      });
    } catch {
      // Best effort: the query may have finished meanwhile, and the caller has already gone.
    }
  }

  private abortError(deadline: Deadline, queryId: string | undefined, cause: unknown): EngineError {
    const subject = queryId === undefined ? 'Athena query (not started yet)' : `Athena query ${queryId}`;
    if (deadline.timedOut) {
      return new EngineError(`${subject} cancelled: it exceeded its time limit of ${deadline.timeoutMs} ms`, ENGINE, {
        timeout: true,
        queryId,
        cause,
      });
    }
    return new EngineError(`${subject} cancelled: the request was aborted`, ENGINE, { queryId, cause });
  }

  private sdkError(call: string, err: unknown, queryId?: string): EngineError {
    if (err instanceof EngineError) return err;
    const e = asServiceError(err);
    return new EngineError(`Athena ${call} failed: ${e.name ?? 'Error'}: ${e.message ?? String(err)}`, ENGINE, {
      retryable: e.$fault === 'server' || e.$retryable !== undefined,
      cause: err,
      queryId,
    });
  }
}

/** A query Athena ran and reported FAILED, with the reason it gave. */
class AthenaQueryFailed extends EngineError {
  constructor(
    message: string,
    /** Athena's StateChangeReason (or error message), as given. */
    readonly reason: string,
    /** The engine time it took, when Athena says. */
    readonly engineMs: number,
    options: EngineError['options'],
  ) {
    super(message, ENGINE, options);
  }
}

/**
 * A statement the workgroup cancelled on reaching its per-query scan limit: refused as too large
 * (QUERY_TOO_COMPLEX, `budget: bytesScannedPerQuery`), with the limit and the query id.
 */
export class ScanCutoffError extends TooComplexError {
  constructor(
    readonly cutoffBytes: number,
    readonly queryId: string,
    /** What it had scanned, billed all the same. */
    readonly bytesScanned: number,
  ) {
    super(
      `the statement reached the Athena workgroup's limit of ${cutoffBytes} bytes scanned per query (BytesScannedCutoffPerQuery) and was cancelled; narrow the window, accounts or regions`,
      { budget: 'bytesScannedPerQuery', limit: cutoffBytes },
    );
  }
}

/**
 * The error a statement's last try ended with, carrying the bytes its earlier tries scanned as
 * well (each was billed).
 */
function withEarlierBytes(err: unknown, earlier: number): unknown {
  if (earlier === 0) return err;
  if (err instanceof ScanCutoffError) return new ScanCutoffError(err.cutoffBytes, err.queryId, err.bytesScanned + earlier);
  if (err instanceof EngineError) return new EngineError(err.message, ENGINE, { ...err.options, bytesScanned: (err.options.bytesScanned ?? 0) + earlier });
  return err;
}

/** The bytes a query that did not succeed had scanned, when Athena reports them (it bills them). */
function scannedOf(execution: QueryExecution): { bytesScanned?: number } {
  const bytes = execution.Statistics?.DataScannedInBytes;
  return typeof bytes === 'number' && bytes > 0 ? { bytesScanned: bytes } : {};
}
