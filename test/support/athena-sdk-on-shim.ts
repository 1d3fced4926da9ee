/**
 * Athena's SDK answering from the Athena-on-DuckDB shim: the real driver (AthenaEngine) sends its
 * statements through `aws-sdk-client-mock`, and each is run on the shim as Athena would run it. The
 * shim's trail folder stands for the S3 location: object URIs in parameters are read as its files,
 * and its files in error texts are written back as object URIs. A statement the shim fails is a
 * FAILED query with the error as its reason; one it answers is SUCCEEDED, its rows in one page.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type QueryExecution,
} from '@aws-sdk/client-athena';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { Row, SqlValue } from '../../src/query/engine';
import type { AthenaSqlOnDuckDb } from './athena-on-duckdb';

/** An execution parameter's literal text back to the value it carries. */
function decodeParameter(text: string): SqlValue {
  if (text.startsWith("'")) return text.slice(1, -1).replace(/''/g, "'");
  if (text === 'true' || text === 'false') return text === 'true';
  return Number(text);
}

function columnType(rows: readonly Row[], name: string): string {
  const value = rows.map((r) => r[name]).find((v) => v !== null && v !== undefined);
  return typeof value === 'number' ? (Number.isInteger(value) ? 'bigint' : 'double') : typeof value === 'boolean' ? 'boolean' : 'varchar';
}

export interface ShimAthena {
  /** Statements started, as sent (QueryString), in order. */
  readonly started: string[];
}

/**
 * @param trailDir the shim's trail folder
 * @param trailRoot `s3://<bucket>/<prefix>` it stands for
 */
export function athenaSdkOnShim(mock: AwsClientStub<AthenaClient>, shim: AthenaSqlOnDuckDb, trailDir: string, trailRoot: string): ShimAthena {
  const started: string[] = [];
  const executions = new Map<string, { execution: QueryExecution; rows: Row[] }>();
  const local = (v: SqlValue) => (typeof v === 'string' && v.startsWith(trailRoot) ? `${trailDir}/${v.slice(trailRoot.length)}` : v);
  mock.on(StartQueryExecutionCommand).callsFake(async (input: { QueryString?: string; ExecutionParameters?: string[] }) => {
    const id = `q-${started.length + 1}`;
    const sql = input.QueryString ?? '';
    started.push(sql);
    const params = (input.ExecutionParameters ?? []).map(decodeParameter).map(local);
    try {
      const result = await shim.execute({ sql, params, partitions: { days: [], regions: [], accounts: [] }, window: { from: new Date(0), to: new Date(0) }, label: id });
      executions.set(id, {
        execution: { QueryExecutionId: id, StatementType: 'DML', Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 1000, EngineExecutionTimeInMillis: 5 } },
        rows: result.rows,
      });
    } catch (err) {
      // As Athena gives it: without the kinds of error DuckDB puts before the text the statement failed with.
      const reason = (err instanceof Error ? err.message : String(err)).replace(/^(?:[A-Za-z ]*Error: )+(?=[A-Z_]+:)/, '').split(`${trailDir}/`).join(trailRoot);
      executions.set(id, {
        execution: {
          QueryExecutionId: id,
          StatementType: 'DML',
          Status: { State: 'FAILED', StateChangeReason: reason, AthenaError: { ErrorCategory: 2, ErrorType: 1001, Retryable: false } },
          Statistics: { DataScannedInBytes: 400, EngineExecutionTimeInMillis: 3 },
        },
        rows: [],
      });
    }
    return { QueryExecutionId: id };
  });
  mock.on(GetQueryExecutionCommand).callsFake(async (input: { QueryExecutionId?: string }) => ({ QueryExecution: executions.get(input.QueryExecutionId ?? '')?.execution }));
  mock.on(GetQueryResultsCommand).callsFake(async (input: { QueryExecutionId?: string }) => {
    const rows = executions.get(input.QueryExecutionId ?? '')?.rows ?? [];
    const names = rows.length ? Object.keys(rows[0]!) : [];
    return {
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: names.map((name) => ({ Name: name, Type: columnType(rows, name) })) },
        Rows: [
          { Data: names.map((name) => ({ VarCharValue: name })) },
          ...rows.map((r) => ({ Data: names.map((name) => (r[name] === null || r[name] === undefined ? {} : { VarCharValue: String(r[name]) })) })),
        ],
      },
    };
  });
  mock.on(StopQueryExecutionCommand).resolves({});
  return { started };
}
