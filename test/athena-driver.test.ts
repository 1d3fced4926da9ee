import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetTableMetadataCommand,
  GetWorkGroupCommand,
  InternalServerException,
  InvalidRequestException,
  MetadataException,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  TooManyRequestsException,
  type GetQueryExecutionCommandOutput,
  type GetQueryResultsCommandOutput,
  type QueryExecutionState,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AthenaEngine,
  decodeAthenaValue,
  encodeExecutionParameter,
  isThrottlingError,
  type AthenaEngineOptions,
} from '../src/engines/athena/driver';
import type { AthenaSettings } from '../src/engines/athena/settings';
import type { CompiledQuery, SqlValue } from '../src/query/engine';
import { BadInputError, EngineError, TooComplexError } from '../src/errors';

const athena = mockClient(AthenaClient);

const SETTINGS: AthenaSettings = {
  region: 'eu-west-1',
  workGroup: 'trailql-wg',
  outputLocation: 's3://trailql-results/athena/',
  database: 'trailql',
  table: 'cloudtrail_logs',
  bucket: 'org-trail-bucket',
  prefix: 'ct',
  accounts: ['123456789012'],
  regions: ['eu-west-1', 'us-east-1'],
  startDate: '2024/01/01',
};

const QUERY_ID = 'q-0001';

function query(sql: string, params: SqlValue[] = []): CompiledQuery {
  return { sql, params, partitions: { days: ['2024/05/01'], regions: [], accounts: [] }, window: { from: new Date('2024-05-01T00:00:00Z'), to: new Date('2024-05-02T00:00:00Z') }, label: 'test' };
}

/** Engine with instant, recorded sleeps and fixed jitter. */
function engine(settings: Partial<AthenaSettings> = {}, options: AthenaEngineOptions = {}) {
  const sleeps: number[] = [];
  const e = new AthenaEngine({ ...SETTINGS, ...settings }, new AthenaClient({ region: 'eu-west-1' }), {
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    clientRequestToken: () => 'token-1',
    ...options,
  });
  return { engine: e, sleeps };
}

function execution(state: QueryExecutionState, extra: Record<string, unknown> = {}): GetQueryExecutionCommandOutput {
  return {
    $metadata: {},
    QueryExecution: {
      QueryExecutionId: QUERY_ID,
      StatementType: 'DML',
      Status: { State: state, ...extra },
      Statistics: state === 'SUCCEEDED' ? { EngineExecutionTimeInMillis: 1234, DataScannedInBytes: 56789 } : undefined,
    },
  };
}

function throttling(name = 'ThrottlingException'): Error {
  return Object.assign(new Error('Rate exceeded'), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

function resultPage(rows: Array<Array<string | undefined>>, nextToken?: string): GetQueryResultsCommandOutput {
  return {
    $metadata: {},
    NextToken: nextToken,
    ResultSet: {
      ResultSetMetadata: {
        ColumnInfo: [
          { Name: 'EventName', Type: 'varchar' },
          { Name: 'calls', Type: 'bigint' },
          { Name: 'ratio', Type: 'double' },
          { Name: 'readonly', Type: 'boolean' },
          { Name: 'first_seen', Type: 'timestamp' },
        ],
      },
      Rows: rows.map((r) => ({ Data: r.map((v) => (v === undefined ? {} : { VarCharValue: v })) })),
    },
  };
}

function mockSucceeded(): void {
  athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
  athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
  athena.on(GetQueryResultsCommand).resolves(resultPage([['eventname', 'calls', 'ratio', 'readonly', 'first_seen']]));
}

beforeEach(() => {
  athena.reset();
});

describe('encodeExecutionParameter', () => {
  test('strings become single-quoted literals with quotes doubled', () => {
    expect(encodeExecutionParameter("O'Brien")).toBe("'O''Brien'");
    expect(encodeExecutionParameter("''")).toBe("''''''");
    expect(encodeExecutionParameter('')).toBe("''");
  });

  test('unicode and backslashes are kept as they are', () => {
    expect(encodeExecutionParameter('Zürich ✓ 東京 🚀')).toBe("'Zürich ✓ 東京 🚀'");
    expect(encodeExecutionParameter('C:\\temp\\n')).toBe("'C:\\temp\\n'");
    expect(encodeExecutionParameter('a\nb')).toBe("'a\nb'");
  });

  test('numbers become decimal text, integers without fraction or exponent', () => {
    expect(encodeExecutionParameter(42)).toBe('42');
    expect(encodeExecutionParameter(-7)).toBe('-7');
    expect(encodeExecutionParameter(0)).toBe('0');
    expect(encodeExecutionParameter(-0)).toBe('0');
    expect(encodeExecutionParameter(1.5)).toBe('1.5');
    expect(encodeExecutionParameter(1e21)).toBe('1000000000000000000000');
    expect(encodeExecutionParameter(3.0)).toBe('3');
  });

  test('NaN and infinities are rejected', () => {
    expect(() => encodeExecutionParameter(Number.NaN)).toThrow(BadInputError);
    expect(() => encodeExecutionParameter(Number.POSITIVE_INFINITY)).toThrow(BadInputError);
    expect(() => encodeExecutionParameter(Number.NEGATIVE_INFINITY)).toThrow(BadInputError);
  });

  test('booleans become true/false', () => {
    expect(encodeExecutionParameter(true)).toBe('true');
    expect(encodeExecutionParameter(false)).toBe('false');
  });

  test('encoded values are limited to 1,024 characters', () => {
    expect(encodeExecutionParameter('a'.repeat(1022))).toHaveLength(1024);
    expect(() => encodeExecutionParameter('a'.repeat(1023))).toThrow(BadInputError);
    // Quote doubling counts: 600 quotes become 1,200 characters.
    expect(() => encodeExecutionParameter("'".repeat(600))).toThrow(/too long: 1202 characters/);
  });
});

describe('decodeAthenaValue', () => {
  test.each([
    ['varchar', 'abc', 'abc'],
    ['char', 'x', 'x'],
    ['json', '{"a":1}', '{"a":1}'],
    ['bigint', '9007199254740991', 9007199254740991],
    ['integer', '-3', -3],
    ['smallint', '7', 7],
    ['tinyint', '1', 1],
    ['double', '0.25', 0.25],
    ['double', '1.0E-7', 1e-7],
    ['real', '2.5', 2.5],
    ['float', '2.5', 2.5],
    ['decimal', '12.50', 12.5],
    ['boolean', 'true', true],
    ['boolean', 'false', false],
    ['timestamp', '2023-07-10 11:42:18.000', '2023-07-10T11:42:18.000Z'],
    ['timestamp', '2023-07-10 11:42:18', '2023-07-10T11:42:18Z'],
    ['timestamp with time zone', '2023-07-10 11:42:18.000 UTC', '2023-07-10T11:42:18.000Z'],
    ['timestamp with time zone', '2023-07-10 11:42:18.000 Europe/Paris', '2023-07-10 11:42:18.000 Europe/Paris'],
    ['date', '2023-07-10', '2023-07-10'],
    ['array', '[a, b]', '[a, b]'],
    ['map', '{k=v}', '{k=v}'],
    ['row', '{arn=x, type=y}', '{arn=x, type=y}'],
  ] as const)('%s %p', (type, text, expected) => {
    expect(decodeAthenaValue(type, text)).toEqual(expected);
  });

  test('a missing VarCharValue is null whatever the type', () => {
    for (const type of ['varchar', 'bigint', 'boolean', 'timestamp', 'array']) expect(decodeAthenaValue(type, undefined)).toBeNull();
  });

  test('an empty varchar stays an empty string', () => {
    expect(decodeAthenaValue('varchar', '')).toBe('');
  });
});

describe('AthenaEngine.execute', () => {
  test('sends StartQueryExecution with workgroup, output location, result reuse and parameters', async () => {
    mockSucceeded();
    const { engine: e } = engine({ resultReuseMaxAgeMinutes: 30 });
    await e.execute(query('SELECT 1 FROM t WHERE a = ? AND b = ? AND c = ?', ["O'Brien", 5, true]));

    const starts = athena.commandCalls(StartQueryExecutionCommand);
    expect(starts).toHaveLength(1);
    expect(starts[0]!.args[0].input).toStrictEqual({
      // With reuse on, the text carries a hash of the parameters (see test/athena-limits.test.ts).
      QueryString: expect.stringMatching(/^\/\* trailql parameters sha256:[0-9a-f]{64} \*\/\nSELECT 1 FROM t WHERE a = \? AND b = \? AND c = \?$/),
      ClientRequestToken: 'token-1',
      QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: 'trailql' },
      WorkGroup: 'trailql-wg',
      ResultConfiguration: { OutputLocation: 's3://trailql-results/athena/' },
      ExecutionParameters: ["'O''Brien'", '5', 'true'],
      ResultReuseConfiguration: { ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: 30 } },
    });
  });

  test('a request for fresh answers takes no result Athena kept: no reuse, the plain statement', async () => {
    mockSucceeded();
    const { engine: e } = engine({ resultReuseMaxAgeMinutes: 30 });
    await e.execute(query('SELECT 1 FROM t WHERE a = ?', [1]), { fresh: true });
    const input = athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input;
    expect(input.ResultReuseConfiguration).toBeUndefined();
    expect(input.QueryString).toBe('SELECT 1 FROM t WHERE a = ?');
  });

  test('omits ExecutionParameters, OutputLocation and result reuse when not needed', async () => {
    mockSucceeded();
    const { engine: e } = engine({ outputLocation: undefined, resultReuseMaxAgeMinutes: 0, catalog: 'other_catalog' });
    await e.execute(query('SELECT 1'));
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input).toStrictEqual({
      QueryString: 'SELECT 1',
      ClientRequestToken: 'token-1',
      QueryExecutionContext: { Catalog: 'other_catalog', Database: 'trailql' },
      WorkGroup: 'trailql-wg',
    });
  });

  test('rejects a parameter over 1,024 characters before anything is sent', async () => {
    mockSucceeded();
    const { engine: e } = engine();
    const value = 'x'.repeat(1023); // 1,025 characters once quoted
    await expect(e.execute(query('SELECT 1 WHERE a = ?', [value]))).rejects.toThrow(BadInputError);
    expect(athena.calls()).toHaveLength(0);
  });

  test('pages results with NextToken, drops only the first page header and decodes by type', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce(
        resultPage(
          [
            ['EventName', 'calls', 'ratio', 'readonly', 'first_seen'],
            ['CreateDetectorModel', '3', '0.5', 'false', '2024-05-01 10:00:00.000'],
          ],
          't1',
        ),
      )
      .resolvesOnce(
        resultPage(
          [
            // looks like a header but is data: only the first page carries one
            ['EventName', '4', '1.0', 'true', '2024-05-01 11:00:00.000'],
            [undefined, undefined, undefined, undefined, undefined],
          ],
          't2',
        ),
      )
      .resolvesOnce(resultPage([['ListInputs', '9007199254740991', '1.5E-7', 'true', '2024-05-02 00:00:00.123']]));

    const { engine: e } = engine();
    const result = await e.execute(query('SELECT ...'));

    expect(result.rows).toEqual([
      { eventname: 'CreateDetectorModel', calls: 3, ratio: 0.5, readonly: false, first_seen: '2024-05-01T10:00:00.000Z' },
      { eventname: 'EventName', calls: 4, ratio: 1, readonly: true, first_seen: '2024-05-01T11:00:00.000Z' },
      { eventname: null, calls: null, ratio: null, readonly: null, first_seen: null },
      { eventname: 'ListInputs', calls: 9007199254740991, ratio: 1.5e-7, readonly: true, first_seen: '2024-05-02T00:00:00.123Z' },
    ]);
    expect(result.stats).toEqual({ engineMs: 1234, bytesScanned: 56789, queryId: QUERY_ID });
    expect(athena.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input)).toStrictEqual([
      { QueryExecutionId: QUERY_ID, MaxResults: 1000 },
      { QueryExecutionId: QUERY_ID, MaxResults: 1000, NextToken: 't1' },
      { QueryExecutionId: QUERY_ID, MaxResults: 1000, NextToken: 't2' },
    ]);
  });

  test('polls QUEUED -> RUNNING -> SUCCEEDED with growing waits', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('QUEUED'))
      .resolvesOnce(execution('RUNNING'))
      .resolves(execution('SUCCEEDED'));
    athena.on(GetQueryResultsCommand).resolves(resultPage([['h1', 'h2', 'h3', 'h4', 'h5']]));

    const { engine: e, sleeps } = engine();
    const result = await e.execute(query('SELECT 1'));

    expect(result.rows).toEqual([]);
    expect(sleeps).toEqual([100, 150]);
    expect(athena.commandCalls(GetQueryExecutionCommand).map((c) => c.args[0].input)).toStrictEqual([
      { QueryExecutionId: QUERY_ID },
      { QueryExecutionId: QUERY_ID },
      { QueryExecutionId: QUERY_ID },
    ]);
    expect(athena.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'StartQueryExecutionCommand',
      'GetQueryExecutionCommand',
      'GetQueryExecutionCommand',
      'GetQueryExecutionCommand',
      'GetQueryResultsCommand',
    ]);
  });

  test('poll waits grow by 1.5x and stop at pollMaxMs', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    const states = athena.on(GetQueryExecutionCommand);
    for (let i = 0; i < 6; i++) states.resolvesOnce(execution('RUNNING'));
    states.resolves(execution('SUCCEEDED'));
    athena.on(GetQueryResultsCommand).resolves(resultPage([['h']]));
    const { engine: e, sleeps } = engine({ pollInitialMs: 100, pollMaxMs: 300 });
    await e.execute(query('SELECT 1'));
    expect(sleeps).toEqual([100, 150, 225, 300, 300, 300]);
  });

  test('FAILED with a user error (category 2) gives a non-retryable user EngineError', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(
      execution('FAILED', {
        StateChangeReason: "SYNTAX_ERROR: line 1:8: Column 'nope' cannot be resolved",
        AthenaError: { ErrorCategory: 2, ErrorType: 1001, Retryable: false, ErrorMessage: 'cannot be resolved' },
      }),
    );
    const { engine: e } = engine();
    const err = await e.execute(query('SELECT nope')).catch((x: unknown) => x);

    expect(err).toBeInstanceOf(EngineError);
    const engineError = err as EngineError;
    expect(engineError.engine).toBe('athena');
    expect(engineError.options).toMatchObject({ userError: true, retryable: false, queryId: QUERY_ID });
    expect(engineError.message).toMatch(/user error.*Column 'nope' cannot be resolved/);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(0);
  });

  test('FAILED with a system error (category 1) is not a user error, retryable as Athena says', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(
      execution('FAILED', {
        StateChangeReason: 'INTERNAL_ERROR_QUERY_ENGINE',
        AthenaError: { ErrorCategory: 1, ErrorType: 401, Retryable: true },
      }),
    );
    const { engine: e } = engine();
    const err = (await e.execute(query('SELECT 1')).catch((x: unknown) => x)) as EngineError;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.options).toMatchObject({ userError: false, retryable: true, queryId: QUERY_ID });
    expect(err.message).toMatch(/system error/);
  });

  test('FAILED with an unknown category (3) or none is a system error', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('FAILED', { AthenaError: { ErrorCategory: 3 } }))
      .resolvesOnce(execution('FAILED', {}));
    const { engine: e } = engine();
    for (let i = 0; i < 2; i++) {
      const err = (await e.execute(query('SELECT 1')).catch((x: unknown) => x)) as EngineError;
      expect(err).toBeInstanceOf(EngineError);
      expect(err.options).toMatchObject({ userError: false, retryable: false });
    }
  });

  test('CANCELLED by someone else gives an EngineError', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('CANCELLED'));
    const { engine: e } = engine();
    await expect(e.execute(query('SELECT 1'))).rejects.toThrow(/cancelled/);
  });

  test('a FAILED query carries the bytes it had scanned (Athena bills them)', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    const failed = execution('FAILED', { AthenaError: { ErrorCategory: 2 } });
    athena.on(GetQueryExecutionCommand).resolves({ ...failed, QueryExecution: { ...failed.QueryExecution, Statistics: { DataScannedInBytes: 4096 } } });
    const { engine: e } = engine();
    const err = (await e.execute(query('SELECT 1')).catch((x: unknown) => x)) as EngineError;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.options).toMatchObject({ bytesScanned: 4096, queryId: QUERY_ID });
  });

  test("CANCELLED at the workgroup's per-query scan limit is refused as too large, with the limit", async () => {
    const LIMIT = 10 * 1024 ** 3;
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetWorkGroupCommand).resolves({ WorkGroup: { Name: 'trailql', Configuration: { BytesScannedCutoffPerQuery: LIMIT } } });
    const cancelled = (scanned: number) => {
      const out = execution('CANCELLED');
      return { ...out, QueryExecution: { ...out.QueryExecution, Statistics: { DataScannedInBytes: scanned } } };
    };
    athena.on(GetQueryExecutionCommand).resolvesOnce(cancelled(LIMIT + 1)).resolves(cancelled(LIMIT / 2));
    const { engine: e } = engine();
    const err = (await e.execute(query('SELECT 1')).catch((x: unknown) => x)) as TooComplexError;
    expect(err).toBeInstanceOf(TooComplexError);
    expect(err.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', budget: 'bytesScannedPerQuery', limit: LIMIT, http: { status: 400 } });
    expect(err.message).toMatch(/BytesScannedCutoffPerQuery/);
    // What it had scanned is billed all the same: the runner charges it.
    expect((err as unknown as { bytesScanned: number }).bytesScanned).toBe(LIMIT + 1);
    // Cancelled below the limit: someone else stopped it, the engine's error as before; the limit was asked once.
    await expect(e.execute(query('SELECT 1'))).rejects.toThrow(/cancelled outside this request/);
    expect(athena.commandCalls(GetWorkGroupCommand)).toHaveLength(1);
  });

  test('ThrottlingException on GetQueryExecution is retried with jittered backoff', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).rejectsOnce(throttling()).resolves(execution('SUCCEEDED'));
    athena.on(GetQueryResultsCommand).rejectsOnce(throttling()).resolves(resultPage([['h'], ['x', '1', '2', 'true', undefined]]));
    const { engine: e, sleeps } = engine();
    const result = await e.execute(query('SELECT 1'));
    expect(result.rows).toHaveLength(1);
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(2);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(2);
    // full jitter with random() = 0.5 over base 200 ms
    expect(sleeps).toEqual([100, 100]);
  });

  test('TooManyRequestsException on StartQueryExecution is retried with the same request token', async () => {
    const tooMany = new TooManyRequestsException({ message: 'concurrent queries', $metadata: {}, Reason: 'CONCURRENT_QUERY_LIMIT_EXCEEDED' });
    athena.on(StartQueryExecutionCommand).rejectsOnce(tooMany).rejectsOnce(tooMany).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    athena.on(GetQueryResultsCommand).resolves(resultPage([['h']]));
    let tokens = 0;
    const { engine: e, sleeps } = engine({}, { clientRequestToken: () => `token-${++tokens}` });
    await e.execute(query('SELECT 1'));
    const starts = athena.commandCalls(StartQueryExecutionCommand);
    expect(starts).toHaveLength(3);
    expect(starts.map((c) => c.args[0].input.ClientRequestToken)).toEqual(['token-1', 'token-1', 'token-1']);
    expect(sleeps).toEqual([100, 200]);
  });

  test('errors flagged as throttling by the SDK metadata are retried too', async () => {
    const flagged = Object.assign(new Error('slow down'), { name: 'SlowDown', $retryable: { throttling: true } });
    expect(isThrottlingError(flagged)).toBe(true);
    expect(isThrottlingError(new Error('x'))).toBe(false);
    athena.on(StartQueryExecutionCommand).rejectsOnce(flagged).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('SUCCEEDED'));
    athena.on(GetQueryResultsCommand).resolves(resultPage([['h']]));
    const { engine: e } = engine();
    await e.execute(query('SELECT 1'));
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(2);
  });

  test('gives up after maxRetries throttled attempts with a retryable EngineError', async () => {
    athena.on(StartQueryExecutionCommand).rejects(throttling());
    const { engine: e, sleeps } = engine({ maxRetries: 2 });
    const err = (await e.execute(query('SELECT 1')).catch((x: unknown) => x)) as EngineError;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.options).toMatchObject({ retryable: true });
    expect(err.message).toMatch(/StartQueryExecution kept being throttled/);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(3);
    expect(sleeps).toEqual([100, 200]);
  });

  test('other SDK errors become system EngineErrors without retries', async () => {
    athena.on(StartQueryExecutionCommand).rejects(new InvalidRequestException({ message: 'WorkGroup is not found', $metadata: {} }));
    const { engine: e } = engine();
    const err = (await e.execute(query('SELECT 1')).catch((x: unknown) => x)) as EngineError;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toMatch(/StartQueryExecution failed: InvalidRequestException: WorkGroup is not found/);
    expect(err.options.userError).toBeFalsy();
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
  });

  test('a server fault or a dropped connection is retried, the start with the same token', async () => {
    const fault = () => new InternalServerException({ message: 'internal', $metadata: { httpStatusCode: 500 } });
    athena
      .on(StartQueryExecutionCommand)
      .rejectsOnce(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).rejectsOnce(fault()).resolves(execution('SUCCEEDED'));
    const header = ['eventname', 'calls', 'ratio', 'readonly', 'first_seen'];
    athena
      .on(GetQueryResultsCommand)
      .resolvesOnce(resultPage([header, ['ListInputs', '1', '0.5', 'true', '2024-05-01 00:00:00.000']], 'page-2'))
      .rejectsOnce(Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' }))
      .resolves(resultPage([['DeleteInput', '2', '0.25', 'false', '2024-05-01 01:00:00.000']]));
    const { engine: e } = engine();
    const result = await e.execute(query('SELECT 1'));
    expect(result.rows.map((r) => r.eventname)).toEqual(['ListInputs', 'DeleteInput']);
    expect(athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.ClientRequestToken)).toEqual(['token-1', 'token-1']);
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(2);
    // The second page asked again with its own token.
    expect(athena.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'page-2', 'page-2']);
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(0);
  });

  test('a running query is stopped when a call keeps failing', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).rejects(new InternalServerException({ message: 'internal', $metadata: { httpStatusCode: 500 } }));
    athena.on(StopQueryExecutionCommand).resolves({});
    const { engine: e } = engine({ maxRetries: 2 });
    const err = (await e.execute(query('SELECT 1')).catch((x: unknown) => x)) as EngineError;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toMatch(/GetQueryExecution kept failing \(InternalServerException\); gave up after 2 retries/);
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(3);
    expect(athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toStrictEqual([{ QueryExecutionId: QUERY_ID }]);
  });

  test('a start that does not answer ends with the time limit, and the query it starts late is stopped', async () => {
    let answer!: (v: { QueryExecutionId: string }) => void;
    athena.on(StartQueryExecutionCommand).callsFake(() => new Promise((resolve) => (answer = resolve)));
    athena.on(StopQueryExecutionCommand).resolves({});
    const { engine: e } = engine();
    const err = (await e.execute(query('SELECT 1'), { timeoutMs: 30 }).catch((x: unknown) => x)) as EngineError;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.options.timeout).toBe(true);
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(0);
    answer({ QueryExecutionId: 'q-late' });
    await new Promise((r) => setTimeout(r, 20));
    expect(athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toStrictEqual([{ QueryExecutionId: 'q-late' }]);
  });

  test('a failure Athena marks Retryable is polled again: its own retry may succeed', async () => {
    mockSucceeded();
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('RUNNING'))
      .resolvesOnce(execution('FAILED', { StateChangeReason: 'S3 Slow Down', AthenaError: { ErrorCategory: 2, Retryable: true } }))
      .resolvesOnce(execution('QUEUED'))
      .resolves(execution('SUCCEEDED'));
    const { engine: e } = engine();
    await expect(e.execute(query('SELECT 1'))).resolves.toBeDefined();
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(4);
  });

  test('result reuse only for a window that ended a delivery lag ago', async () => {
    mockSucceeded();
    const now = new Date('2024-05-03T12:00:00Z');
    const { engine: e } = engine({ resultReuseMaxAgeMinutes: 30 }, { now: () => now, deliveryLagMs: 24 * 3_600_000 });
    const ending = (to: string) => ({ ...query('SELECT 1 FROM t WHERE a = ?', [1]), window: { from: new Date('2024-05-01T00:00:00Z'), to: new Date(to) } });
    await e.execute(ending('2024-05-02T12:00:00Z'));
    await e.execute(ending('2024-05-02T12:00:01Z'));
    await e.execute(ending('2024-05-04T00:00:00Z'));
    expect(athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.ResultReuseConfiguration !== undefined)).toEqual([true, false, false]);
  });

  test('an abort while polling stops the query and throws', async () => {
    const controller = new AbortController();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).callsFake(async () => {
      setTimeout(() => controller.abort(), 20);
      return execution('RUNNING');
    });
    athena.on(StopQueryExecutionCommand).resolves({});
    // Real sleeps with a one-minute poll interval: the test only finishes fast if the wait wakes on abort.
    const e = new AthenaEngine({ ...SETTINGS, pollInitialMs: 60_000, pollMaxMs: 60_000 }, new AthenaClient({ region: 'eu-west-1' }));
    const started = Date.now();
    const err = (await e.execute(query('SELECT 1'), { signal: controller.signal }).catch((x: unknown) => x)) as EngineError;

    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err).toBeInstanceOf(EngineError);
    expect(err.message).toMatch(/Athena query q-0001 cancelled: the request was aborted/);
    expect(err.options).toMatchObject({ queryId: QUERY_ID });
    expect(err.options.timeout).toBeFalsy();
    expect(athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toStrictEqual([{ QueryExecutionId: QUERY_ID }]);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  test('a failing StopQueryExecution is swallowed', async () => {
    const controller = new AbortController();
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).callsFake(async () => {
      controller.abort();
      return execution('RUNNING');
    });
    athena.on(StopQueryExecutionCommand).rejects(new Error('network down'));
    const { engine: e } = engine();
    await expect(e.execute(query('SELECT 1'), { signal: controller.signal })).rejects.toThrow(/cancelled: the request was aborted/);
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(1);
  });

  test('an already aborted signal sends nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const { engine: e } = engine();
    await expect(e.execute(query('SELECT 1'), { signal: controller.signal })).rejects.toThrow(EngineError);
    expect(athena.calls()).toHaveLength(0);
  });

  test('the time limit stops the query and throws a timeout EngineError', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    athena.on(StopQueryExecutionCommand).resolves({});
    const e = new AthenaEngine({ ...SETTINGS, pollInitialMs: 5, pollMaxMs: 10 }, new AthenaClient({ region: 'eu-west-1' }));
    const err = (await e.execute(query('SELECT 1'), { timeoutMs: 50 }).catch((x: unknown) => x)) as EngineError;

    expect(err).toBeInstanceOf(EngineError);
    expect(err.options).toMatchObject({ timeout: true, queryId: QUERY_ID });
    expect(err.message).toMatch(/cancelled: it exceeded its time limit of 50 ms/);
    expect(athena.commandCalls(StopQueryExecutionCommand).map((c) => c.args[0].input)).toStrictEqual([{ QueryExecutionId: QUERY_ID }]);
  });

  test('the default time limit comes from settings.queryTimeoutMs', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    athena.on(StopQueryExecutionCommand).resolves({});
    const e = new AthenaEngine({ ...SETTINGS, pollInitialMs: 5, pollMaxMs: 10, queryTimeoutMs: 40 }, new AthenaClient({ region: 'eu-west-1' }));
    await expect(e.execute(query('SELECT 1'))).rejects.toMatchObject({ options: { timeout: true } });
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(1);
  });

  test('a caller signal aborted by AbortSignal.timeout counts as a timeout', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena.on(GetQueryExecutionCommand).resolves(execution('RUNNING'));
    athena.on(StopQueryExecutionCommand).resolves({});
    const e = new AthenaEngine({ ...SETTINGS, pollInitialMs: 5, pollMaxMs: 10 }, new AthenaClient({ region: 'eu-west-1' }));
    await expect(e.execute(query('SELECT 1'), { signal: AbortSignal.timeout(30) })).rejects.toMatchObject({ options: { timeout: true } });
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(1);
  });

  test('an abort during a throttling backoff before the query started stops nothing', async () => {
    const controller = new AbortController();
    athena.on(StartQueryExecutionCommand).rejects(throttling());
    const { engine: e } = engine({}, {
      sleep: async () => {
        controller.abort();
      },
    });
    await expect(e.execute(query('SELECT 1'), { signal: controller.signal })).rejects.toThrow(/not started yet\) cancelled/);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
    expect(athena.commandCalls(StopQueryExecutionCommand)).toHaveLength(0);
  });
});

describe('AthenaEngine, other members', () => {
  test('name, capabilities and sourceId', () => {
    const { engine: e } = engine();
    expect(e.name).toBe('athena');
    expect(e.capabilities).toEqual({ billedByScan: true, cancellable: true });
    expect(e.sourceId).toBe('athena:AwsDataCatalog.trailql.cloudtrail_logs@s3://org-trail-bucket/ct/');
    expect(engine({ prefix: '' }).engine.sourceId).toBe('athena:AwsDataCatalog.trailql.cloudtrail_logs@s3://org-trail-bucket/');
  });

  test('runStatement runs DDL through the same path, without rows or result reuse', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: QUERY_ID });
    athena
      .on(GetQueryExecutionCommand)
      .resolvesOnce(execution('RUNNING'))
      .resolves({ $metadata: {}, QueryExecution: { StatementType: 'DDL', Status: { State: 'SUCCEEDED' } } });
    const { engine: e } = engine({ resultReuseMaxAgeMinutes: 60 });
    const result = await e.runStatement('CREATE DATABASE IF NOT EXISTS `trailql`', { database: null });
    expect(result).toMatchObject({ queryId: QUERY_ID, statementType: 'DDL' });
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input).toStrictEqual({
      QueryString: 'CREATE DATABASE IF NOT EXISTS `trailql`',
      ClientRequestToken: 'token-1',
      QueryExecutionContext: { Catalog: 'AwsDataCatalog' },
      WorkGroup: 'trailql-wg',
      ResultConfiguration: { OutputLocation: 's3://trailql-results/athena/' },
    });
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
  });

  test('getTableMetadata returns the metadata, or undefined when the table does not exist', async () => {
    athena
      .on(GetTableMetadataCommand)
      .resolvesOnce({ TableMetadata: { Name: 'cloudtrail_logs' } })
      .rejectsOnce(new MetadataException({ message: 'Entity Not Found (Service: AmazonDataCatalog; Error Code: EntityNotFoundException)', $metadata: {} }))
      .rejectsOnce(new MetadataException({ message: 'Access denied', $metadata: {} }));
    const { engine: e } = engine();
    await expect(e.getTableMetadata()).resolves.toEqual({ Name: 'cloudtrail_logs' });
    await expect(e.getTableMetadata()).resolves.toBeUndefined();
    await expect(e.getTableMetadata()).rejects.toThrow(/GetTableMetadata failed: MetadataException: Access denied/);
    expect(athena.commandCalls(GetTableMetadataCommand)[0]!.args[0].input).toStrictEqual({
      CatalogName: 'AwsDataCatalog',
      DatabaseName: 'trailql',
      TableName: 'cloudtrail_logs',
    });
  });

  test('ping calls GetWorkGroup and fails on a disabled workgroup or an SDK error', async () => {
    athena
      .on(GetWorkGroupCommand)
      .resolvesOnce({ WorkGroup: { Name: 'trailql-wg', State: 'ENABLED' } })
      .resolvesOnce({ WorkGroup: { Name: 'trailql-wg', State: 'DISABLED' } })
      .rejectsOnce(new Error('no credentials'));
    const { engine: e } = engine();
    await expect(e.ping()).resolves.toBeUndefined();
    await expect(e.ping()).rejects.toThrow(/disabled/);
    await expect(e.ping()).rejects.toThrow(EngineError);
    expect(athena.commandCalls(GetWorkGroupCommand)[0]!.args[0].input).toStrictEqual({ WorkGroup: 'trailql-wg' });
  });

  test('close destroys the client', async () => {
    const client = new AthenaClient({ region: 'eu-west-1' });
    const destroy = jest.spyOn(client, 'destroy');
    await new AthenaEngine(SETTINGS, client).close();
    expect(destroy).toHaveBeenCalledTimes(1);
  });
});
