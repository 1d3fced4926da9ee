/**
 * What Athena refuses or bills, checked before anything is sent: statement length (IPv6 blocks as
 * Trino IP types), retries that stay one layer, result reuse that cannot cross parameter sets, and
 * tables that can only be read for named accounts.
 */
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { athenaDialect } from '../src/engines/athena/dialect';
import {
  AthenaEngine,
  MAX_STATEMENT_BYTES,
  checkStatementSize,
  createAthenaClient,
  reusableStatement,
} from '../src/engines/athena/driver';
import type { AthenaSettings } from '../src/engines/athena/settings';
import { duckdbDialect } from '../src/engines/duckdb/dialect';
import type { CompiledQuery, SqlValue } from '../src/query/engine';
import { EngineError, TrailqlError } from '../src/errors';
import { compile } from '../src/query/compiler';
import { apiCallsCountPlan, apiCallsPlan } from './support/plans';

const athena = mockClient(AthenaClient);
beforeEach(() => athena.reset());

const SETTINGS: AthenaSettings = {
  region: 'eu-west-1',
  workGroup: 'trailql-wg',
  database: 'trailql',
  table: 'cloudtrail_logs',
  bucket: 'org-trail-bucket',
  prefix: '',
  accounts: ['123456789012'],
  regions: ['eu-west-1'],
  startDate: '2024/01/01',
};
const WINDOW = { from: new Date('2026-03-14T10:00:00Z'), to: new Date('2026-03-15T00:00:00Z') };
const ORG = athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true });

function query(sql: string, params: SqlValue[] = []): CompiledQuery {
  return { sql, params, partitions: { days: ['2024/05/01'], regions: [], accounts: [] }, window: WINDOW, label: 'test' };
}

/** An engine with its own client (retries as configured by the driver), instant sleeps. */
function engine(settings: Partial<AthenaSettings> = {}): AthenaEngine {
  return new AthenaEngine({ ...SETTINGS, ...settings }, undefined, { sleep: async () => undefined, random: () => 0.5 });
}

function mockSucceeded(): void {
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
  athena.on(GetQueryExecutionCommand).resolves({
    QueryExecution: { QueryExecutionId: 'q-1', StatementType: 'DML', Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 10 } },
  });
  athena.on(GetQueryResultsCommand).resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: [{ Name: 'n', Type: 'bigint' }] }, Rows: [{ Data: [{ VarCharValue: 'n' }] }] } });
}

/** 100 distinct IPv6 /48 blocks, as many as a filter may hold. */
const CIDRS = Array.from({ length: 100 }, (_, i) => `2600:1f18:${(i + 1).toString(16)}::/48`);

describe('IPv6 blocks on Athena', () => {
  test('100 blocks compile to a statement well under Athena\'s limit, with contains and one parameter a block', () => {
    const q = compile(ORG, apiCallsPlan({ sourceCidrs: CIDRS }, WINDOW), 1);
    const bytes = Buffer.byteLength(q.sql, 'utf8');
    expect(bytes).toBeLessThan(MAX_STATEMENT_BYTES / 8);
    expect(() => checkStatementSize(q.sql)).not.toThrow();
    // The address is tested on the copy of the call kept, as a column of its own (compiler.ts callRows).
    expect(q.sql).toContain('"sourceipaddress" AS trailql_filter_1');
    expect(q.sql.match(/contains\(CAST\(\? AS IPPREFIX\), TRY_CAST\("trailql_filter_1" AS IPADDRESS\)\)/g)).toHaveLength(100);
    expect(q.params).toEqual(expect.arrayContaining(CIDRS));
    expect(q.sql).not.toContain('2600');
  });

  test('DuckDB keeps its own normalisation (no IP types there)', () => {
    const q = compile(duckdbDialect, apiCallsCountPlan({ sourceCidrs: ['2600:1f18::/32'] }, WINDOW), 1);
    expect(q.sql).not.toContain('IPPREFIX');
    expect(q.params).toContain('26001f18000000000000000000000000');
  });

  test('a statement over the limit is refused before anything is sent, with a code', async () => {
    mockSucceeded();
    const big = `SELECT 1 /* ${'x'.repeat(MAX_STATEMENT_BYTES)} */`;
    const err = (await engine().execute(query(big)).catch((e: unknown) => e)) as TrailqlError;
    expect(err).toBeInstanceOf(TrailqlError);
    expect(err.extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(err.message).toMatch(/262144/);
    expect(athena.calls()).toHaveLength(0);
    await expect(engine().runStatement(big)).rejects.toBeInstanceOf(TrailqlError);
    expect(athena.calls()).toHaveLength(0);
  });

  test('the limit counts UTF-8 bytes, not characters', () => {
    const chars = Math.floor(MAX_STATEMENT_BYTES / 2);
    expect(() => checkStatementSize('é'.repeat(chars))).not.toThrow();
    expect(() => checkStatementSize('é'.repeat(chars + 1))).toThrow(TrailqlError);
  });
});

describe('one retry layer', () => {
  test('the driver\'s own client does not retry by itself', async () => {
    const client = createAthenaClient('eu-west-1');
    expect(await client.config.maxAttempts()).toBe(1);
    client.destroy();
  });

  test.each([0, 2, 5])('under constant throttling a logical call makes at most maxRetries + 1 SDK calls (maxRetries %i)', async (maxRetries) => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client' });
    athena.on(StartQueryExecutionCommand).rejects(throttled);
    const err = await engine({ maxRetries }).execute(query('SELECT 1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(maxRetries + 1);
    expect(athena.calls()).toHaveLength(maxRetries + 1);
  });

  test('throttled polls are retried within the same budget per call', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).rejects(throttled);
    await expect(engine({ maxRetries: 3 }).execute(query('SELECT 1'))).rejects.toThrow(/GetQueryExecution kept being throttled/);
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(4);
  });
});

describe('result reuse', () => {
  const params: SqlValue[] = ['111122223333', 5];

  test('off by default: the statement is sent as compiled, without reuse', async () => {
    mockSucceeded();
    await engine().execute(query('SELECT 1 WHERE a = ?', params));
    const input = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(input.QueryString).toBe('SELECT 1 WHERE a = ?');
    expect(input.ResultReuseConfiguration).toBeUndefined();
  });

  test('when on, the text carries a hash of the parameters: another parameter set never matches it', async () => {
    mockSucceeded();
    const e = engine({ resultReuseMaxAgeMinutes: 60 });
    await e.execute(query('SELECT 1 WHERE a = ?', params));
    await e.execute(query('SELECT 1 WHERE a = ?', params));
    await e.execute(query('SELECT 1 WHERE a = ?', ['444455556666', 5]));
    const [a, b, c] = athena.commandCalls(StartQueryExecutionCommand).map((call) => call.args[0].input);
    expect(a!.ResultReuseConfiguration).toEqual({ ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: 60 } });
    expect(a!.QueryString).toMatch(/^\/\* trailql parameters sha256:[0-9a-f]{64} \*\/\nSELECT 1 WHERE a = \?$/);
    expect(b!.QueryString).toBe(a!.QueryString);
    expect(c!.QueryString).not.toBe(a!.QueryString);
    expect(c!.ExecutionParameters).toEqual(["'444455556666'", '5']);
  });

  test('parameters that encode differently never share a hash (string "5" against number 5)', () => {
    expect(reusableStatement('SELECT ?', ["'5'"])).not.toBe(reusableStatement('SELECT ?', ['5']));
    expect(reusableStatement('SELECT ?', ['a', 'b'])).not.toBe(reusableStatement('SELECT ?', ['a,b']));
  });
});

describe('an injected account projection', () => {
  const injected = athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true, accountProjection: 'injected' });

  test('a statement without accounts is refused with a code before compiling', () => {
    let err: unknown;
    try {
      compile(injected, apiCallsCountPlan({}, WINDOW), 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TrailqlError);
    expect((err as TrailqlError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.accounts' });
  });

  test('with accounts (from the filter or the key\'s scope) every statement names them', () => {
    const q = compile(injected, apiCallsCountPlan({ accounts: ['111122223333', '444455556666'] }, WINDOW), 1);
    expect(q.sql).toContain('"account" IN (?, ?)');
    expect(q.params).toEqual(expect.arrayContaining(['111122223333', '444455556666']));
  });

  test('an enum projection still reads every account when none is named', () => {
    expect(compile(ORG, apiCallsCountPlan({}, WINDOW), 1).sql).not.toContain('"account"');
  });
});
