/**
 * Runs Athena-dialect SQL on DuckDB, to prove the Athena compiler's statements mean what the
 * DuckDB compiler's do. A table loaded once from the same files has the CloudTrail table's name,
 * columns and partition columns (read from each file's folder); macros stand in for the few Trino functions DuckDB lacks; parameters are
 * substituted as the literal text Athena's ExecutionParameters would carry.
 */
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { CompiledQuery, Engine, EngineResult, Row } from '../../src/engines/engine';
import { encodeExecutionParameter } from '../../src/engines/athena/driver';
import { RECORDS_COLUMNS } from '../../src/engines/duckdb/record-schema';
import { listRecordFiles } from './records';

/**
 * Trino functions DuckDB spells differently, in a schema searched first (they may shadow DuckDB's
 * own of the same name). `to_utf8`, `sha256` and `to_hex` map varchar -> varbinary -> varbinary ->
 * upper-case hex as Trino's do; `date_format` takes MySQL's `%i` (minutes) and `%s` (seconds).
 */
const TRINO_MACROS = [
  `CREATE MACRO trino.to_utf8(s) AS encode(s)`,
  `CREATE MACRO trino.sha256(b) AS unhex(main.sha256(b))`,
  `CREATE MACRO trino.to_hex(b) AS hex(b)`,
  `CREATE MACRO trino.from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)`,
  `CREATE MACRO trino.at_timezone(t, z) AS timezone(z, t)`,
  `CREATE MACRO trino.date_format(t, f) AS strftime(t, replace(replace(f, '%i', '%M'), '%s', '%S'))`,
];

const MACROS = [
  `CREATE MACRO json_extract_scalar(j, p) AS CASE WHEN json_type(j, p) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, p) END`,
  `CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p)`,
  `CREATE MACRO json_format(j) AS CAST(j AS VARCHAR)`,
  `CREATE MACRO slice(l, s, n) AS list_slice(l, s, s + n - 1)`,
];

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

export class AthenaSqlOnDuckDb implements Engine {
  readonly name = 'athena-on-duckdb';
  readonly capabilities = { billedByScan: true, cancellable: false };
  readonly statements: string[] = [];

  private constructor(
    private readonly instance: DuckDBInstance,
    readonly sourceId: string,
  ) {}

  static async create(trailDir: string, database: string, table: string): Promise<AthenaSqlOnDuckDb> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
    const c = await DuckDBConnection.create(instance);
    const files = listRecordFiles(trailDir).map((f) => `'${f.replace(/'/g, "''")}'`);
    await c.run(`CREATE SCHEMA "${database}"`);
    await c.run("SET GLOBAL TimeZone = 'UTC'");
    await c.run('CREATE SCHEMA trino');
    for (const m of [...MACROS, ...TRINO_MACROS]) await c.run(m);
    await c.run(`
      CREATE TABLE "${database}"."${table}" AS
      SELECT unnest(r),
        regexp_extract(filename, '/CloudTrail/([^/]+)/', 1) AS "region",
        regexp_extract(filename, '/CloudTrail/[^/]+/([0-9]{4}/[0-9]{2}/[0-9]{2})/', 1) AS "timestamp",
        regexp_extract(filename, '/([0-9]{12})/CloudTrail/', 1) AS "account"
      FROM (SELECT unnest("Records") AS r, filename
            FROM read_json([${files.join(', ')}], columns = ${RECORDS_COLUMNS}, format = 'unstructured', filename = true))`);
    c.closeSync();
    return new AthenaSqlOnDuckDb(instance, `athena-on-duckdb:${trailDir}`);
  }

  async execute(query: CompiledQuery): Promise<EngineResult> {
    const sql = substituteParameters(query.sql, query.params);
    this.statements.push(sql);
    const c = await DuckDBConnection.create(this.instance);
    try {
      await c.run("SET search_path = 'trino,main'");
      const reader = await c.runAndReadAll(sql);
      const rows: Row[] = reader.getRowObjectsJS().map((r) => {
        const row: Row = {};
        for (const [k, v] of Object.entries(r)) row[k] = v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : (v as string | number | boolean);
        return row;
      });
      return { rows, stats: { engineMs: 0, bytesScanned: 0 } };
    } finally {
      c.closeSync();
    }
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.instance.closeSync();
  }
}
