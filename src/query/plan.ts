/**
 * The query plan: a small, dialect-free tree. Builders make it from GraphQL filters, guards
 * rewrite it (scope, window, limits), and each engine's compiler turns it into SQL. Nothing in
 * here knows which engine will run it.
 *
 * Column paths name the Athena CloudTrail table's columns (lower case); every engine exposes
 * that column model. User values only ever appear as `Value` nodes, which compilers turn into
 * placeholders; `Const` nodes hold text written in this code base and are the only literals
 * compilers may inline.
 */

export type Interval = 'hour' | 'day' | 'week';

export type Expr =
  | { readonly k: 'col'; readonly path: readonly string[] }
  /** Scalar at a JSON path (from a fixed list in fields.ts) of a JSON-text column, as text. */
  | { readonly k: 'jsonText'; readonly of: Expr; readonly path: string }
  /** Number of elements of the array at a JSON path (a fixed one) of a JSON-text column; NULL when no array is there. */
  | { readonly k: 'jsonArrayLength'; readonly of: Expr; readonly path: string }
  | { readonly k: 'coalesce'; readonly items: readonly Expr[] }
  | { readonly k: 'concat'; readonly items: readonly Expr[] }
  | { readonly k: 'case'; readonly whens: readonly (readonly [Cond, Expr])[]; readonly otherwise: Expr | null }
  | { readonly k: 'const'; readonly value: string }
  | { readonly k: 'lower'; readonly of: Expr }
  /** NULL where the text is empty, else the text. */
  | { readonly k: 'nullIfEmpty'; readonly of: Expr }
  /**
   * The text with `\\` and `/` each written after a `\\`: joined with `/`, texts so written give
   * one text only when they are the same texts.
   */
  | { readonly k: 'escapeSlash'; readonly of: Expr }
  /** Start of the UTC hour/day/ISO week containing an ISO-8601 text timestamp, as ISO text. */
  | { readonly k: 'bucket'; readonly interval: Interval; readonly of: Expr }
  /** Start of the UTC bucket of `minutes` (a divisor of 60) containing an ISO-8601 text timestamp. */
  | { readonly k: 'minuteBucket'; readonly minutes: number; readonly of: Expr }
  /**
   * A struct or array column as JSON text. Engines differ in the shape (Trino casts rows to
   * positional arrays, DuckDB to objects); the row mapper reads both.
   */
  | { readonly k: 'toJson'; readonly of: Expr }
  /**
   * A value every engine derives from the record the same way (fields.ts DERIVED): the canonical
   * UTC eventTime, its original text, the eventID or a synthetic one. An engine whose source
   * already holds it (DuckDB's reader, the Parquet store) reads a column; others compute it.
   */
  | { readonly k: 'derived'; readonly name: DerivedName }
  /** Lower-case hex SHA-256 of the UTF-8 text. */
  | { readonly k: 'sha256Hex'; readonly of: Expr }
  /** An ISO-8601 date-time text (any offset, `T` or space, fractions) as `yyyy-MM-ddTHH:mm:ssZ` in UTC; NULL when unparseable. */
  | { readonly k: 'utcTime'; readonly of: Expr }
  /**
   * The delivery file the record was read from, as its key from `AWSLogs/` on (the path relative
   * to the trail folder, the S3 key without the bucket's prefix).
   */
  | { readonly k: 'sourceFile' };

/** Values derived from a record on every engine alike. */
export type DerivedName = 'eventTime' | 'eventTimeRaw' | 'eventId';

/** Conditions that contain no user values: usable in SELECT and GROUP BY on every engine. */
export type Cond =
  | { readonly k: 'isNull'; readonly e: Expr }
  | { readonly k: 'notNull'; readonly e: Expr }
  | { readonly k: 'eqConst'; readonly e: Expr; readonly value: string }
  | { readonly k: 'inConst'; readonly e: Expr; readonly values: readonly string[] }
  | { readonly k: 'startsWithConst'; readonly e: Expr; readonly prefix: string }
  /** Text matches a regular expression written in this code base (never user input). */
  | { readonly k: 'regexConst'; readonly e: Expr; readonly pattern: string }
  /** A number less than another (unknown when either is NULL). */
  | { readonly k: 'lessThan'; readonly e: Expr; readonly than: Expr }
  | { readonly k: 'allOf'; readonly items: readonly Cond[] }
  | { readonly k: 'anyOf'; readonly items: readonly Cond[] };

/** A value that came from outside (a filter, a cursor, the scope): always bound, never inlined. */
export interface Value {
  readonly v: string | number;
}

export type Pred =
  | { readonly k: 'in'; readonly e: Expr; readonly values: readonly Value[] }
  | { readonly k: 'cmp'; readonly e: Expr; readonly op: '<' | '<=' | '>' | '>=' | '='; readonly value: Value }
  | { readonly k: 'cond'; readonly cond: Cond }
  /** Text ends with a suffix (bound as a value), compared character by character (code points). */
  | { readonly k: 'endsWith'; readonly e: Expr; readonly suffix: Value }
  /**
   * Some entry of the JSON array at `array` (a fixed field name) of the JSON text `e` holds, at its
   * field `field` (a fixed name), a scalar equal to one of `values`. False when there is no such array.
   */
  | { readonly k: 'jsonArrayAnyIn'; readonly e: Expr; readonly array: string; readonly field: string; readonly values: readonly Value[] }
  /** Text starts with a prefix (bound as a value). */
  | { readonly k: 'startsWith'; readonly e: Expr; readonly prefix: Value }
  /** Case-sensitive substring match. */
  | { readonly k: 'contains'; readonly e: Expr; readonly value: Value }
  /** True when the predicate is true; false when it is false or unknown (NULL). */
  | { readonly k: 'isTrue'; readonly item: Pred }
  /** Case-insensitive substring match. */
  | { readonly k: 'containsCi'; readonly e: Expr; readonly value: Value }
  /** IPv4 address text within [first, last] (as integers); non-IPv4 text never matches. */
  | { readonly k: 'ipv4Range'; readonly e: Expr; readonly first: Value; readonly last: Value }
  /**
   * IPv6 address text within [first, last] (as 32-digit hex), the block `cidr` (canonical
   * `address/length` text); non-IPv6 text never matches.
   */
  | { readonly k: 'ipv6Range'; readonly e: Expr; readonly first: Value; readonly last: Value; readonly cidr: Value }
  /** IPv6 address text within any of the blocks (as `ipv6Range`); the address is normalised once. */
  | { readonly k: 'ipv6InAny'; readonly e: Expr; readonly blocks: readonly { readonly first: Value; readonly last: Value; readonly cidr: Value }[] }
  | { readonly k: 'and'; readonly items: readonly Pred[] }
  | { readonly k: 'or'; readonly items: readonly Pred[] }
  | { readonly k: 'not'; readonly item: Pred };

/** The slice of the trail a query reads. Guards turn it into partitions and exact time bounds. */
export interface Scan {
  /** Inclusive start and exclusive end of the event-time window. */
  readonly from: Date;
  readonly to: Date;
  /** eventSource values to read; `[]` means every source (a service configured for all of them). */
  readonly eventSources: readonly string[];
  /** Region and account restrictions known to the plan (filters and scope); `[]` means all. */
  readonly regions: readonly string[];
  readonly accounts: readonly string[];
}

export interface Projection {
  readonly alias: string;
  readonly e: Expr;
}

export type Measure =
  | { readonly k: 'count' }
  | { readonly k: 'countErrors' }
  | { readonly k: 'min'; readonly e: Expr }
  | { readonly k: 'max'; readonly e: Expr }
  /**
   * The value of `e` in the newest event of the group (by eventTime, then eventId, account and
   * region), NULL when that event has none; with `among`, the newest event whose `among` is not
   * NULL when there is one. Every `latest` with the same `among` reads the same event.
   */
  | { readonly k: 'latest'; readonly e: Expr; readonly among?: Expr }
  | { readonly k: 'countDistinct'; readonly e: Expr }
  /** Distinct non-null values as a JSON array text, at most `limit` of them. */
  | { readonly k: 'distinctValues'; readonly e: Expr; readonly limit: number };

export interface OrderItem {
  readonly alias: string;
  readonly dir: 'asc' | 'desc';
}

/** A page of whole events, newest first, deduplicated by eventId. */
export interface EventsQuery {
  readonly kind: 'events';
  readonly label: string;
  readonly scan: Scan;
  readonly where: readonly Pred[];
  readonly select: readonly Projection[];
  readonly orderBy: readonly OrderItem[];
  readonly limit: number;
  /**
   * Batched nested pages: at most `limit` events per value of `e` (in `orderBy` order), so one
   * statement answers a page for many parents. The value is returned under `alias`.
   */
  readonly perGroup?: { readonly alias: string; readonly e: Expr; readonly limit: number };
  /**
   * Batched pages of several narrowings at once: each event is returned once per branch whose
   * predicate it meets (the branch's index under `alias`), at most `limit` per branch in `orderBy`
   * order. `where` should hold the branches' disjunction so the scan reads no more than needed.
   */
  readonly branches?: Branches & { readonly limit: number };
  /**
   * Keyset paging: only the events after this one in the order (older, or as old with a smaller
   * id, or the same id with a smaller account and region: `CALL_TIE`). The compiler also ends the
   * scan at the event's second (see `keysetEnd`).
   */
  readonly after?: { readonly time: string; readonly id: string; readonly tie: string };
  /**
   * Also return, under this alias on every row, how many events match before the page is cut
   * (per value of `perGroup.e` when batched): a connection's totalCount from the page's own
   * statement. Not with `after` (a keyset page reads only up to its cursor).
   */
  readonly withTotal?: string;
}

/** Narrowings of one query answered by one statement (see EventsQuery.branches). */
export interface Branches {
  readonly alias: string;
  /** One predicate per branch (values bound); the branch index is its position here. */
  readonly items: readonly Pred[];
}

/** Most branches one statement holds. */
export const MAX_BRANCHES = 200;

/** Grouped counts over deduplicated events. */
export interface AggregateQuery {
  readonly kind: 'aggregate';
  readonly label: string;
  readonly scan: Scan;
  readonly where: readonly Pred[];
  readonly groupBy: readonly Projection[];
  readonly measures: readonly { readonly alias: string; readonly m: Measure }[];
  readonly orderBy: readonly OrderItem[];
  readonly limit: number;
  /**
   * Only the records of the window's day folders whose eventTime cannot be read (no window can
   * hold them), in place of the records of the window. Of the copies of such a record, the one in
   * the first delivery file (compiler.ts firstDelivery) is kept, so its `sourceFile` is the same in
   * every answer.
   */
  readonly untimed?: boolean;
  /**
   * Keyset paging of grouped answers: only the rows after this one in `orderBy` order (one value
   * per order item, null for a null value; nulls sort last). `orderBy` must end with a unique key.
   */
  readonly after?: readonly (Value | null)[];
  /** Counts per branch: every event counts once in each branch whose predicate it meets; `alias` is grouped first. */
  readonly branches?: Branches;
  /**
   * Batched nested pages: at most `limit` rows per value of the grouping column `alias` (in
   * `orderBy` order), cut in the statement, so one statement answers a page for many parents.
   */
  readonly perGroup?: { readonly alias: string; readonly limit: number };
  /**
   * Also return, under this alias on every row, how many groups there are before the page is cut
   * (before `after`, `perGroup` and the limit; per `perGroup` value when batched): a grouped
   * connection's totalCount from the page's own statement.
   */
  readonly withTotal?: string;
}

export type QueryPlan = EventsQuery | AggregateQuery;

/** One grouped question of an `AggregatesQuery`: its own predicates, groups, measures, order and cut. */
export type AggregatePart = Pick<AggregateQuery, 'where' | 'groupBy' | 'measures' | 'orderBy' | 'limit'>;

/**
 * Several grouped questions over the same scan and predicates, answered by one statement that
 * reads the (deduplicated) events once: each part's rows are what the `AggregateQuery` of its own
 * would return (the scan's predicates and the part's), in its order, cut at its limit.
 */
export interface AggregatesQuery {
  readonly label: string;
  readonly scan: Scan;
  readonly where: readonly Pred[];
  readonly parts: readonly AggregatePart[];
}

export const col = (...path: string[]): Expr => ({ k: 'col', path });
export const constant = (value: string): Expr => ({ k: 'const', value });
export const val = (v: string | number): Value => ({ v });
export const and = (...items: Pred[]): Pred => ({ k: 'and', items });
export const or = (...items: Pred[]): Pred => ({ k: 'or', items });
