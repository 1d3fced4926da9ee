import { z } from 'zod';
import type { Env } from '../../config/vars';
import { athenaSettingsProblems, type AthenaSettings } from './settings';

export type { Env } from '../../config/vars';

/** Which variable sets each settings field (for messages and the README). */
export const ATHENA_ENV_VARIABLES: Readonly<Partial<Record<keyof AthenaSettings, string>>> = {
  region: 'ATHENA_REGION',
  workGroup: 'ATHENA_WORKGROUP',
  outputLocation: 'ATHENA_OUTPUT_LOCATION',
  database: 'ATHENA_DATABASE',
  table: 'ATHENA_TABLE',
  catalog: 'ATHENA_CATALOG',
  resultReuseMaxAgeMinutes: 'ATHENA_RESULT_REUSE_MINUTES',
  queryTimeoutMs: 'ATHENA_QUERY_TIMEOUT_MS',
  bucket: 'TRAIL_BUCKET',
  prefix: 'TRAIL_PREFIX',
  orgId: 'TRAIL_ORG_ID',
  accounts: 'TRAIL_ACCOUNTS',
  regions: 'TRAIL_REGIONS',
  startDate: 'TRAIL_START_DATE',
  accountProjection: 'TRAIL_ACCOUNT_PROJECTION',
  pathColumn: 'ATHENA_PATH_COLUMN',
};

const text = z.string().trim();
const wholeNumber = text.regex(/^\d+$/, 'must be a whole number').transform(Number);
const commaList = text.transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== ''),
);
const s3Uri = text.startsWith('s3://', 'must start with s3://');

/**
 * Reads the Athena engine settings from environment variables:
 *
 * | variable | setting | default |
 * | --- | --- | --- |
 * | `ATHENA_REGION` (or `AWS_REGION`) | region | required |
 * | `ATHENA_WORKGROUP` | workGroup | `primary` |
 * | `ATHENA_OUTPUT_LOCATION` | outputLocation (`s3://...`) | the workgroup's |
 * | `ATHENA_DATABASE` | database | `trailql` |
 * | `ATHENA_TABLE` | table | `cloudtrail_logs` |
 * | `ATHENA_CATALOG` | catalog | `AwsDataCatalog` |
 * | `ATHENA_RESULT_REUSE_MINUTES` | resultReuseMaxAgeMinutes | off |
 * | `ATHENA_QUERY_TIMEOUT_MS` | queryTimeoutMs | 120000 |
 * | `TRAIL_BUCKET` | bucket | required |
 * | `TRAIL_PREFIX` | prefix | `''` |
 * | `TRAIL_ORG_ID` | orgId (organization trail) | unset |
 * | `TRAIL_ACCOUNTS` | accounts (comma list) | required |
 * | `TRAIL_REGIONS` | regions (comma list) | required |
 * | `TRAIL_START_DATE` | startDate (`yyyy/MM/dd`) | required |
 * | `TRAIL_ACCOUNT_PROJECTION` | accountProjection (`enum` or `injected`) | `enum` |
 *
 * Empty values count as unset. Every problem is collected first; when there is any, throws one
 * Error whose message lists them all, each naming its variable.
 */
export function athenaSettingsFromEnv(env: Env): AthenaSettings {
  const result = parseAthenaEnv(env);
  if (result.ok) return result.settings;
  const n = result.problems.length;
  throw new Error(`invalid Athena configuration (${n} problem${n === 1 ? '' : 's'}):\n${result.problems.map((p) => `  - ${p}`).join('\n')}`);
}

/** Outcome of {@link parseAthenaEnv}: the settings, or every problem as `VARIABLE: message`. */
export type AthenaEnvResult = { readonly ok: true; readonly settings: AthenaSettings } | { readonly ok: false; readonly problems: string[] };

/**
 * Like {@link athenaSettingsFromEnv}, without throwing: for a configuration loader that merges
 * these problems with its own.
 */
export function parseAthenaEnv(env: Env): AthenaEnvResult {
  const problems: Array<{ field: keyof AthenaSettings; text: string }> = [];
  const failed = new Set<keyof AthenaSettings>();
  const set = (name: string): boolean => (env[name] ?? '').trim() !== '';
  const regionVariable = set('ATHENA_REGION') ? 'ATHENA_REGION' : set('AWS_REGION') ? 'AWS_REGION' : 'ATHENA_REGION (or AWS_REGION)';
  const variableOf = (field: keyof AthenaSettings): string =>
    field === 'region' ? regionVariable : (ATHENA_ENV_VARIABLES[field] ?? field);

  function read<T>(field: keyof AthenaSettings, schema: z.ZodType<T>): T | undefined {
    const name = variableOf(field);
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return undefined;
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    failed.add(field);
    problems.push({ field, text: `${name}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}` });
    return undefined;
  }

  const partial: Partial<AthenaSettings> = {
    region: read('region', text),
    workGroup: read('workGroup', text) ?? 'primary',
    outputLocation: read('outputLocation', s3Uri),
    database: read('database', text) ?? (failed.has('database') ? undefined : 'trailql'),
    table: read('table', text) ?? (failed.has('table') ? undefined : 'cloudtrail_logs'),
    catalog: read('catalog', text),
    resultReuseMaxAgeMinutes: read('resultReuseMaxAgeMinutes', wholeNumber),
    queryTimeoutMs: read('queryTimeoutMs', wholeNumber),
    bucket: read('bucket', text),
    prefix: read('prefix', text) ?? (failed.has('prefix') ? undefined : ''),
    orgId: read('orgId', text),
    accounts: read('accounts', commaList),
    regions: read('regions', commaList),
    startDate: read('startDate', text),
    accountProjection: read('accountProjection', z.enum(['enum', 'injected'])),
    pathColumn: read('pathColumn', text),
  };

  for (const problem of athenaSettingsProblems(partial)) {
    if (!failed.has(problem.field)) problems.push({ field: problem.field, text: `${variableOf(problem.field)}: ${problem.message}` });
  }
  if (problems.length > 0) {
    const order = Object.keys(ATHENA_ENV_VARIABLES);
    const sorted = problems
      .map((p, i) => ({ ...p, i }))
      .sort((a, b) => order.indexOf(a.field) - order.indexOf(b.field) || a.i - b.i);
    return { ok: false, problems: sorted.map((p) => p.text) };
  }

  const settings: Partial<AthenaSettings> = {};
  for (const [key, value] of Object.entries(partial) as Array<[keyof AthenaSettings, unknown]>) {
    if (value !== undefined) (settings as Record<string, unknown>)[key] = value;
  }
  return { ok: true, settings: settings as AthenaSettings };
}
