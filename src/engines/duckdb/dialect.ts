import { PartitionSpec } from '../../query/engine';
import { CompileContext, Dialect, expr, firstDelivery, literal, quoteIdent } from '../../query/compiler';
import { DERIVED, DERIVED_INPUTS } from '../../query/fields';
import { DerivedName } from '../../query/plan';
import { RECORD_COLUMN_NAMES, SOURCE_COLUMN_NAMES, recordStructure } from './record-schema';
import { MAX_DELIVERY_FILE_BYTES } from './resources';

export interface RecordsOptions {
  /** Only these top-level record columns (same order and types); default all. */
  readonly columns?: readonly string[];
  /**
   * Only records of these event sources (`[]` or absent: all). Each record is then read as JSON,
   * its eventSource checked, and only the records kept turned into columns: most records of a
   * trail belong to other services, and turning a record into columns is most of the cost.
   */
  readonly eventSources?: readonly string[];
  /** Also each record's place in its file's `Records` (1 for the first), as `trailql_position`. */
  readonly position?: boolean;
}

/** The source columns DuckDB derives while reading (fields.ts DERIVED), by the name the source gives them. */
const DERIVED_COLUMNS: Record<string, DerivedName> = { eventTime: 'eventTime', eventTimeRaw: 'eventTimeRaw', eventID: 'eventId' };

/**
 * The select list turning raw record columns into the source's: eventTime in canonical UTC, its
 * original text as eventTimeRaw, eventID or a synthetic one (computed as every engine does).
 */
function derivedSelect(names: readonly string[]): string {
  const ctx = new CompileContext(duckdbDialect);
  return names
    .map((n) => {
      if (n === SOURCE_FILE_COLUMN) return `${fileKey('filename')} AS "${n}"`;
      const d = DERIVED_COLUMNS[n];
      return d ? `${expr(ctx, DERIVED[d])} AS "${n}"` : `"${n}"`;
    })
    .join(', ');
}

/** The raw record columns the source columns `names` are made from, in the record's order. */
function rawColumns(names: readonly string[]): string[] {
  const needed = new Set(names.flatMap((n) => (DERIVED_COLUMNS[n] ? DERIVED_INPUTS[DERIVED_COLUMNS[n]] : n === SOURCE_FILE_COLUMN ? [] : [n])));
  return RECORD_COLUMN_NAMES.filter((c) => needed.has(c));
}

/** The column of the source naming the delivery file of each record (plan.ts `sourceFile`). */
export const SOURCE_FILE_COLUMN = 'sourceFile';

/**
 * A delivery file's key from `AWSLogs/` on: the last `/AWSLogs/` of a path is the trail's (no
 * account or organization folder has that name); a path without one is kept whole.
 */
export const fileKey = (of: string): string => `COALESCE(NULLIF(regexp_extract(${of}, '.*/(AWSLogs/.*)$', 1), ''), ${of})`;

/**
 * A file's records, or a failed read when it has no Records array (`{"Records": null}`) or an
 * entry of it is no object (`null`, a number, a string, a list, a boolean): read as a record it
 * would be nothing, or, where only the served event sources' records are kept, set aside with the
 * other services' without a word. Such a file is no CloudTrail log as written, and read as one it
 * would lack calls silently. The read fails, the file is found and set aside as unreadable
 * (unreadable-files.ts), and the answer names it. An empty list is a log without records.
 *
 * The failure names the file where the reader gives each file's name anyway (every record read
 * into columns, or the records' files asked for); the served sources' reader otherwise reads no
 * file names (asking DuckDB for them costs about a twentieth of the read), and the file that
 * failed is found by halves (blameFiles: about two reads of the files, once, as the file is then
 * set aside).
 *
 * Read as records (`STRUCT[]`), an entry that is no object already fails the reader itself (DuckDB's
 * "Expected OBJECT"), except `null`. Read as JSON values (only the served event sources' records
 * kept), the test is made on the records whose eventSource is not found, and only there: a record
 * has one, an entry that is no object has none (`json_extract_string` gives NULL for it), and each
 * entry is DuckDB's own compact text of it, which starts with `{` exactly when it is an object (a
 * test of one character; made on every entry, as a list test or a row test, it cost a tenth of the
 * whole read).
 */
export const NO_RECORDS_ARRAY = 'not a CloudTrail log file (no Records array)';
export const NOT_A_RECORD = 'not a CloudTrail log file (a Records entry is not an object)';
/** A file whose JSON is no object (a list, a number, ...): read as records, one per file, it fails the read. */
export const NOT_AN_OBJECT = 'not a CloudTrail log file (not a JSON object)';
/** A failed read, naming the file when the statement reads file names. */
const fail = (message: string, named: boolean) => (named ? `error('${message} in file "' || filename || '"')` : `error('${message}')`);
/** A file's row passes when it has a Records array, and fails the read otherwise. */
const hasRecordsOrFail = (named: boolean) => `CASE WHEN "Records" IS NULL THEN ${fail(NO_RECORDS_ARRAY, named)}::BOOLEAN ELSE true END`;
/**
 * Whether a record read as JSON (`r`) is of one of `sources`; false for an object without an
 * eventSource; fails the read for an entry that is no object. COALESCE evaluates its second
 * argument only where the first is NULL: the few records without an eventSource. A list test, not
 * `IN`: DuckDB turns a short `IN` into one comparison per source, each extracting the eventSource
 * again (every record of every service parsed once per served source).
 */
const ofSourcesOrFail = (sources: readonly string[], named: boolean) =>
  `list_contains([${sources.map(literal).join(', ')}], coalesce(json_extract_string(r, '$.eventSource'), CASE WHEN starts_with(r::VARCHAR, '{') THEN NULL ELSE ${fail(NOT_A_RECORD, named)} END))`;

/** Whether a record read as JSON (`r`) is an object; fails the read for an entry that is not. */
const anObjectOrFail = (named: boolean) => `CASE WHEN json_type(r) = 'OBJECT' THEN true ELSE ${fail(NOT_A_RECORD, named)}::BOOLEAN END`;

/**
 * One row per record of the `{"Records":[...]}` files in `fileList` (a list expression or `?`),
 * with the source's columns (SOURCE_COLUMN_NAMES): the CloudTrail record's, some derived, and the
 * key of the file each came from (read only when asked for).
 */
export function jsonRecords(fileList: string, options: RecordsOptions = {}): string {
  const { eventSources } = options;
  const names = SOURCE_COLUMN_NAMES.filter((c) => !options.columns || options.columns.includes(c));
  const withFile = names.includes(SOURCE_FILE_COLUMN);
  // Records read into columns: the file name too (one value per file), so that a file without a
  // Records array names itself. Records read as JSON: only when asked for.
  const named = !eventSources?.length || withFile;
  const read = (columns: string) =>
    `read_json(${fileList}, columns = ${columns}, format = 'unstructured', records = true, maximum_object_size = ${MAX_DELIVERY_FILE_BYTES}${named ? ', filename = true' : ''})`;
  const file = withFile ? ', filename' : '';
  // Unnested side by side, the two lists are zipped: each record with its place.
  const [place, placed] = options.position ? [', unnest(generate_series(1, len("Records"))) AS trailql_position', ', trailql_position'] : ['', ''];
  const raw = rawColumns(names);
  // Every record read as JSON and transformed, whatever the sources: a value of another type than
  // its column's is NULL, not a failure of its whole file (a typed read would refuse the file).
  const records =
    `(SELECT unnest(json_transform(r, ${literal(recordStructure(raw))}))${placed}${file} FROM (SELECT unnest("Records") AS r${place}${named ? ', filename' : ''} FROM ${read(`{'Records': 'JSON[]'}`)} WHERE ${hasRecordsOrFail(named)}) ` +
    `WHERE ${eventSources?.length ? ofSourcesOrFail(eventSources, named) : anObjectOrFail(named)})`;
  return `(SELECT ${derivedSelect(names)}${placed} FROM ${records})`;
}

/**
 * The same rows from Parquet files written by `compact` (see parquet-store.ts): the same columns,
 * named and typed alike and in the same order, so the two can be combined with UNION ALL.
 */
export function parquetRecords(fileList: string, columns?: readonly string[]): string {
  const names = SOURCE_COLUMN_NAMES.filter((c) => !columns || columns.includes(c));
  return `(SELECT ${names.map((c) => `"${c}"`).join(', ')} FROM read_parquet(${fileList}, hive_partitioning = false))`;
}

/** How every DuckDB statement keeps one row per account, region and eventId (see `distinctEvents`). */
export const DISTINCT_EVENTS = 'SELECT DISTINCT ON ("recipientaccountid", "awsregion", "eventid") ';
/** The order choosing which copy `DISTINCT_EVENTS` keeps: the one from the first delivery file. */
const DEDUP_ORDER = '\n  ORDER BY "recipientaccountid", "awsregion", "eventid", ';
export const FIRST_COPY = `${DEDUP_ORDER}${firstDelivery('"sourcefile"').join(', ')}`;


/**
 * The record columns a statement reads: the compiler quotes every identifier in lower case, so a
 * column a statement uses appears as `"<name>"`. Taking a name that is only an alias is harmless
 * (one column more); every column used is found.
 */
export function columnsUsed(sql: string): string[] {
  const text = sql.replace(JSON_SOURCE, '');
  return SOURCE_COLUMN_NAMES.filter((c) => text.includes(`"${c.toLowerCase()}"`));
}

/** Whether `narrowSource` reads the JSON files' records behind its `OFFSET 0` (only the served sources' are). */
export const readsBehindBarrier = (eventSources: readonly string[] | undefined): boolean => !!eventSources?.length;

/**
 * The FROM item the driver runs a statement with, reading only the record columns it uses (and,
 * from JSON, only the records of the served event sources: every statement filters on a subset of
 * them): the Parquet files of the days the store holds bound to the first `?` and the JSON files of
 * the other days to the next, each part present only when it has files.
 *
 * The served sources' records are read behind `OFFSET 0`, which DuckDB's filter pushdown does not
 * cross: pushed below the records' transform, the statement's filters (time, event source, ...)
 * would parse every record of every service again before the cheap event-source test set the
 * others aside. Kept above, they see only the records kept; the JSON reader takes no filters
 * itself, so nothing more is read. The limit reads on one thread while insertion order is kept:
 * the driver runs these statements without it.
 */
export function narrowSource(
  columns: readonly string[],
  parts: { readonly parquet: boolean; readonly json: boolean },
  eventSources: readonly string[] | undefined,
  /** A table already holding the JSON files' records (shared-scans.ts), read instead of the files. */
  jsonTable?: string,
): string {
  const names = columns.length ? columns : SOURCE_COLUMN_NAMES;
  const json = () =>
    jsonTable
      ? `(SELECT ${names.map((c) => `"${c}"`).join(', ')} FROM ${quoteIdent(jsonTable)})`
      : readsBehindBarrier(eventSources)
        ? `(SELECT * FROM ${jsonRecords('?', { columns: names, eventSources })} OFFSET 0)`
        : jsonRecords('?', { columns: names, eventSources });
  if (parts.parquet && parts.json) return `(SELECT * FROM ${parquetRecords('?', names)} UNION ALL SELECT * FROM ${json()}) AS trail`;
  if (parts.parquet) return `${parquetRecords('?', names)} AS trail`;
  return `${json()} AS trail`;
}

/**
 * DuckDB over a local folder in the S3 layout. The source reads the files the driver lists for the
 * plan's partitions: the first `?` of every DuckDB statement is that file list, bound by the
 * driver (which swaps in `narrowSource`: Parquet for the days the store holds, only the columns
 * used). Each record becomes one row with the CloudTrail table's columns (DuckDB resolves the
 * lower-case names case-insensitively).
 */
/** A scalar at a JSON path as text; NULL for an object or an array (as Athena's json_extract_scalar). */
const duckdbJsonText = (of: string, path: string) => `CASE WHEN json_type(${of}, ${path}) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(${of}, ${path}) END`;

export const duckdbDialect: Dialect = {
  name: 'duckdb',
  namedSubqueriesOnce: true,
  source(_ctx: CompileContext, _partitions: PartitionSpec): string {
    return JSON_SOURCE;
  },
  // The engine lists the files it reads, and leaves unreadable ones out of its lists itself.
  partitionPredicates: (ctx) => {
    if (ctx.excludedFiles.length) throw new Error('DuckDB leaves files out of the lists it reads, not by a predicate');
    return [];
  },
  jsonText: (of, path) => duckdbJsonText(of, path),
  jsonArrayLength: (of, path) => `CASE WHEN json_type(${of}, ${path}) = 'ARRAY' THEN json_array_length(${of}, ${path}) END`,
  regexpLike: (of, pattern) => `regexp_matches(${of}, ${pattern})`,
  jsonArrayAnyIn: (of, arrayPath, fieldPath, values) =>
    `COALESCE(len(list_filter(TRY_CAST(json_extract(${of}, ${arrayPath}) AS JSON[]), trailql_entry -> ${duckdbJsonText('trailql_entry', fieldPath)} IN (${values.join(', ')}))) > 0, FALSE)`,
  // Not `reverse`: DuckDB reverses grapheme clusters, so a name with a combining mark never matched.
  endsWith: (of, suffix) => `ends_with(${of}, ${suffix})`,
  toJson: (of) => `CAST(to_json(${of}) AS VARCHAR)`,
  distinctValues: (of, limit) =>
    `CAST(to_json(list_slice(list_sort(list(DISTINCT ${of}) FILTER (WHERE ${of} IS NOT NULL)), 1, ${limit})) AS VARCHAR)`,
  // The source already holds the derived values (jsonRecords, and the Parquet store written from it).
  derived: (_ctx, name) => quoteIdent(name === 'eventId' ? 'eventid' : name.toLowerCase()),
  sha256Hex: (of) => `sha256(${of})`,
  // The engine's time zone is UTC (driver.ts), so a time without an offset is read as UTC.
  utcTime: (of) => `strftime(try_cast(${of} AS TIMESTAMPTZ), '%Y-%m-%dT%H:%M:%SZ')`,
  sourceFile: () => quoteIdent(SOURCE_FILE_COLUMN.toLowerCase()),
  // DISTINCT ON keeps each key's first row in its ORDER BY, cheaper than a window over every row;
  // the key is always the source's account, region and eventid columns, and `prefer` always the
  // order of the source files (FIRST_COPY, which the driver drops with the deduplication over the
  // store alone).
  distinctEvents: (columns, source, where, _key, prefer) => {
    if (`${DEDUP_ORDER}${prefer.join(', ')}` !== FIRST_COPY) throw new Error(`copies are chosen by their file, not ${prefer.join(', ')}`);
    return `${DISTINCT_EVENTS}${(columns.length ? columns : ['1 AS trailql_one']).join(',\n    ')}\n  FROM ${source}\n  WHERE ${where}${FIRST_COPY}`;
  },
};

/** The FROM item every DuckDB statement reads: the JSON files the driver binds to its first `?`. */
export const JSON_SOURCE = `${jsonRecords('?')} AS trail`;
