/**
 * Settings of the Amazon Athena engine: where queries run (region, workgroup, catalog, database,
 * table) and where the trail lives (bucket, prefix, accounts, regions, first day), plus the
 * driver's polling, retry and timeout knobs. One object feeds the driver, the DDL renderer and
 * the setup script, so the table they create is the table the driver queries.
 */
import { ACCOUNT_ID, ORG_ID, REGION } from '../../domain/aws';
import { AWS_LOGS, dayPath, isTrailDate } from '../../trail/layout';

export interface AthenaSettings {
  /** AWS region Athena runs in (e.g. `eu-west-1`). */
  region: string;
  /** Athena workgroup; its enforced settings (output location, limits) win over ours. */
  workGroup: string;
  /** Where Athena writes result files (`s3://bucket/path/`); optional when the workgroup sets one. */
  outputLocation?: string;
  /** Glue database holding the trail table (`[a-z_][a-z0-9_]*`). */
  database: string;
  /** Trail table name (`[a-z_][a-z0-9_]*`). */
  table: string;
  /** Data catalog; defaults to `AwsDataCatalog`. */
  catalog?: string;
  /** Reuse results of an identical query up to this many minutes old; 0 or undefined turns reuse off. */
  resultReuseMaxAgeMinutes?: number;
  /** First wait between GetQueryExecution polls (default 100 ms); grows by 1.5x per poll. */
  pollInitialMs?: number;
  /** Longest wait between polls (default 2,000 ms). */
  pollMaxMs?: number;
  /** Retries of a throttled API call (ThrottlingException, TooManyRequestsException); default 5. */
  maxRetries?: number;
  /** Query time limit when the caller gives none (default 120,000 ms). */
  queryTimeoutMs?: number;
  /** Bucket the trail delivers to. */
  bucket: string;
  /** Key prefix before `AWSLogs/` (the trail's S3 key prefix); `''` when the trail has none. */
  prefix: string;
  /** Organization id (`o-...`) for an organization trail; absent for a single-account trail. */
  orgId?: string;
  /** Accounts whose logs the table covers: exactly one for a single-account trail. */
  accounts: string[];
  /** Regions whose logs the table covers (partition projection enumerates them). */
  regions: string[];
  /** First day of logs the table projects, `yyyy/MM/dd` (UTC). */
  startDate: string;
  /**
   * Organization trails: how the table projects `account`. `enum` (default) lists `accounts` in
   * the table; `injected` lists nothing and needs every query to name its accounts (for trails
   * with more accounts than an enum projection handles well; see athena/README.md).
   */
  accountProjection?: 'enum' | 'injected';
  /**
   * The column naming the object each row was read from. Unset: the table's hidden `"$path"`. A
   * view does not pass hidden columns on, so a view (athena/columnar.md) selects `"$path"` under a
   * name of its own, given here.
   */
  pathColumn?: string;
}

export const DEFAULT_CATALOG = 'AwsDataCatalog';
export const DEFAULT_POLL_INITIAL_MS = 100;
export const DEFAULT_POLL_MAX_MS = 2_000;
export const DEFAULT_MAX_RETRIES = 5;
export const DEFAULT_QUERY_TIMEOUT_MS = 120_000;
/** Athena's upper bound for result reuse (7 days). */
export const MAX_RESULT_REUSE_MINUTES = 10_080;

/** One problem found in a settings object, named by the field it concerns. */
export interface SettingsProblem {
  readonly field: keyof AthenaSettings;
  readonly message: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,127}$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX = /^[A-Za-z0-9._\-/]*$/;
const WORKGROUP = /^[A-Za-z0-9._-]{1,128}$/;
const CATALOG = /^[A-Za-z0-9_-]{1,128}$/;
const REQUIRED = ['region', 'workGroup', 'database', 'table', 'bucket', 'prefix', 'accounts', 'regions', 'startDate'] as const;
const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/[^\s']*)?$/;


/**
 * The trail prefix as it appears before `AWSLogs/`: `''`, or the prefix without a leading slash
 * and with exactly one trailing slash (`logs` and `logs/` both give `logs/`).
 */
export function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}

/** `s3://<bucket>/<prefix>AWSLogs/`: the root every trail key sits under. */
export function awsLogsRoot(settings: Pick<AthenaSettings, 'bucket' | 'prefix'>): string {
  return `s3://${settings.bucket}/${normalisePrefix(settings.prefix)}${AWS_LOGS}/`;
}

/** Whether the settings describe an organization trail (an `orgId` is set). */
export function isOrganizationTrail(settings: Pick<AthenaSettings, 'orgId'>): boolean {
  return settings.orgId !== undefined && settings.orgId !== '';
}

function listProblems(
  field: 'accounts' | 'regions',
  values: readonly string[],
  pattern: RegExp,
  what: string,
): SettingsProblem[] {
  const problems: SettingsProblem[] = [];
  if (values.length === 0) problems.push({ field, message: `at least one ${what} is required` });
  const bad = values.filter((v) => !pattern.test(v));
  if (bad.length > 0) problems.push({ field, message: `not a valid ${what}: ${bad.map((v) => JSON.stringify(v)).join(', ')}` });
  const dupes = values.filter((v, i) => values.indexOf(v) !== i);
  if (dupes.length > 0) problems.push({ field, message: `listed more than once: ${[...new Set(dupes)].join(', ')}` });
  return problems;
}

function positiveInteger(
  problems: SettingsProblem[],
  field: keyof AthenaSettings,
  value: number | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push({ field, message: `must be an integer from ${min} to ${max}, got ${value}` });
  }
}

/**
 * Every problem in a settings object, all at once (empty when valid). Every value that ends up in
 * DDL text is checked against a strict pattern here, so rendering cannot produce surprising SQL.
 * Accepts a partial object (as parsed from the environment): a missing required field is one
 * problem, and checks spanning two fields run when both are present.
 */
export function athenaSettingsProblems(settings: Partial<AthenaSettings>, now: Date = new Date()): SettingsProblem[] {
  const problems: SettingsProblem[] = [];
  const add = (field: keyof AthenaSettings, message: string): void => {
    problems.push({ field, message });
  };
  const s = settings;
  for (const field of REQUIRED) if (s[field] === undefined) add(field, 'is required');

  if (s.region !== undefined && !REGION.test(s.region)) add('region', `not an AWS region: ${JSON.stringify(s.region)}`);
  if (s.workGroup !== undefined && !WORKGROUP.test(s.workGroup)) {
    add('workGroup', `not a workgroup name (1-128 of A-Z a-z 0-9 . _ -): ${JSON.stringify(s.workGroup)}`);
  }
  if (s.outputLocation !== undefined && !S3_URI.test(s.outputLocation)) {
    add('outputLocation', `must be an s3://bucket/path URI, got ${JSON.stringify(s.outputLocation)}`);
  }
  for (const field of ['database', 'table', 'pathColumn'] as const) {
    const value = s[field];
    if (value !== undefined && !IDENTIFIER.test(value)) {
      add(field, `must match [a-z_][a-z0-9_]* (at most 128 characters), got ${JSON.stringify(value)}`);
    }
  }
  if (s.catalog !== undefined && !CATALOG.test(s.catalog)) add('catalog', `not a data catalog name: ${JSON.stringify(s.catalog)}`);
  positiveInteger(problems, 'resultReuseMaxAgeMinutes', s.resultReuseMaxAgeMinutes, 0, MAX_RESULT_REUSE_MINUTES);
  positiveInteger(problems, 'pollInitialMs', s.pollInitialMs, 1, 60_000);
  positiveInteger(problems, 'pollMaxMs', s.pollMaxMs, 1, 60_000);
  if ((s.pollMaxMs ?? DEFAULT_POLL_MAX_MS) < (s.pollInitialMs ?? DEFAULT_POLL_INITIAL_MS)) {
    add('pollMaxMs', 'must not be smaller than pollInitialMs');
  }
  positiveInteger(problems, 'maxRetries', s.maxRetries, 0, 20);
  positiveInteger(problems, 'queryTimeoutMs', s.queryTimeoutMs, 1, 24 * 3_600_000);

  if (s.bucket !== undefined && (!BUCKET.test(s.bucket) || s.bucket.includes('..'))) {
    add('bucket', `not an S3 bucket name (3-63 of a-z 0-9 . -, no s3:// and no path): ${JSON.stringify(s.bucket)}`);
  }
  if (s.prefix !== undefined) {
    const prefix = normalisePrefix(s.prefix);
    const badSegment = prefix
      .split('/')
      .some((part, i, all) => (part === '' && i < all.length - 1) || part === '.' || part === '..');
    if (!PREFIX.test(s.prefix) || badSegment) {
      add('prefix', `may only hold A-Z a-z 0-9 . _ - / in non-empty segments, got ${JSON.stringify(s.prefix)}`);
    } else if (prefix.length > 512) {
      add('prefix', 'is longer than 512 characters');
    }
  }
  if (s.orgId !== undefined && !ORG_ID.test(s.orgId)) {
    add('orgId', `not an organization id (o- then 10-32 of a-z 0-9): ${JSON.stringify(s.orgId)}`);
  }
  if (s.accounts !== undefined) {
    problems.push(...listProblems('accounts', s.accounts, ACCOUNT_ID, '12-digit account id'));
    if (!isOrganizationTrail(s) && s.accounts.length > 1) {
      add('accounts', 'a single-account trail table covers exactly one account; set orgId for an organization trail');
    }
  }
  if (s.accountProjection !== undefined && s.accountProjection !== 'enum' && s.accountProjection !== 'injected') {
    add('accountProjection', `must be enum or injected, got ${JSON.stringify(s.accountProjection)}`);
  }
  if (s.accountProjection === 'injected' && !isOrganizationTrail(s)) {
    add('accountProjection', 'injected applies to organization trails only (set orgId)');
  }
  if (s.regions !== undefined) problems.push(...listProblems('regions', s.regions, REGION, 'AWS region'));
  if (s.startDate !== undefined) {
    if (!isTrailDate(s.startDate)) {
      add('startDate', `must be a real day as yyyy/MM/dd, got ${JSON.stringify(s.startDate)}`);
    } else {
      const today = dayPath(now);
      if (s.startDate > today) add('startDate', `${s.startDate} is in the future`);
    }
  }
  return problems;
}

/** Throws one Error listing every problem when the settings are not valid. */
export function assertValidAthenaSettings(settings: AthenaSettings, now?: Date): void {
  const problems = athenaSettingsProblems(settings, now);
  if (problems.length > 0) {
    throw new Error(`invalid Athena settings:\n${problems.map((p) => `  - ${p.field}: ${p.message}`).join('\n')}`);
  }
}
