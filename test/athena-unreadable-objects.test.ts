/**
 * A trail object Athena cannot read: the query that fails on it names it, the object is set aside
 * and the question asked again without it (`"$path" NOT IN (...)`), and the answer covers the
 * other files and names the one left out (`complete: false`, FILES_UNREADABLE), as on DuckDB.
 * Failures that name no object of the trail, or tell of S3's load, fail as before: nothing is
 * ever left out unnamed. Over HTTP, the real driver sends its statements through the SDK (mocked)
 * to the Athena-on-DuckDB shim, where the damaged file fails every statement that reads it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, GetWorkGroupCommand, StartQueryExecutionCommand, StopQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { athenaDialect } from '../src/engines/athena/dialect';
import { AthenaEngine, ScanCutoffError } from '../src/engines/athena/driver';
import type { AthenaSettings } from '../src/engines/athena/settings';
import { MAX_SET_ASIDE_PER_QUERY, RECHECK_MS, unreadableObjectOf } from '../src/engines/athena/unreadable-objects';
import { compile } from '../src/query/compiler';
import { EngineError } from '../src/errors';
import { followPages } from './support/api-calls';
import { AthenaSqlOnDuckDb } from './support/athena-on-duckdb';
import { athenaSdkOnShim, ShimAthena } from './support/athena-sdk-on-shim';
import { apiCallsCountPlan } from './support/plans';
import { IOT_SOURCES, RawRecord, dedupe, inWindow, listRecordFiles } from './support/records';
import { GqlResponse, TestServer, startServer } from './support/server';
import { SAMPLE_END, sampleTrail } from './support/trails';

const athena = mockClient(AthenaClient);

const ROOT = 's3://org-trail-bucket/ct/';
const KEY = 'AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/eu-west-1/2026/03/13/111122223333_CloudTrail_eu-west-1_20260313T1005Z_abc.json.gz';
const SETTINGS: AthenaSettings = {
  region: 'eu-west-1',
  workGroup: 'trailql-wg',
  database: 'trailql',
  table: 'cloudtrail_logs',
  bucket: 'org-trail-bucket',
  prefix: 'ct',
  accounts: ['111122223333'],
  regions: ['eu-west-1', 'us-east-1'],
  startDate: '2024/01/01',
};
const ORG = athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true });

describe('which failures name an unreadable object', () => {
  test('a reading error naming an object of the trail: its key from AWSLogs/ on, a short reason', () => {
    expect(unreadableObjectOf(`HIVE_CURSOR_ERROR: Row is not a valid JSON Object - JSONException: A JSONObject text must begin with '{' at 1 [character 2 line 1] (file ${ROOT}${KEY})`, ROOT)).toEqual({
      uri: `${ROOT}${KEY}`,
      path: KEY,
      reason: 'malformed JSON',
    });
    expect(unreadableObjectOf(`HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split ${ROOT}${KEY} (offset=0, length=200): Unexpected end of input stream`, ROOT)).toEqual({
      uri: `${ROOT}${KEY}`,
      path: KEY,
      reason: 'not a complete gzip stream',
    });
    expect(unreadableObjectOf(`HIVE_CURSOR_ERROR: Failed to read file '${ROOT}${KEY}'.`, ROOT)?.path).toBe(KEY);
    expect(unreadableObjectOf(`HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split ${ROOT}${KEY}: Access Denied (Service: Amazon S3; Status Code: 403)`, ROOT)?.reason).toBe('permission denied');
  });

  test("the words of the trail's own place are not read as S3's load", () => {
    const root = 's3://logs-500-timeout/throttled-503/';
    expect(unreadableObjectOf(`HIVE_CURSOR_ERROR: Row is not a valid JSON Object (file ${root}${KEY})`, root)?.path).toBe(KEY);
  });

  test('no object named, one outside the trail, S3 load, or an error of the statement: none', () => {
    expect(unreadableObjectOf('HIVE_CURSOR_ERROR: Unexpected end of input stream', ROOT)).toBeUndefined();
    expect(unreadableObjectOf(`HIVE_CURSOR_ERROR: bad data in s3://other-bucket/ct/${KEY}`, ROOT)).toBeUndefined();
    expect(unreadableObjectOf(`HIVE_CURSOR_ERROR: bad data in s3://org-trail-bucket/other/${KEY}`, ROOT)).toBeUndefined();
    expect(unreadableObjectOf(`HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split ${ROOT}${KEY} (offset=0, length=18614): Slow Down (Service: Amazon S3; Status Code: 503)`, ROOT)).toBeUndefined();
    expect(unreadableObjectOf(`HIVE_CURSOR_ERROR: Please reduce your request rate. ${ROOT}${KEY}`, ROOT)).toBeUndefined();
    expect(unreadableObjectOf(`SYNTAX_ERROR: line 1:8: Column '${ROOT}${KEY}' cannot be resolved`, ROOT)).toBeUndefined();
    // Athena's error code leads the reason; one later in the text is not Athena's.
    expect(unreadableObjectOf(`Query failed: HIVE_CURSOR_ERROR: bad data (file ${ROOT}${KEY})`, ROOT)).toBeUndefined();
    // S3 failing to send the object, whatever the words.
    for (const load of ['ConnectionClosedException: Premature end of Content-Length delimited message body', 'Unable to execute HTTP request: The target server failed to respond', 'java.net.SocketException: Connection reset']) {
      expect(unreadableObjectOf(`HIVE_CURSOR_ERROR: ${load} (file ${ROOT}${KEY})`, ROOT)).toBeUndefined();
    }
    // Two objects named (a value of the data echoed in the reason may name one): no guess.
    const other = KEY.replace('_abc.', '_def.');
    expect(unreadableObjectOf(`HIVE_BAD_DATA: Error parsing field value '${ROOT}${other}' for field 4 (file ${ROOT}${KEY})`, ROOT)).toBeUndefined();
    // A key cut short is no delivery file.
    expect(unreadableObjectOf(`HIVE_CURSOR_ERROR: bad data in ${ROOT}${KEY.replace(/_abc\.json\.gz$/, '_a')}`, ROOT)).toBeUndefined();
    // Not a delivery file's place in the layout.
    expect(unreadableObjectOf(`HIVE_CURSOR_ERROR: bad data in ${ROOT}AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/03/13/x.json.gz`, ROOT)).toBeUndefined();
    expect(unreadableObjectOf(`HIVE_CURSOR_ERROR: bad data in ${ROOT}AWSLogs/111122223333/CloudTrail/eu-west-1/2026/03/13/../x.json.gz`, ROOT)).toBeUndefined();
  });
});

describe('the driver', () => {
  const WINDOW = { from: new Date('2026-03-13T00:00:00Z'), to: new Date('2026-03-14T00:00:00Z') };
  const question = () => compile(ORG, apiCallsCountPlan({ accounts: ['111122223333'], regions: ['eu-west-1'] }, WINDOW), 1);
  let clock: Date;
  let logged: unknown[];
  const engine = () =>
    new AthenaEngine(SETTINGS, new AthenaClient({ region: 'eu-west-1' }), {
      sleep: async () => undefined,
      random: () => 0.5,
      now: () => clock,
      logger: { warn: (o: unknown) => void logged.push(o) },
    });
  /** Every query fails naming the next of `reasons`, then succeeds with one row. */
  function failing(reasons: string[]) {
    const starts: { sql: string; params: string[] }[] = [];
    athena.reset();
    athena.on(StartQueryExecutionCommand).callsFake(async (input: { QueryString: string; ExecutionParameters?: string[] }) => {
      starts.push({ sql: input.QueryString, params: input.ExecutionParameters ?? [] });
      return { QueryExecutionId: `q-${starts.length}` };
    });
    athena.on(GetQueryExecutionCommand).callsFake(async (input: { QueryExecutionId: string }) => {
      const n = Number(input.QueryExecutionId.slice(2));
      const reason = reasons[n - 1];
      return {
        QueryExecution: reason
          ? { QueryExecutionId: input.QueryExecutionId, Status: { State: 'FAILED', StateChangeReason: reason, AthenaError: { ErrorCategory: 2, Retryable: false } }, Statistics: { DataScannedInBytes: 100 } }
          : { QueryExecutionId: input.QueryExecutionId, StatementType: 'DML', Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 1000 } },
      };
    });
    athena.on(GetQueryResultsCommand).resolves({ ResultSet: { ResultSetMetadata: { ColumnInfo: [{ Name: 'n', Type: 'bigint' }] }, Rows: [{ Data: [{ VarCharValue: 'n' }] }, { Data: [{ VarCharValue: '7' }] }] } });
    athena.on(StopQueryExecutionCommand).resolves({});
    return starts;
  }
  const named = (key: string) => `HIVE_CURSOR_ERROR: Row is not a valid JSON Object (file ${ROOT}${key})`;
  const keyOf = (i: number, day = '13') => KEY.replace('/13/', `/${day}/`).replace('_abc.', `_f${i}.`);

  beforeEach(() => {
    clock = new Date('2026-03-14T12:00:00Z');
    logged = [];
  });

  test('sets the object aside, asks again without it, names it, and bills both tries', async () => {
    const starts = failing([named(keyOf(1))]);
    const e = engine();
    const result = await e.execute(question());
    expect(result.rows).toEqual([{ n: 7 }]);
    expect(result.stats.unreadable).toEqual([{ path: keyOf(1), reason: 'malformed JSON' }]);
    expect(result.stats.bytesScanned).toBe(1100);
    expect(starts).toHaveLength(2);
    expect(starts[0]!.sql).not.toContain('"$path" NOT IN');
    expect(starts[1]!.sql).toContain('"$path" NOT IN (?)');
    expect(starts[1]!.params).toContain(`'${ROOT}${keyOf(1)}'`);
    expect(starts[1]!.sql).not.toContain(ROOT);
    expect(logged).toEqual([expect.objectContaining({ file: keyOf(1), reason: 'malformed JSON' })]);
    expect((await e.trailHealth()).unreadable).toEqual([{ path: keyOf(1), reason: 'malformed JSON', size: 0, since: clock.toISOString() }]);

    // The next question over that day leaves it out from the start; one over another day does not.
    const again = failing([]);
    expect((await e.execute(question())).stats.unreadable).toEqual([{ path: keyOf(1), reason: 'malformed JSON' }]);
    expect(again).toHaveLength(1);
    expect(again[0]!.sql).toContain('"$path" NOT IN (?)');
    const otherDay = compile(ORG, apiCallsCountPlan({}, { from: new Date('2026-02-13T00:00:00Z'), to: new Date('2026-02-14T00:00:00Z') }), 1);
    expect((await e.execute(otherDay)).stats.unreadable).toBeUndefined();
    expect(again[1]!.sql).not.toContain('"$path" NOT IN');

    // An hour on it is read again (a repaired or redelivered file counts again).
    clock = new Date(clock.getTime() + RECHECK_MS + 1);
    const later = failing([]);
    expect((await e.execute(question())).stats.unreadable).toBeUndefined();
    expect(later[0]!.sql).not.toContain('"$path" NOT IN');
    expect((await e.trailHealth()).unreadable).toEqual([]);
  });

  test('a failure naming no object, or S3 load, fails the query: nothing is left out unnamed', async () => {
    for (const reason of ['HIVE_CURSOR_ERROR: Unexpected end of input stream', `HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split ${ROOT}${keyOf(1)}: Slow Down (Status Code: 503)`]) {
      const starts = failing([reason]);
      const e = engine();
      await expect(e.execute(question())).rejects.toThrow(EngineError);
      expect(starts).toHaveLength(1);
      expect((await e.trailHealth()).unreadable).toEqual([]);
    }
  });

  test(`at most ${MAX_SET_ASIDE_PER_QUERY} objects a query, each try's bytes on the error; the same object named again ends it`, async () => {
    const reasons = Array.from({ length: MAX_SET_ASIDE_PER_QUERY + 1 }, (_, i) => named(keyOf(i)));
    const starts = failing(reasons);
    const e = engine();
    const err: EngineError = await e.execute(question()).then(
      () => {
        throw new Error('answered');
      },
      (x: EngineError) => x,
    );
    expect(err).toBeInstanceOf(EngineError);
    expect(err.options.bytesScanned).toBe(100 * (MAX_SET_ASIDE_PER_QUERY + 1));
    expect(starts).toHaveLength(MAX_SET_ASIDE_PER_QUERY + 1);
    expect(starts[MAX_SET_ASIDE_PER_QUERY]!.sql).toContain(`"$path" NOT IN (${Array(MAX_SET_ASIDE_PER_QUERY).fill('?').join(', ')})`);
    // Those found stay set aside: the next request goes on from there.
    expect((await e.trailHealth()).unreadable).toHaveLength(MAX_SET_ASIDE_PER_QUERY);

    const loop = failing([named(keyOf(9)), named(keyOf(9))]);
    await expect(engine().execute(question())).rejects.toThrow(/HIVE_CURSOR_ERROR/);
    expect(loop).toHaveLength(2);
  });

  test('a failure Athena marks Retryable sets nothing aside', async () => {
    const starts: string[] = [];
    athena.reset();
    athena.on(StartQueryExecutionCommand).callsFake(async (input: { QueryString: string }) => {
      starts.push(input.QueryString);
      return { QueryExecutionId: 'q-1' };
    });
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { QueryExecutionId: 'q-1', Status: { State: 'FAILED', StateChangeReason: named(keyOf(1)), AthenaError: { ErrorCategory: 1, Retryable: true } } },
    });
    athena.on(StopQueryExecutionCommand).resolves({});
    const e = engine();
    await expect(e.execute(question())).rejects.toThrow(/HIVE_CURSOR_ERROR/);
    expect(starts).toHaveLength(1);
    expect((await e.trailHealth()).unreadable).toEqual([]);
  });

  test("a single-account trail's statements read every account of a day: an object of another is left out too", async () => {
    const starts = failing([named(keyOf(1).replace('/111122223333/', '/999988887777/'))]);
    const single = athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: false });
    const result = await engine().execute(compile(single, apiCallsCountPlan({ accounts: ['111122223333'] }, WINDOW), 1));
    expect(result.stats.unreadable).toHaveLength(1);
    expect(starts[1]!.sql).toContain('"$path" NOT IN (?)');
  });

  test("an organization trail's statement over other accounts never reads the object: no second try", async () => {
    const starts = failing([named(keyOf(1).replace('/111122223333/', '/999988887777/'))]);
    const org = new AthenaEngine({ ...SETTINGS, orgId: 'o-a1b2c3d4e5' }, new AthenaClient({ region: 'eu-west-1' }), { sleep: async () => undefined, now: () => clock });
    const err = (await org.execute(question()).catch((x: unknown) => x)) as EngineError;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.options.bytesScanned).toBe(100);
    expect(starts).toHaveLength(1);
  });

  test("a later try cut at the workgroup's scan limit carries the earlier tries' bytes", async () => {
    const starts = failing([named(keyOf(1))]);
    athena.on(GetQueryExecutionCommand, { QueryExecutionId: 'q-2' }).resolves({
      QueryExecution: { QueryExecutionId: 'q-2', Status: { State: 'CANCELLED' }, Statistics: { DataScannedInBytes: 5000 } },
    });
    athena.on(GetWorkGroupCommand).resolves({ WorkGroup: { Name: 'trailql-wg', Configuration: { BytesScannedCutoffPerQuery: 5000 } } });
    const err = (await engine().execute(question()).catch((x: unknown) => x)) as ScanCutoffError;
    expect(err).toBeInstanceOf(ScanCutoffError);
    expect(err.bytesScanned).toBe(5100);
    expect(starts).toHaveLength(2);
  });

  test('a statement written by hand (no way to leave a file out) fails as Athena failed it', async () => {
    const starts = failing([named(keyOf(1))]);
    const { excluding: _, ...plain } = question();
    await expect(engine().execute(plain)).rejects.toThrow(/HIVE_CURSOR_ERROR/);
    expect(starts).toHaveLength(1);
  });
});

describe('over HTTP, the driver asking the shim through the SDK', () => {
  const PAGE = `query($filter: ApiCallFilter, $first: Int, $after: String) {
    apiCalls(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { eventId } } }
  }`;
  const FILTER = { from: '2026-03-13T00:00:00Z', to: '2026-03-14T00:00:00Z' };
  let dir: string;
  let server: TestServer;
  /** The same through a view that names each row's object `trailql_path` (athena/columnar.md). */
  let viewServer: TestServer;
  let shim: AthenaSqlOnDuckDb;
  let shimAthena: ShimAthena;
  let bad: string;
  const rel = (abs: string) => path.relative(dir, abs).split(path.sep).join('/');
  const recordsOf = (file: string) => (JSON.parse(gunzipSync(fs.readFileSync(file)).toString('utf8')) as { Records: RawRecord[] }).Records;

  beforeAll(async () => {
    dir = await sampleTrail(3, { iotEventsPerDay: 16, otherEventsPerIotEvent: 1 });
    const day = listRecordFiles(dir).filter((f) => f.includes(`${path.sep}2026${path.sep}03${path.sep}13${path.sep}`));
    bad = day.find((f) => recordsOf(f).some((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, new Date(FILTER.from), new Date(FILTER.to))))!;
    shim = await AthenaSqlOnDuckDb.create(dir, 'trailql', 'cloudtrail_logs', [
      { file: bad, error: `HIVE_CURSOR_ERROR: Row is not a valid JSON Object - JSONException: Unterminated string at 198 (file ${bad})` },
    ]);
    athena.reset();
    shimAthena = athenaSdkOnShim(athena, shim, dir, 's3://trail-bucket/');
    const engine = new AthenaEngine({ ...SETTINGS, bucket: 'trail-bucket', prefix: '' }, new AthenaClient({ region: 'eu-west-1' }), { sleep: async () => undefined });
    const close = engine.close.bind(engine);
    engine.close = async () => {
      await close();
      await shim.close();
    };
    server = await startServer(dir, {}, { now: () => SAMPLE_END, engine: { engine, dialect: ORG } });
    await shim.setUp(`CREATE VIEW trailql.cloudtrail_columnar AS SELECT * EXCLUDE ("$path"), "$path" AS trailql_path FROM trailql.cloudtrail_logs`);
    const viewEngine = new AthenaEngine({ ...SETTINGS, table: 'cloudtrail_columnar', pathColumn: 'trailql_path', bucket: 'trail-bucket', prefix: '' }, new AthenaClient({ region: 'eu-west-1' }), { sleep: async () => undefined });
    const viewDialect = athenaDialect({ database: 'trailql', table: 'cloudtrail_columnar', orgTrail: true, pathColumn: 'trailql_path' });
    viewServer = await startServer(dir, {}, { now: () => SAMPLE_END, engine: { engine: viewEngine, dialect: viewDialect } });
  });

  afterAll(async () => {
    await viewServer?.close();
    await server?.close();
    athena.reset();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('every page answers from the other files, names the one left out, and walk = totalCount', async () => {
    const responses: GqlResponse[] = [];
    const pages = await followPages(async (after) => {
      const res = await server.gql(PAGE, { filter: FILTER, first: 7, after });
      expect(res.errors).toBeUndefined();
      responses.push(res);
      return res.data.apiCalls;
    }, 50);
    const ids: string[] = pages.flatMap((p) => p.edges.map((e: { node: { eventId: string } }) => e.node.eventId));
    const expected = dedupe(listRecordFiles(dir).filter((f) => f !== bad).flatMap((file) => recordsOf(file).map((record) => ({ file, record }))))
      .filter((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, new Date(FILTER.from), new Date(FILTER.to)))
      .map((r) => r.eventID)
      .sort();
    expect(pages.length).toBeGreaterThan(1);
    expect([...ids].sort()).toEqual(expected);
    expect(new Set(ids).size).toBe(ids.length);
    expect(pages[0].totalCount).toBe(expected.length);
    for (const res of responses) {
      expect(res.extensions?.complete).toBe(false);
      const warnings = res.extensions?.warnings as { code: string; files: { path: string; reason: string }[] }[];
      expect(warnings.map((w) => w.code)).toEqual(['FILES_UNREADABLE']);
      expect(warnings[0]!.files).toEqual([{ path: rel(bad), reason: 'malformed JSON' }]);
    }
    // One statement read it and failed; every later one left it out from the start.
    expect(shimAthena.started.filter((sql) => !sql.includes('"$path" NOT IN')).length).toBe(1);

    const health = await server.gql(`{ trailHealth { unreadableFileCount unreadableFiles { path reason size } } }`);
    expect(health.data.trailHealth).toEqual({ unreadableFileCount: 1, unreadableFiles: [{ path: rel(bad), reason: 'malformed JSON', size: 0 }] });
  });

  test('through a view, the column the view names each object with stands for "$path": the same answer, the file named', async () => {
    const overTable = await server.gql(PAGE, { filter: FILTER, first: 500 });
    const overView = await viewServer.gql(PAGE, { filter: FILTER, first: 500 });
    expect(overView.errors).toBeUndefined();
    // Each server signs its own cursors: the calls and the count are compared.
    expect(overView.data.apiCalls.edges).toEqual(overTable.data.apiCalls.edges);
    expect(overView.data.apiCalls.totalCount).toBe(overTable.data.apiCalls.totalCount);
    expect(overView.extensions?.warnings).toEqual(overTable.extensions?.warnings);
    const last = shimAthena.started[shimAthena.started.length - 1]!;
    expect(last).toContain('"trailql_path" NOT IN (?)');
    expect(last).not.toContain('"$path"');
    // A view passes no hidden column on: "$path" is not there to read.
    const plain = compile(athenaDialect({ database: 'trailql', table: 'cloudtrail_columnar', orgTrail: true }), apiCallsCountPlan({}, { from: new Date(FILTER.from), to: new Date(FILTER.to) }), 1);
    await expect(shim.execute(plain)).rejects.toThrow(/\$path/);
  });

  test('a window without that file is complete and reads every file', async () => {
    const res = await server.gql(PAGE, { filter: { from: '2026-03-11T00:00:00Z', to: '2026-03-12T00:00:00Z' }, first: 5 });
    expect(res.errors).toBeUndefined();
    expect(res.extensions?.complete).toBe(true);
    expect(shimAthena.started[shimAthena.started.length - 1]).not.toContain('"$path" NOT IN');
  });
});
