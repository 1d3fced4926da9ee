import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TableMetadata } from '@aws-sdk/client-athena';
import { assertValidAthenaSettings, awsLogsRoot, isOrganizationTrail, normalisePrefix, type AthenaSettings } from './settings';
import { CLOUDTRAIL_RECORD, type FieldKind } from '../../domain/record-model';
import { dayFolderKey, recordsRoot } from '../../trail/layout';

/** A Hive column type, kept structured so it can be rendered readably and compared with the catalog. */
export type HiveType =
  | 'STRING'
  | { readonly struct: ReadonlyArray<readonly [string, HiveType]> }
  | { readonly array: HiveType }
  | { readonly map: readonly [HiveType, HiveType] };

/** One table column. */
export interface ColumnDefinition {
  readonly name: string;
  readonly type: HiveType;
}

/** Athena's type for a field of the record model: scalars and JSON values are STRING. */
function hiveType(kind: FieldKind): HiveType {
  if (kind === 'text' || kind === 'json') return 'STRING';
  if (kind === 'textMap') return { map: ['STRING', 'STRING'] };
  if ('listOf' in kind) return { array: hiveType(kind.listOf) };
  return { struct: kind.fields.map((f) => [f.name.toLowerCase(), hiveType(f.kind)] as const) };
}

/**
 * The CloudTrail columns, in the order and with the types of Athena's documented CloudTrail
 * table, plus `managementevent`, derived from the engine-free record model. Both DDL templates
 * receive it through `{{columns}}`, and setup compares the catalog's table against it.
 */
export const CLOUDTRAIL_COLUMNS: readonly ColumnDefinition[] = CLOUDTRAIL_RECORD.map((f) => ({ name: f.name.toLowerCase(), type: hiveType(f.kind) }));

/** Renders a type for DDL: nested structs one field a line, indented. */
export function renderHiveType(type: HiveType, indent = '  '): string {
  if (typeof type === 'string') return type;
  if ('array' in type) return `ARRAY<${renderHiveType(type.array, indent)}>`;
  if ('map' in type) return `MAP<${renderHiveType(type.map[0], indent)}, ${renderHiveType(type.map[1], indent)}>`;
  const inner = `${indent}  `;
  const fields = type.struct.map(([name, t]) => `${inner}${name}: ${renderHiveType(t, inner)}`);
  return `STRUCT<\n${fields.join(',\n')}>`;
}

/** Canonical form of a type (lower case, no spaces), as the Glue catalog reports it: `struct<a:string>`. */
export function canonicalType(type: HiveType | string): string {
  const text = typeof type === 'string' ? type : renderHiveType(type);
  return text.toLowerCase().replace(/\s+/g, '');
}

function renderColumns(columns: readonly ColumnDefinition[]): string {
  return columns.map((c) => `  \`${c.name}\` ${renderHiveType(c.type, '  ')}`).join(',\n');
}

/** File names of the two templates under the `athena/` folder. */
export const TEMPLATE_FILES = { single: 'cloudtrail-table.sql', organization: 'cloudtrail-table-org.sql' } as const;

/** Finds the `athena/` folder holding the templates, from the source tree or a build. */
export function findTemplateDir(start: string = __dirname): string {
  let dir = start;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'athena');
    if (existsSync(join(candidate, TEMPLATE_FILES.single))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`cannot find the athena/ folder with ${TEMPLATE_FILES.single} above ${start}`);
}

/**
 * Substitutes `{{name}}` placeholders. Full-line `--` comments are dropped first (they document
 * the template and may mention placeholders). Unknown or leftover placeholders are errors.
 */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const body = template
    .split('\n')
    .filter((line) => !/^\s*--/.test(line))
    .join('\n')
    .trim();
  const filled = body.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`DDL template uses an unknown placeholder {{${name}}}`);
    return value;
  });
  if (/\{\{|\}\}/.test(filled)) throw new Error('DDL template has a malformed placeholder');
  return filled;
}

/**
 * The organization table's `account` projection properties: an `enum` listing the accounts, or
 * `injected` (no list; Athena then needs each query to give its accounts).
 */
export function accountProjectionProperties(settings: AthenaSettings): string {
  if (settings.accountProjection === 'injected') return `  'projection.account.type' = 'injected',`;
  return `  'projection.account.type' = 'enum',\n  'projection.account.values' = '${settings.accounts.join(',')}',`;
}

function placeholderValues(settings: AthenaSettings): Record<string, string> {
  return {
    database: settings.database,
    table: settings.table,
    bucket: settings.bucket,
    prefix: normalisePrefix(settings.prefix),
    account: isOrganizationTrail(settings) ? '' : (settings.accounts[0] ?? ''),
    orgId: settings.orgId ?? '',
    accounts: settings.accounts.join(','),
    accountProjection: accountProjectionProperties(settings),
    location: tableLocation(settings),
    locationTemplate: locationTemplate(settings),
    regions: settings.regions.join(','),
    startDate: settings.startDate,
    columns: renderColumns(CLOUDTRAIL_COLUMNS),
  };
}

/**
 * The `CREATE EXTERNAL TABLE IF NOT EXISTS` statement for the trail table: the organization
 * template when `orgId` is set, the single-account one otherwise. Validates every substituted
 * value first and throws one Error listing all problems.
 */
export function renderTableDdl(settings: AthenaSettings, templateDir: string = findTemplateDir()): string {
  assertValidAthenaSettings(settings);
  const file = isOrganizationTrail(settings) ? TEMPLATE_FILES.organization : TEMPLATE_FILES.single;
  return fillTemplate(readFileSync(join(templateDir, file), 'utf8'), placeholderValues(settings));
}

/** `CREATE DATABASE IF NOT EXISTS` for the configured database (validated like the table DDL). */
export function renderDatabaseDdl(settings: AthenaSettings): string {
  assertValidAthenaSettings(settings);
  return `CREATE DATABASE IF NOT EXISTS \`${settings.database}\`\nCOMMENT 'CloudTrail tables queried by trailql'`;
}

/** `DROP TABLE IF EXISTS` for the configured table: removes the definition only, never the S3 objects. */
export function renderDropTableDdl(settings: AthenaSettings): string {
  assertValidAthenaSettings(settings);
  return `DROP TABLE IF EXISTS \`${settings.database}\`.\`${settings.table}\``;
}

/** What the catalog should report for a table created from the rendered DDL. */
export interface ExpectedTable {
  readonly columns: ReadonlyArray<{ readonly name: string; readonly type: string }>;
  readonly partitionKeys: ReadonlyArray<{ readonly name: string; readonly type: string }>;
  /** Table properties (TBLPROPERTIES) plus location, input format and SerDe. */
  readonly parameters: Readonly<Record<string, string>>;
}

function section(ddl: string, keyword: string): string {
  const start = ddl.indexOf(keyword);
  if (start < 0) return '';
  const open = ddl.indexOf('(', start);
  let depth = 0;
  for (let i = open; i < ddl.length; i++) {
    if (ddl[i] === '(') depth++;
    if (ddl[i] === ')' && --depth === 0) return ddl.slice(open + 1, i);
  }
  return '';
}

/**
 * The table shape a rendered table DDL describes, read back from the DDL text itself so the
 * template stays the single source for partitions and properties.
 */
export function expectedTable(settings: AthenaSettings, ddl: string = renderTableDdl(settings)): ExpectedTable {
  const partitionKeys = [...section(ddl, 'PARTITIONED BY').matchAll(/`(\w+)`\s+(\w+)/g)].map((m) => ({
    name: m[1]!,
    type: m[2]!.toLowerCase(),
  }));
  const parameters: Record<string, string> = {};
  for (const m of section(ddl, 'TBLPROPERTIES').matchAll(/'([^']+)'\s*=\s*'([^']*)'/g)) parameters[m[1]!] = m[2]!;
  const location = /LOCATION\s+'([^']+)'/.exec(ddl)?.[1];
  if (location) parameters.location = location;
  const inputFormat = /INPUTFORMAT\s+'([^']+)'/.exec(ddl)?.[1];
  if (inputFormat) parameters.inputformat = inputFormat;
  const serde = /ROW FORMAT SERDE\s+'([^']+)'/.exec(ddl)?.[1];
  if (serde) parameters['serde.serialization.lib'] = serde;
  return {
    columns: CLOUDTRAIL_COLUMNS.map((c) => ({ name: c.name, type: canonicalType(c.type) })),
    partitionKeys,
    parameters,
  };
}

/** Properties compared only when the catalog reports them (not every catalog does). */
const OPTIONAL_PARAMETERS = new Set(['location', 'inputformat', 'serde.serialization.lib']);

/**
 * Human-readable differences between the table the catalog holds and the one the DDL would
 * create; empty when they match. Column and partition types are compared in canonical form.
 */
export function tableDifferences(expected: ExpectedTable, actual: TableMetadata): string[] {
  const out: string[] = [];
  const actualColumns = new Map((actual.Columns ?? []).map((c) => [(c.Name ?? '').toLowerCase(), canonicalType(c.Type ?? '')]));
  const expectedColumns = new Map(expected.columns.map((c) => [c.name, c.type]));
  for (const [name, type] of expectedColumns) {
    const found = actualColumns.get(name);
    if (found === undefined) out.push(`column ${name} is missing`);
    else if (found !== type) out.push(`column ${name} has type ${found}, expected ${type}`);
  }
  for (const name of actualColumns.keys()) {
    if (!expectedColumns.has(name)) out.push(`column ${name} is not in the trailql definition`);
  }
  const partitions = (list: ReadonlyArray<{ name: string; type: string }>): string =>
    list.map((p) => `${p.name} ${p.type}`).join(', ');
  const actualPartitions = (actual.PartitionKeys ?? []).map((p) => ({
    name: (p.Name ?? '').toLowerCase(),
    type: canonicalType(p.Type ?? ''),
  }));
  if (partitions(actualPartitions) !== partitions(expected.partitionKeys)) {
    out.push(`partition keys are (${partitions(actualPartitions)}), expected (${partitions(expected.partitionKeys)})`);
  }
  const params = actual.Parameters ?? {};
  for (const [key, value] of Object.entries(expected.parameters)) {
    const found = params[key];
    if (found === undefined) {
      if (!OPTIONAL_PARAMETERS.has(key)) out.push(`table property ${key} is missing, expected '${value}'`);
    } else if (key === 'location' ? found.replace(/\/+$/, '') !== value.replace(/\/+$/, '') : found !== value) {
      out.push(`table property ${key} is '${found}', expected '${value}'`);
    }
  }
  return out;
}

/** Where the table reads from (its LOCATION): `s3://bucket/prefix/AWSLogs/...`. */
export function tableLocation(settings: AthenaSettings): string {
  return isOrganizationTrail(settings) ? `${awsLogsRoot(settings)}${settings.orgId}/` : `${bucketRoot(settings)}${recordsRoot(settings.accounts[0] ?? '')}/`;
}

/** `s3://<bucket>/<prefix>`: where the S3 layout's keys start. */
function bucketRoot(settings: AthenaSettings): string {
  return `s3://${settings.bucket}/${normalisePrefix(settings.prefix)}`;
}

/** Partition projection's `storage.location.template`: the day folders of the S3 layout. */
export function locationTemplate(settings: AthenaSettings): string {
  const account = isOrganizationTrail(settings) ? '${account}' : (settings.accounts[0] ?? '');
  return `${bucketRoot(settings)}${dayFolderKey(account, '${region}', '${timestamp}', settings.orgId || undefined)}`;
}
