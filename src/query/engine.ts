/**
 * The narrow contract every query engine implements. Submitting, polling, paging and decoding
 * stay inside the driver; the rest of the service sees a compiled query go in and plain rows
 * come out.
 */
import type { Row } from '../domain/row';

/** A value bound to a placeholder. Strings, numbers and booleans only: no engine-specific types. */
export type SqlValue = string | number | boolean;

/**
 * Longest bound value every engine accepts, in characters once written as a quoted SQL literal
 * (quotes doubled): Athena carries each value as such a literal in one execution parameter of at
 * most 1,024 characters. Filters refuse longer values, so an input is valid on every engine or on
 * none; Athena's driver checks it again before submitting.
 */
export const MAX_BOUND_VALUE_LENGTH = 1_024;

/**
 * Which slice of the trail a query needs, derived from its plan by the guards. Engines that read
 * the S3 layout themselves (DuckDB) turn it into a file list; Athena's compiler turns it into
 * partition predicates.
 */
export interface PartitionSpec {
  /** Day folders to read, inclusive, as `yyyy/MM/dd` (UTC), already widened by the delivery margin. */
  readonly days: readonly string[];
  /** Regions to read; empty means every region. */
  readonly regions: readonly string[];
  /** Accounts to read; empty means every account. */
  readonly accounts: readonly string[];
}

/** The output of a compiler: frozen SQL text and its positional parameters, never mixed. */
export interface CompiledQuery {
  readonly sql: string;
  readonly params: readonly SqlValue[];
  readonly partitions: PartitionSpec;
  /**
   * The event-time window the query reads (`to` exclusive): decides how long an answer may be
   * cached. Its bounds compare with calls' times as `windowBoundMs` makes them.
   */
  readonly window: { readonly from: Date; readonly to: Date };
  /** Short label for logs and the cost report (e.g. `apiCalls`, `callerStats`). */
  readonly label: string;
  /** The event sources it reads (`[]`: every one); absent on a hand-made statement. */
  readonly eventSources?: readonly string[];
  /**
   * The same statement compiled again to leave out these record files as well as those it already
   * leaves out (URIs as the engine names a row's file: Athena's `"$path"`), for an engine that reads
   * a table and finds a file unreadable only as a query fails (Athena). An engine that lists the
   * files it reads (DuckDB) leaves them out of its lists instead. Absent on a hand-made statement.
   */
  readonly excluding?: (files: readonly string[]) => CompiledQuery;
}

/** One result row, as every engine decodes it (the domain's row type). */
export type { Row };

/**
 * A record file the engine could not read (damaged, empty, not JSON, unreadable, vanished while
 * read): left out of the answer, which then covers every other file and says so.
 */
export interface UnreadableFile {
  /** Relative to the trail folder, `/`-separated. */
  readonly path: string;
  /** Short reason without the trail's absolute path (e.g. `malformed JSON`, `not a gzip stream`). */
  readonly reason: string;
}

export interface EngineStats {
  /** Milliseconds the engine spent on the query (Athena's EngineExecutionTimeInMillis, DuckDB wall time). */
  readonly engineMs: number;
  /** Bytes the engine read, when it says (Athena's DataScannedInBytes; DuckDB: size of the files opened). */
  readonly bytesScanned: number;
  /** Files the driver opened (DuckDB only). */
  readonly files?: readonly string[];
  /** The engine's id for the query (Athena QueryExecutionId). */
  readonly queryId?: string;
  /** Files the query should have read but left out because they could not be read: the rows are incomplete. */
  readonly unreadable?: readonly UnreadableFile[];
  /** Nothing ran: a preview's stand-in answered (no rows) in the engine's place. */
  readonly notRun?: true;
}

/** What the engine knows of the data it reads: for readiness and the operators' health view. */
export interface TrailHealth {
  /** The trail can be read at all (DuckDB: its folder and `AWSLogs/` exist). */
  readonly available: boolean;
  /** Why it cannot, without absolute paths. */
  readonly problem?: string;
  /** Files set aside right now (each remembered until its size or modification time changes). */
  readonly unreadable: readonly (UnreadableFile & { readonly size: number; readonly since: string })[];
  /** Files set aside since start, each counted once per version (size, modification time). */
  readonly unreadableFound: number;
}

export interface EngineResult {
  readonly rows: Row[];
  readonly stats: EngineStats;
}

/** What the core may assume about an engine: capability flags, not engine names. */
export interface EngineCapabilities {
  /** Costs money per byte scanned: the service prefers fewer, larger queries. */
  readonly billedByScan: boolean;
  /** Queries can be cancelled once started. */
  readonly cancellable: boolean;
}

export interface ExecuteOptions {
  /** Aborted when the GraphQL request is abandoned or exceeds its engine-time budget. */
  readonly signal?: AbortSignal;
  /** Upper bound on the query's run time in milliseconds. */
  readonly timeoutMs?: number;
  /** The request the query belongs to: what its queries may share while it runs (see RequestScope). */
  readonly scope?: RequestScope;
  /**
   * The request asked for fresh answers (`x-trailql-no-cache`): nothing the engine kept from
   * earlier requests may stand in for reading the files now.
   */
  readonly fresh?: boolean;
}

/** Something an engine keeps for one request, released when the request ends. */
export interface RequestResource {
  close(): Promise<void>;
}

/**
 * What one request's engine queries may share while it runs: an engine keeps its own resource here
 * (e.g. the records of files several of the request's statements read, read once), made on first
 * use and closed when the request's queries have all ended (QueryRunner.finish).
 */
export class RequestScope {
  private readonly resources = new Map<object, RequestResource>();
  private closed = false;
  private running = 0;
  private lone = false;

  /**
   * The request's operation asks for what one statement answers (`asksOneStatement`): an engine
   * need not prepare anything for statements that will not come.
   */
  expectOneStatement(): void {
    this.lone = true;
  }

  /** A statement of the request was asked for (answered from the cache or run); the returned function says it ended. */
  statementStarted(): () => void {
    this.running += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.running -= 1;
    };
  }

  /**
   * No other statement of the request is under way, and its operation asks for one statement:
   * nothing this statement reads will be read again by the request, unless the operation turns
   * out to ask for more (a second statement over the same files then knows it is one).
   */
  get alone(): boolean {
    return this.lone && this.running <= 1;
  }

  /** `owner`'s resource for this request, made by `make` on first use; undefined once the request has ended. */
  use<T extends RequestResource>(owner: object, make: () => T): T | undefined {
    if (this.closed) return undefined;
    let r = this.resources.get(owner);
    if (!r) {
      r = make();
      this.resources.set(owner, r);
    }
    return r as T;
  }

  /** Closes every resource (once); later `use` calls get none. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.resources.values()].map((r) => r.close()));
    this.resources.clear();
  }
}

export interface Engine {
  /** `duckdb` or `athena`: for logs, metrics and cache keys only. */
  readonly name: string;
  readonly capabilities: EngineCapabilities;
  /**
   * Identity of the data the engine reads (local folder, or database.table over bucket/prefix):
   * part of every cache key so two trails never share answers.
   */
  readonly sourceId: string;
  /**
   * The most queries the engine can run at once (DuckDB: what fits its memory limit). Absent: no
   * limit of its own; the service's admission limit applies.
   */
  readonly maxConcurrentQueries?: number;
  execute(query: CompiledQuery, options?: ExecuteOptions): Promise<EngineResult>;
  /**
   * A digest of the state of the files `query` would read (day folders and their modification
   * times), when the engine reads files itself: part of the answer's cache key, so a newly
   * delivered file makes a new answer at once. Undefined: the engine cannot tell (Athena), and
   * answers are kept according to the delivery lag instead. Null: the files are changing now, and
   * no answer over them is kept. Throws like `execute` when the trail is unavailable.
   */
  fingerprint?(query: CompiledQuery): Promise<string | null | undefined>;
  /** The state of the data (readiness and the `trailHealth` query); absent when the engine cannot tell. */
  trailHealth?(): Promise<TrailHealth>;
  /** Cheap round trip proving the engine can be reached (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The last instant a canonical `eventTime` (`yyyy-MM-ddTHH:mm:ssZ`, four-digit years) can name. */
const LAST_SECOND_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * A window bound as calls' times are compared with it: calls' times are whole seconds, so a bound
 * within a second acts as the next whole second (a call at 12:00:00 is before a window starting at
 * 12:00:00.500 and inside one ending then). Never past the last second a four-digit year names.
 */
export function windowBoundMs(d: Date): number {
  return Math.min(Math.ceil(d.getTime() / 1000) * 1000, LAST_SECOND_MS);
}
