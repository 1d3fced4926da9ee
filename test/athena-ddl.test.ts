import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TableMetadata } from '@aws-sdk/client-athena';
import {
  CLOUDTRAIL_COLUMNS,
  TEMPLATE_FILES,
  expectedTable,
  fillTemplate,
  findTemplateDir,
  renderDatabaseDdl,
  renderTableDdl,
  tableDifferences,
} from '../src/engines/athena/ddl';
import { athenaSettingsFromEnv, parseAthenaEnv } from '../src/engines/athena/env';
import { athenaSettingsProblems, type AthenaSettings } from '../src/engines/athena/settings';

const SINGLE: AthenaSettings = {
  region: 'eu-west-1',
  workGroup: 'primary',
  database: 'trailql',
  table: 'cloudtrail_logs',
  bucket: 'my-trail-bucket',
  prefix: 'logs/ct',
  accounts: ['123456789012'],
  regions: ['eu-west-1', 'us-east-1'],
  startDate: '2024/01/01',
};

const ORG: AthenaSettings = {
  ...SINGLE,
  prefix: '',
  orgId: 'o-abc123def4',
  accounts: ['123456789012', '210987654321'],
};

/** The DESIGN column list, top level, in order. */
const DOCUMENTED_COLUMNS = [
  'eventversion',
  'useridentity',
  'eventtime',
  'eventsource',
  'eventname',
  'awsregion',
  'sourceipaddress',
  'useragent',
  'errorcode',
  'errormessage',
  'requestparameters',
  'responseelements',
  'additionaleventdata',
  'requestid',
  'eventid',
  'readonly',
  'resources',
  'eventtype',
  'apiversion',
  'recipientaccountid',
  'serviceeventdetails',
  'sharedeventid',
  'vpcendpointid',
  'vpcendpointaccountid',
  'eventcategory',
  'addendum',
  'sessioncredentialfromconsole',
  'edgedevicedetails',
  'tlsdetails',
  'managementevent',
];

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** What the catalog would report for a table created from the DDL. */
function catalogView(settings: AthenaSettings): TableMetadata {
  const expected = expectedTable(settings);
  return {
    Name: settings.table,
    Columns: expected.columns.map((c) => ({ Name: c.name, Type: c.type })),
    PartitionKeys: expected.partitionKeys.map((p) => ({ Name: p.name, Type: p.type })),
    Parameters: { ...expected.parameters, EXTERNAL: 'TRUE', transient_lastDdlTime: '1700000000' },
  };
}

describe('renderTableDdl (single account)', () => {
  const ddl = renderTableDdl(SINGLE);

  test('declares every documented column exactly once, in order', () => {
    const topLevel = [...ddl.slice(0, ddl.indexOf('PARTITIONED BY')).matchAll(/^ {2}`(\w+)` /gm)].map((m) => m[1]);
    expect(topLevel).toEqual(DOCUMENTED_COLUMNS);
    for (const name of DOCUMENTED_COLUMNS) expect(count(ddl, `\`${name}\``)).toBe(1);
  });

  test('has the documented nested types', () => {
    expect(ddl).toMatch(/`resources` ARRAY<STRUCT<\s+arn: STRING,\s+accountid: STRING,\s+type: STRING>>/);
    expect(ddl).toMatch(/`tlsdetails` STRUCT<\s+tlsversion: STRING,\s+ciphersuite: STRING,\s+clientprovidedhostheader: STRING>/);
    expect(ddl).toMatch(/sessionissuer: STRUCT<\s+type: STRING,\s+principalid: STRING,\s+arn: STRING,\s+accountid: STRING,\s+username: STRING>/);
    expect(ddl).toContain('`managementevent` STRING');
  });

  test('substitutes every placeholder and keeps projection variables', () => {
    expect(ddl).not.toMatch(/\{\{|\}\}/);
    expect(ddl).not.toMatch(/^\s*--/m);
    expect(ddl.startsWith('CREATE EXTERNAL TABLE IF NOT EXISTS `trailql`.`cloudtrail_logs` (')).toBe(true);
    expect(ddl).toContain("LOCATION 's3://my-trail-bucket/logs/ct/AWSLogs/123456789012/CloudTrail/'");
    expect(ddl).toContain(
      "'storage.location.template' = 's3://my-trail-bucket/logs/ct/AWSLogs/123456789012/CloudTrail/${region}/${timestamp}'",
    );
    expect(ddl).toContain("'projection.region.values' = 'eu-west-1,us-east-1'");
    expect(ddl).toContain("'projection.timestamp.range' = '2024/01/01,NOW'");
    expect(ddl).toContain("'projection.timestamp.format' = 'yyyy/MM/dd'");
    expect(ddl).toContain("'projection.timestamp.interval' = '1'");
    expect(ddl).toContain("'projection.enabled' = 'true'");
    expect(ddl).toMatch(/PARTITIONED BY \(\s+`region` STRING,\s+`timestamp` STRING\s+\)/);
    expect(ddl).not.toContain('projection.account');
    expect(ddl).toContain("STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'");
  });

  test('prefix with or without a trailing slash, or none, gives one clean path', () => {
    expect(renderTableDdl({ ...SINGLE, prefix: 'logs/ct/' })).toBe(ddl);
    expect(renderTableDdl({ ...SINGLE, prefix: '' })).toContain("LOCATION 's3://my-trail-bucket/AWSLogs/123456789012/CloudTrail/'");
  });
});

describe('renderTableDdl (organization)', () => {
  const ddl = renderTableDdl(ORG);

  test('adds the account partition and the organization path', () => {
    expect(ddl).not.toMatch(/\{\{|\}\}/);
    expect(ddl).toMatch(/PARTITIONED BY \(\s+`account` STRING,\s+`region` STRING,\s+`timestamp` STRING\s+\)/);
    expect(ddl).toContain("LOCATION 's3://my-trail-bucket/AWSLogs/o-abc123def4/'");
    expect(ddl).toContain(
      "'storage.location.template' = 's3://my-trail-bucket/AWSLogs/o-abc123def4/${account}/CloudTrail/${region}/${timestamp}'",
    );
    expect(ddl).toContain("'projection.account.type' = 'enum'");
    expect(ddl).toContain("'projection.account.values' = '123456789012,210987654321'");
    for (const name of DOCUMENTED_COLUMNS) expect(count(ddl, `\`${name}\``)).toBe(1);
  });
});

describe('renderTableDdl (organization, injected account projection)', () => {
  const settings: AthenaSettings = { ...ORG, accountProjection: 'injected' };
  const ddl = renderTableDdl(settings);

  test('projects account as injected, with no account list, and keeps the rest', () => {
    expect(ddl).not.toMatch(/\{\{|\}\}/);
    expect(ddl).toContain("'projection.account.type' = 'injected',");
    expect(ddl).not.toContain('projection.account.values');
    expect(ddl).not.toContain('210987654321');
    expect(ddl).toContain("'projection.region.type' = 'enum'");
    expect(ddl).toMatch(/PARTITIONED BY \(\s+`account` STRING,\s+`region` STRING,\s+`timestamp` STRING\s+\)/);
    expect(expectedTable(settings, ddl).parameters['projection.account.type']).toBe('injected');
  });

  test('the enum default is unchanged by the option', () => {
    expect(renderTableDdl({ ...ORG, accountProjection: 'enum' })).toBe(renderTableDdl(ORG));
  });

  test('injected needs an organization trail and is read from TRAIL_ACCOUNT_PROJECTION', () => {
    expect(athenaSettingsProblems({ ...SINGLE, accountProjection: 'injected' }).map((p) => p.message)).toContain(
      'injected applies to organization trails only (set orgId)',
    );
    const env = {
      ATHENA_REGION: 'eu-west-1',
      TRAIL_BUCKET: 'my-trail-bucket',
      TRAIL_ORG_ID: 'o-abc123def4',
      TRAIL_ACCOUNTS: '123456789012',
      TRAIL_REGIONS: 'eu-west-1',
      TRAIL_START_DATE: '2024/01/01',
    };
    expect(athenaSettingsFromEnv({ ...env, TRAIL_ACCOUNT_PROJECTION: 'injected' }).accountProjection).toBe('injected');
    expect(parseAthenaEnv({ ...env, TRAIL_ACCOUNT_PROJECTION: 'dynamic' }).ok).toBe(false);
  });
});

describe('templates', () => {
  test('the column list lives in one place: neither template repeats it', () => {
    const dir = findTemplateDir();
    for (const file of Object.values(TEMPLATE_FILES)) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text).toContain('{{columns}}');
      for (const name of ['eventversion', 'useridentity', 'tlsdetails', 'managementevent']) expect(text).not.toContain(name);
    }
    expect(CLOUDTRAIL_COLUMNS.map((c) => c.name)).toEqual(DOCUMENTED_COLUMNS);
  });

  test('unknown placeholders are errors', () => {
    expect(() => fillTemplate('SELECT {{nope}}', {})).toThrow(/unknown placeholder \{\{nope\}\}/);
    expect(fillTemplate('-- {{ignored}}\nSELECT {{a}}', { a: '1' })).toBe('SELECT 1');
  });
});

describe('renderDatabaseDdl', () => {
  test('creates the database if missing', () => {
    expect(renderDatabaseDdl(SINGLE)).toMatch(/^CREATE DATABASE IF NOT EXISTS `trailql`/);
  });
});

describe('settings validation', () => {
  test.each<[string, Partial<AthenaSettings>, RegExp]>([
    ['bucket charset', { bucket: 'My_Bucket' }, /bucket: not an S3 bucket name/],
    ['bucket with scheme', { bucket: 's3://my-trail-bucket' }, /bucket: not an S3 bucket name/],
    ['prefix with a quote', { prefix: "logs'; DROP TABLE x; --" }, /prefix: may only hold/],
    ['prefix with ..', { prefix: 'a/../b' }, /prefix: may only hold/],
    ['prefix with empty segment', { prefix: 'a//b' }, /prefix: may only hold/],
    ['short account', { accounts: ['12345'] }, /accounts: not a valid 12-digit account id: "12345"/],
    ['no accounts', { accounts: [] }, /accounts: at least one/],
    ['two accounts without orgId', { accounts: ['123456789012', '210987654321'] }, /exactly one account; set orgId/],
    ['bad region', { regions: ['eu-west-1', 'moon-base-1'] }, /regions: not a valid AWS region: "moon-base-1"/],
    ['bad org id', { orgId: 'org-1' }, /orgId: not an organization id/],
    ['impossible date', { startDate: '2024/02/30' }, /startDate: must be a real day/],
    ['wrong date format', { startDate: '2024-01-01' }, /startDate: must be a real day/],
    ['future date', { startDate: '2999/01/01' }, /startDate: 2999\/01\/01 is in the future/],
    ['database identifier', { database: 'Trail-QL' }, /database: must match/],
    ['table identifier', { table: '1table' }, /table: must match/],
    ['table injection', { table: 'x`; DROP TABLE y' }, /table: must match/],
    ['output location', { outputLocation: 'https://example.com' }, /outputLocation: must be an s3/],
  ])('rejects %s', (_name, change, message) => {
    expect(() => renderTableDdl({ ...SINGLE, ...change })).toThrow(message);
  });

  test('reports every problem at once', () => {
    const problems = athenaSettingsProblems({ ...SINGLE, bucket: 'B', accounts: ['1'], regions: ['x'], startDate: 'soon' });
    expect(problems.map((p) => p.field)).toEqual(['bucket', 'accounts', 'regions', 'startDate']);
  });

  test('accepts government and China regions and a 2-character prefix segment', () => {
    expect(athenaSettingsProblems({ ...SINGLE, region: 'us-gov-west-1', regions: ['us-gov-west-1', 'cn-north-1'], prefix: 'a.b/c_d-e' })).toEqual([]);
  });
});

describe('athenaSettingsFromEnv', () => {
  const GOOD = {
    ATHENA_REGION: 'eu-west-1',
    TRAIL_BUCKET: 'my-trail-bucket',
    TRAIL_ACCOUNTS: '123456789012',
    TRAIL_REGIONS: 'eu-west-1, us-east-1',
    TRAIL_START_DATE: '2024/01/01',
  };

  test('applies defaults', () => {
    expect(athenaSettingsFromEnv(GOOD)).toStrictEqual({
      region: 'eu-west-1',
      workGroup: 'primary',
      database: 'trailql',
      table: 'cloudtrail_logs',
      bucket: 'my-trail-bucket',
      prefix: '',
      accounts: ['123456789012'],
      regions: ['eu-west-1', 'us-east-1'],
      startDate: '2024/01/01',
    });
  });

  test('reads every variable', () => {
    const settings = athenaSettingsFromEnv({
      ...GOOD,
      ATHENA_REGION: '',
      AWS_REGION: 'us-east-1',
      ATHENA_WORKGROUP: 'trailql',
      ATHENA_OUTPUT_LOCATION: 's3://results-bucket/athena/',
      ATHENA_DATABASE: 'audit',
      ATHENA_TABLE: 'org_trail',
      ATHENA_CATALOG: 'AwsDataCatalog',
      ATHENA_RESULT_REUSE_MINUTES: '60',
      ATHENA_QUERY_TIMEOUT_MS: '30000',
      TRAIL_PREFIX: 'ct/',
      TRAIL_ORG_ID: 'o-abc123def4',
      TRAIL_ACCOUNTS: '123456789012,210987654321,',
    });
    expect(settings).toStrictEqual({
      region: 'us-east-1',
      workGroup: 'trailql',
      outputLocation: 's3://results-bucket/athena/',
      database: 'audit',
      table: 'org_trail',
      catalog: 'AwsDataCatalog',
      resultReuseMaxAgeMinutes: 60,
      queryTimeoutMs: 30000,
      bucket: 'my-trail-bucket',
      prefix: 'ct/',
      orgId: 'o-abc123def4',
      accounts: ['123456789012', '210987654321'],
      regions: ['eu-west-1', 'us-east-1'],
      startDate: '2024/01/01',
    });
  });

  test('reports all bad variables together, each by name', () => {
    let message = '';
    try {
      athenaSettingsFromEnv({
        AWS_REGION: 'nowhere',
        ATHENA_OUTPUT_LOCATION: 'results-bucket/athena',
        ATHENA_TABLE: 'Bad-Table',
        ATHENA_RESULT_REUSE_MINUTES: 'ten',
        ATHENA_QUERY_TIMEOUT_MS: '0',
        TRAIL_ACCOUNTS: '123,4567890123456',
        TRAIL_REGIONS: 'eu-west-1,eu-west-1',
        TRAIL_START_DATE: '01/01/2024',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid Athena configuration \(\d+ problems\):/);
    for (const expected of [
      /AWS_REGION: not an AWS region/,
      /ATHENA_OUTPUT_LOCATION: must start with s3:\/\//,
      /ATHENA_TABLE: must match/,
      /ATHENA_RESULT_REUSE_MINUTES: must be a whole number/,
      /ATHENA_QUERY_TIMEOUT_MS: must be an integer from 1/,
      /TRAIL_BUCKET: is required/,
      /TRAIL_ACCOUNTS: not a valid 12-digit account id: "123", "4567890123456"/,
      /TRAIL_REGIONS: listed more than once: eu-west-1/,
      /TRAIL_START_DATE: must be a real day/,
    ]) {
      expect(message).toMatch(expected);
    }
  });

  test('parseAthenaEnv returns the problems instead of throwing', () => {
    expect(parseAthenaEnv({ ...GOOD, TRAIL_BUCKET: 'Bad Bucket', TRAIL_REGIONS: '' })).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^TRAIL_BUCKET: not an S3 bucket name/), 'TRAIL_REGIONS: is required'],
    });
    expect(parseAthenaEnv(GOOD)).toEqual({ ok: true, settings: athenaSettingsFromEnv(GOOD) });
  });

  test('names both region variables when neither is set, and lists every missing variable', () => {
    expect(() => athenaSettingsFromEnv({})).toThrow(
      /ATHENA_REGION \(or AWS_REGION\): is required[\s\S]*TRAIL_BUCKET: is required[\s\S]*TRAIL_ACCOUNTS: is required[\s\S]*TRAIL_REGIONS: is required[\s\S]*TRAIL_START_DATE: is required/,
    );
  });
});

describe('tableDifferences', () => {
  test('a table created from the DDL matches', () => {
    expect(tableDifferences(expectedTable(SINGLE), catalogView(SINGLE))).toEqual([]);
    expect(tableDifferences(expectedTable(ORG), catalogView(ORG))).toEqual([]);
  });

  test('catalog spelling of types (lower case, no spaces) matches', () => {
    const view = catalogView(SINGLE);
    view.Columns = view.Columns!.map((c) => ({ ...c, Type: c.Type!.toUpperCase().replace(/,/g, ', ') }));
    expect(tableDifferences(expectedTable(SINGLE), view)).toEqual([]);
  });

  test('reports missing and changed columns, partitions and projection values', () => {
    const view = catalogView(SINGLE);
    view.Columns = view.Columns!.filter((c) => c.Name !== 'tlsdetails').map((c) => (c.Name === 'readonly' ? { ...c, Type: 'boolean' } : c));
    view.Columns.push({ Name: 'extra', Type: 'string' });
    view.PartitionKeys = [{ Name: 'timestamp', Type: 'string' }];
    view.Parameters = { ...view.Parameters, 'projection.region.values': 'eu-west-1' };
    delete view.Parameters['projection.timestamp.range'];
    expect(tableDifferences(expectedTable(SINGLE), view)).toEqual([
      'column readonly has type boolean, expected string',
      'column tlsdetails is missing',
      'column extra is not in the trailql definition',
      'partition keys are (timestamp string), expected (region string, timestamp string)',
      "table property projection.region.values is 'eu-west-1', expected 'eu-west-1,us-east-1'",
      "table property projection.timestamp.range is missing, expected '2024/01/01,NOW'",
    ]);
  });
});
