import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetTableMetadataCommand,
  MetadataException,
  StartQueryExecutionCommand,
  type TableMetadata,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { expectedTable, renderDatabaseDdl, renderTableDdl } from '../src/engines/athena/ddl';
import { AthenaEngine } from '../src/engines/athena/driver';
import { athenaSettingsFromEnv } from '../src/engines/athena/env';
import { main, runAthenaSetup } from '../src/engines/athena/setup';
import type { AthenaSettings } from '../src/engines/athena/settings';

const athena = mockClient(AthenaClient);

const ENV = {
  ATHENA_REGION: 'eu-west-1',
  ATHENA_WORKGROUP: 'trailql',
  ATHENA_OUTPUT_LOCATION: 's3://results-bucket/athena/',
  TRAIL_BUCKET: 'my-trail-bucket',
  TRAIL_PREFIX: 'ct',
  TRAIL_ACCOUNTS: '123456789012',
  TRAIL_REGIONS: 'eu-west-1,us-east-1',
  TRAIL_START_DATE: '2024/01/01',
};
const SETTINGS: AthenaSettings = athenaSettingsFromEnv(ENV);

function makeEngine(settings: AthenaSettings): AthenaEngine {
  return new AthenaEngine(settings, new AthenaClient({ region: settings.region }), {
    sleep: async () => undefined,
    clientRequestToken: () => 'token',
  });
}

function notFound(): MetadataException {
  return new MetadataException({
    message: 'Entity Not Found (Service: AmazonDataCatalog; Status Code: 400; Error Code: EntityNotFoundException)',
    $metadata: {},
  });
}

function existingTable(change: (t: TableMetadata) => void = () => undefined): TableMetadata {
  const expected = expectedTable(SETTINGS);
  const table: TableMetadata = {
    Name: SETTINGS.table,
    TableType: 'EXTERNAL_TABLE',
    Columns: expected.columns.map((c) => ({ Name: c.name, Type: c.type })),
    PartitionKeys: expected.partitionKeys.map((p) => ({ Name: p.name, Type: p.type })),
    Parameters: { ...expected.parameters, EXTERNAL: 'TRUE' },
  };
  change(table);
  return table;
}

let ids = 0;
beforeEach(() => {
  athena.reset();
  ids = 0;
  athena.on(StartQueryExecutionCommand).callsFake(async () => ({ QueryExecutionId: `q-${++ids}` }));
  athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { StatementType: 'DDL', Status: { State: 'SUCCEEDED' } } });
});

function startedSql(): string[] {
  return athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.QueryString ?? '');
}

describe('runAthenaSetup', () => {
  test('creates the database, then the table when it does not exist', async () => {
    athena.on(GetTableMetadataCommand).rejects(notFound());
    const lines: string[] = [];
    const report = await runAthenaSetup(SETTINGS, makeEngine(SETTINGS), { log: (l) => lines.push(l) });

    expect(report).toEqual({ action: 'created', differences: [], queryIds: ['q-1', 'q-2'] });
    expect(startedSql()).toEqual([renderDatabaseDdl(SETTINGS), renderTableDdl(SETTINGS)]);
    const starts = athena.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input);
    expect(starts[0]).toStrictEqual({
      QueryString: renderDatabaseDdl(SETTINGS),
      ClientRequestToken: 'token',
      QueryExecutionContext: { Catalog: 'AwsDataCatalog' },
      WorkGroup: 'trailql',
      ResultConfiguration: { OutputLocation: 's3://results-bucket/athena/' },
    });
    expect(starts[1]!.QueryExecutionContext).toStrictEqual({ Catalog: 'AwsDataCatalog', Database: 'trailql' });
    expect(starts.every((s) => s.ExecutionParameters === undefined)).toBe(true);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(0);
    expect(lines.join('\n')).toContain('s3://my-trail-bucket/ct/AWSLogs/123456789012/CloudTrail/');
  });

  test('leaves a matching table alone', async () => {
    athena.on(GetTableMetadataCommand).resolves({ TableMetadata: existingTable() });
    const report = await runAthenaSetup(SETTINGS, makeEngine(SETTINGS), { log: () => undefined });
    expect(report.action).toBe('unchanged');
    expect(startedSql()).toEqual([renderDatabaseDdl(SETTINGS)]);
  });

  test('reports a table whose definition differs and shows how to re-create it', async () => {
    athena.on(GetTableMetadataCommand).resolves({
      TableMetadata: existingTable((t) => {
        t.Parameters!['projection.region.values'] = 'eu-west-1';
      }),
    });
    const lines: string[] = [];
    const report = await runAthenaSetup(SETTINGS, makeEngine(SETTINGS), { log: (l) => lines.push(l) });
    expect(report.action).toBe('drifted');
    expect(report.differences).toEqual(["table property projection.region.values is 'eu-west-1', expected 'eu-west-1,us-east-1'"]);
    const output = lines.join('\n');
    expect(output).toContain('npm run athena:setup -- --recreate');
    expect(output).toContain('DROP TABLE IF EXISTS `trailql`.`cloudtrail_logs`');
    expect(startedSql()).toEqual([renderDatabaseDdl(SETTINGS)]);
  });

  test('re-creates a differing table with recreate', async () => {
    athena.on(GetTableMetadataCommand).resolves({ TableMetadata: existingTable((t) => t.Columns!.pop()) });
    const report = await runAthenaSetup(SETTINGS, makeEngine(SETTINGS), { recreate: true, log: () => undefined });
    expect(report.action).toBe('recreated');
    expect(report.differences).toEqual(['column managementevent is missing']);
    expect(startedSql()).toEqual([
      renderDatabaseDdl(SETTINGS),
      'DROP TABLE IF EXISTS `trailql`.`cloudtrail_logs`',
      renderTableDdl(SETTINGS),
    ]);
  });
});

describe('setup main', () => {
  function output() {
    const log: string[] = [];
    const error: string[] = [];
    return { out: { log: (l: string) => log.push(l), error: (l: string) => error.push(l) }, log, error };
  }

  test('exit 0 after creating, and closes the engine', async () => {
    athena.on(GetTableMetadataCommand).rejects(notFound());
    const { out } = output();
    let closed = false;
    const code = await main([], ENV, (s) => {
      const e = makeEngine(s);
      return Object.assign(e, {
        close: async () => {
          closed = true;
        },
      });
    }, out);
    expect(code).toBe(0);
    expect(closed).toBe(true);
    expect(startedSql()).toHaveLength(2);
  });

  test('exit 2 when the table differs', async () => {
    athena.on(GetTableMetadataCommand).resolves({ TableMetadata: existingTable((t) => (t.PartitionKeys = [])) });
    const { out } = output();
    expect(await main([], ENV, makeEngine, out)).toBe(2);
  });

  test('exit 1 with every configuration problem listed, nothing sent', async () => {
    const { out, error } = output();
    const code = await main([], { ATHENA_REGION: 'eu-west-1', TRAIL_ACCOUNTS: 'abc' }, makeEngine, out);
    expect(code).toBe(1);
    expect(error.join('\n')).toMatch(/TRAIL_BUCKET: is required[\s\S]*TRAIL_ACCOUNTS: not a valid 12-digit account id[\s\S]*TRAIL_REGIONS: is required/);
    expect(athena.calls()).toHaveLength(0);
  });

  test('exit 1 when a statement fails', async () => {
    athena.on(GetQueryExecutionCommand).resolves({
      QueryExecution: {
        Status: { State: 'FAILED', StateChangeReason: 'Insufficient permissions', AthenaError: { ErrorCategory: 2 } },
      },
    });
    const { out, error } = output();
    expect(await main([], ENV, makeEngine, out)).toBe(1);
    expect(error.join('\n')).toMatch(/athena setup failed: Athena query q-1 failed \(user error\): Insufficient permissions/);
  });

  test('--print prints the statements and sends nothing', async () => {
    const { out, log } = output();
    expect(await main(['--print'], ENV, makeEngine, out)).toBe(0);
    expect(log.join('\n')).toBe(`${renderDatabaseDdl(SETTINGS)};\n\n${renderTableDdl(SETTINGS)};`);
    expect(athena.calls()).toHaveLength(0);
  });

  test('unknown arguments are refused', async () => {
    const { out, error } = output();
    expect(await main(['--force'], ENV, makeEngine, out)).toBe(1);
    expect(error.join('\n')).toMatch(/unknown argument\(s\): --force[\s\S]*usage:/);
  });
});
