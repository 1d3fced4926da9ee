/**
 * Runs Athena-dialect SQL on DuckDB, to prove the Athena compiler's statements mean what the
 * DuckDB compiler's do. A table loaded once from the same files has the CloudTrail table's name,
 * columns and partition columns (read from each file's folder; a value of another type than its
 * column's is null, as the service's own reader takes it); macros stand in for the few Trino
 * functions DuckDB lacks or reads differently; parameters are substituted as the literal text
 * Athena's ExecutionParameters would carry.
 *
 * Stricter than DuckDB where Trino is: every statement must fit Athena's length limit and pass
 * {@link checkTrinoStatement} (Trino grammar, no implicit text/number casts, portable regular
 * expressions) before it runs, and `split_part` past the last field is NULL as in Trino.
 */
import * as fs from 'node:fs';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { CompiledQuery, Engine, EngineResult, PartitionSpec, Row } from '../../src/query/engine';
import { checkStatementSize, encodeExecutionParameter } from '../../src/engines/athena/driver';
import { recordStructure } from '../../src/engines/duckdb/record-schema';
import { parseDeliveryKey } from '../../src/trail/layout';
import { listRecordFiles } from './records';
import { checkTrinoStatement } from './trino-checks';

const hi = (h: string) => `CAST('0x' || substr(${h}, 1, 16) AS UBIGINT)`;
const lo = (h: string) => `CAST('0x' || substr(${h}, 17, 16) AS UBIGINT)`;

/**
 * Trino functions DuckDB spells differently, in a schema searched first (they may shadow DuckDB's
 * own of the same name). `to_utf8`, `sha256` and `to_hex` map varchar -> varbinary -> varbinary ->
 * upper-case hex as Trino's do; `json_array_length` counts a JSON array's elements (NULL for anything else); `date_format` takes MySQL's `%i` (minutes) and `%s` (seconds).
 */
const TRINO_MACROS = [
  `CREATE MACRO trino.to_utf8(s) AS encode(s)`,
  `CREATE MACRO trino.sha256(b) AS unhex(main.sha256(b))`,
  `CREATE MACRO trino.to_hex(b) AS hex(b)`,
  `CREATE MACRO trino.json_array_length(j) AS CASE WHEN json_type(j) = 'ARRAY' THEN main.json_array_length(j) END`,
  `CREATE MACRO trino.from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)`,
  `CREATE MACRO trino.at_timezone(t, z) AS timezone(z, t)`,
  `CREATE MACRO trino.date_format(t, f) AS strftime(t, replace(replace(f, '%i', '%M'), '%s', '%S'))`,
];

const MACROS = [
  `CREATE MACRO json_extract_scalar(j, p) AS CASE WHEN json_type(j, p) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, p) END`,
  `CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p)`,
  `CREATE MACRO json_format(j) AS CAST(j AS VARCHAR)`,
  `CREATE MACRO slice(l, s, n) AS list_slice(l, s, s + n - 1)`,
  // Trino: a field past the last is NULL (DuckDB's own gives '').
  `CREATE MACRO split_part(s, d, n) AS string_split(s, d)[n]`,
  // Trino's IP types, emulated over text: a cast keeps the text, and contains() parses both sides
  // (NULL for anything that is not an IPv6 address, as TRY_CAST gives in Trino) and compares the
  // first `length` bits of the two 128-bit numbers, as two 64-bit halves. Lambdas over one-element
  // lists bind a parsed value once (macro arguments are otherwise copied into every use).
  `CREATE TYPE ipaddress AS VARCHAR`,
  `CREATE TYPE ipprefix AS VARCHAR`,
  `CREATE MACRO trailql_ipv6_side(s, i) AS list_filter(string_split(string_split(s, '::')[i], ':'), g -> g <> '')`,
  `CREATE MACRO trailql_ipv6_groups(s) AS CASE WHEN strpos(s, '::') = 0 THEN string_split(s, ':') ` +
    `ELSE list_concat(list_concat(trailql_ipv6_side(s, 1), list_transform(range(8 - len(trailql_ipv6_side(s, 1)) - len(trailql_ipv6_side(s, 2))), x -> '0')), trailql_ipv6_side(s, 2)) END`,
  `CREATE MACRO trailql_ipv6_hex(s) AS CASE WHEN regexp_full_match(s, '[0-9A-Fa-f:]+') AND strpos(s, ':') > 0 AND strpos(s, ':::') = 0 ` +
    `AND length(s) - length(replace(s, '::', '')) <= 2 AND NOT regexp_matches(s, '^:[^:]|[^:]:$') ` +
    `AND (strpos(s, '::') = 0 OR len(trailql_ipv6_side(s, 1)) + len(trailql_ipv6_side(s, 2)) <= 7) THEN ` +
    `list_transform([trailql_ipv6_groups(s)], gs -> CASE WHEN len(gs) = 8 AND len(list_filter(gs, g -> length(g) NOT BETWEEN 1 AND 4)) = 0 ` +
    `THEN array_to_string(list_transform(gs, g -> lpad(lower(g), 4, '0')), '') END)[1] END`,
  `CREATE MACRO trailql_prefix_match(p, a, n) AS CASE WHEN p IS NULL OR a IS NULL OR n IS NULL OR n < 0 OR n > 128 THEN NULL WHEN n = 0 THEN TRUE ` +
    `WHEN n <= 64 THEN (${hi('a')} >> (64 - n)) = (${hi('p')} >> (64 - n)) ` +
    `ELSE ${hi('a')} = ${hi('p')} AND (${lo('a')} >> (128 - n)) = (${lo('p')} >> (128 - n)) END`,
  `CREATE MACRO contains(p, a) AS list_transform([[trailql_ipv6_hex(string_split(p, '/')[1]), trailql_ipv6_hex(a)]], v -> ` +
    `trailql_prefix_match(v[1], v[2], TRY_CAST(string_split(p, '/')[2] AS INTEGER)))[1]`,
];

/** A file of the trail with the partition values its folder gives. */
interface TrailFile {
  readonly bytes: number;
  readonly day: string;
  readonly region: string;
  readonly account: string;
}

function trailFile(file: string): TrailFile {
  const key = parseDeliveryKey(file);
  return { bytes: fs.statSync(file).size, day: key?.day ?? '', region: key?.region ?? '', account: key?.account ?? '' };
}

/**
 * Bytes Athena would scan for a statement over these partitions: JSON is not columnar, so every
 * file of every partition read is read whole (its stored, compressed size).
 */
export function bytesInPartitions(files: readonly TrailFile[], p: PartitionSpec): number {
  return files
    .filter((f) => p.days.includes(f.day) && (!p.regions.length || p.regions.includes(f.region)) && (!p.accounts.length || p.accounts.includes(f.account)))
    .reduce((sum, f) => sum + f.bytes, 0);
}

/** Replaces each `?` outside string literals with the encoded parameter, as Athena does. */
export function substituteParameters(sql: string, params: readonly (string | number | boolean)[]): string {
  let out = '';
  let i = 0;
  let quoted = false;
  for (const ch of sql) {
    if (ch === "'") quoted = !quoted;
    if (ch === '?' && !quoted) {
      if (i >= params.length) throw new Error('more placeholders than parameters');
      out += encodeExecutionParameter(params[i++]);
    } else out += ch;
  }
  if (i !== params.length) throw new Error(`${params.length - i} parameters left over`);
  return out;
}

/**
 * Trino's spellings that macros cannot stand in for. Aggregates where DuckDB's of the same name
 * differ: Trino's `max_by` gives the argument of the row with the greatest ordering value even when
 * that argument is NULL, DuckDB's skips rows whose argument is NULL (its `arg_max_null` is Trino's).
 * Types: Trino's `ARRAY(JSON)` is DuckDB's `JSON[]`. Lambdas' functions: `transform` and
 * `arrays_overlap` are DuckDB's `list_transform` and `list_has_any`. A column cast to JSON is `to_json` of it: over
 * a table of its own, DuckDB (1.5) fails a statement that casts a struct to JSON and also reads a
 * field of it ("This path wasn't found in the registered paths"), which `to_json` does not.
 */
function inDuckDbSpelling(sql: string): string {
  return sql
    .replace(/\bmax_by\(/g, 'arg_max_null(')
    .replace(/\bAS ARRAY\(JSON\)/g, 'AS JSON[]')
    .replace(/\btransform\(/g, 'list_transform(')
    .replace(/\barrays_overlap\(/g, 'list_has_any(')
    .replace(/\bCAST\(("[a-z]+"(?:\."[a-z]+")*) AS JSON\)/g, 'to_json($1)');
}

export class AthenaSqlOnDuckDb implements Engine {
  readonly name = 'athena-on-duckdb';
  readonly capabilities = { billedByScan: true, cancellable: false };
  readonly statements: string[] = [];
  /** Bytes every statement so far would have scanned on Athena (see {@link bytesInPartitions}). */
  bytesScanned = 0;

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly sourceId: string,
    private readonly files: readonly TrailFile[],
  ) {}

  /**
   * @param damaged files whose rows fail a statement that reads them, as Athena fails a query over
   *   an object it cannot read: each with the error text the statement fails with. A statement that
   *   leaves them out (by partition, or by `"$path"`) reads the others.
   */
  static async create(trailDir: string, database: string, table: string, damaged: readonly { file: string; error: string }[] = []): Promise<AthenaSqlOnDuckDb> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    const c = await DuckDBConnection.create(instance);
    const paths = listRecordFiles(trailDir);
    const files = paths.map((f) => `'${f.replace(/'/g, "''")}'`);
    await c.run(`CREATE SCHEMA "${database}"`);
    await c.run("SET GLOBAL TimeZone = 'UTC'");
    await c.run('CREATE SCHEMA trino');
    await c.run(`
      CREATE TABLE "${database}"."${table}" AS
      SELECT unnest(r),
        regexp_extract(filename, '/CloudTrail/([^/]+)/', 1) AS "region",
        regexp_extract(filename, '/CloudTrail/[^/]+/([0-9]{4}/[0-9]{2}/[0-9]{2})/', 1) AS "timestamp",
        regexp_extract(filename, '/([0-9]{12})/CloudTrail/', 1) AS "account",
        filename AS "$path"
      FROM (SELECT json_transform(unnest("Records"), '${recordStructure().replace(/'/g, "''")}') AS r, filename
            FROM read_json([${files.join(', ')}], columns = {'Records': 'JSON[]'}, format = 'unstructured', filename = true))`);
    if (damaged.length) {
      // Every statement reads eventtype (it leaves out Insights events): a row of a damaged file
      // that its partition and "$path" predicates keep fails it there.
      const q = (text: string) => `'${text.replace(/'/g, "''")}'`;
      const failing = damaged.map((d) => `WHEN "$path" = ${q(d.file)} THEN error(${q(d.error)})`).join(' ');
      await c.run(`ALTER TABLE "${database}"."${table}" RENAME TO "${table}_rows"`);
      await c.run(`CREATE VIEW "${database}"."${table}" AS SELECT * REPLACE (CASE ${failing} ELSE "eventtype" END AS "eventtype") FROM "${database}"."${table}_rows"`);
    }
    for (const m of [...MACROS, ...TRINO_MACROS]) await c.run(m);
    c.closeSync();
    return new AthenaSqlOnDuckDb(instance, `athena-on-duckdb:${trailDir}`, paths.map(trailFile));
  }

  async execute(query: CompiledQuery): Promise<EngineResult> {
    checkStatementSize(query.sql);
    const sql = substituteParameters(query.sql, query.params);
    checkTrinoStatement(sql);
    this.statements.push(sql);
    const run = inDuckDbSpelling(sql);
    const bytesScanned = bytesInPartitions(this.files, query.partitions);
    this.bytesScanned += bytesScanned;
    const c = await DuckDBConnection.create(this.instance);
    try {
      await c.run("SET search_path = 'trino,main'");
      const reader = await c.runAndReadAll(run);
      const rows: Row[] = reader.getRowObjectsJS().map((r) => {
        const row: Row = {};
        for (const [k, v] of Object.entries(r)) row[k] = v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : (v as string | number | boolean);
        return row;
      });
      return { rows, stats: { engineMs: 0, bytesScanned } };
    } finally {
      c.closeSync();
    }
  }

  /** Runs a statement of DuckDB's own (a view over the table, for a test's setup). */
  async setUp(sql: string): Promise<void> {
    const c = await DuckDBConnection.create(this.instance);
    try {
      await c.run(sql);
    } finally {
      c.closeSync();
    }
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.instance.closeSync();
  }
}
