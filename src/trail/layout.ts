/**
 * The S3 key layout CloudTrail delivers to:
 *
 *   [prefix/]AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<unique>.json.gz
 *   [prefix/]AWSLogs/<o-orgid>/<account>/CloudTrail/...                 (organization trail)
 *   [prefix/]AWSLogs/<account>/CloudTrail-Digest/...                    (digests, never records)
 *   [prefix/]AWSLogs/<account>/CloudTrail-Insight/...                   (Insights events, not API calls)
 *
 * Day folders and file time stamps are UTC.
 */

export interface DeliveryKeyInput {
  readonly account: string;
  readonly region: string;
  /** Organization id (`o-...`) for organization trails. */
  readonly orgId?: string;
  /** Delivery time; the file name keeps it to the minute. */
  readonly time: Date;
  /** The random tail of the file name (CloudTrail uses 16 characters of [A-Za-z0-9]). */
  readonly unique: string;
}

export interface ParsedDeliveryKey {
  readonly orgId?: string;
  readonly account: string;
  readonly region: string;
  /** The day folder, `yyyy/MM/dd`. */
  readonly day: string;
  /** The file name (last path segment). */
  readonly file: string;
  /** Delivery time from a standard file name (`..._<yyyymmddThhmmZ>_...`), when it has one. */
  readonly deliveryTime?: Date;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** True for a `yyyy/MM/dd` string naming a real calendar day. */
export function isTrailDate(value: string): boolean {
  const m = /^(\d{4})\/(\d{2})\/(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** `yyyy/MM/dd` of a date, in UTC. */
export function dayPath(date: Date): string {
  return `${date.getUTCFullYear()}/${pad2(date.getUTCMonth() + 1)}/${pad2(date.getUTCDate())}`;
}

/** `yyyymmddThhmmZ` of a date, in UTC (CloudTrail log file time stamp). */
export function fileStamp(date: Date): string {
  return (
    `${date.getUTCFullYear()}${pad2(date.getUTCMonth() + 1)}${pad2(date.getUTCDate())}` +
    `T${pad2(date.getUTCHours())}${pad2(date.getUTCMinutes())}Z`
  );
}

/** `yyyymmddThhmmssZ` of a date, in UTC (CloudTrail digest file time stamp). */
export function digestStamp(date: Date): string {
  return fileStamp(date).slice(0, -1) + `${pad2(date.getUTCSeconds())}Z`;
}

/** The top folder of every trail key. */
export const AWS_LOGS = 'AWSLogs';
/** An account's folder of log files (beside `CloudTrail-Digest` and `CloudTrail-Insight`). */
export const RECORDS_FOLDER = 'CloudTrail';
/**
 * A region folder name as the layout accepts it (a path-safe name; which regions exist is the
 * domain's REGION rule, not the layout's).
 */
export const REGION_FOLDER = /^[a-z0-9-]+$/;

function accountRoot(account: string, orgId: string | undefined): string {
  return orgId ? `${AWS_LOGS}/${orgId}/${account}` : `${AWS_LOGS}/${account}`;
}

/**
 * `AWSLogs/[<o-orgid>/]<account>/CloudTrail`: the folder of an account's log files. `account` may
 * be a placeholder (Athena's `${account}` projection).
 */
export function recordsRoot(account: string, orgId?: string): string {
  return `${accountRoot(account, orgId)}/${RECORDS_FOLDER}`;
}

/** `AWSLogs/[<o-orgid>/]<account>/CloudTrail/<region>/<yyyy>/<MM>/<dd>`: one day folder. */
export function dayFolderKey(account: string, region: string, day: string, orgId?: string): string {
  return `${recordsRoot(account, orgId)}/${region}/${day}`;
}

/** The key of a CloudTrail log file, relative to the bucket (or to the trail's key prefix). */
export function deliveryKey(input: DeliveryKeyInput): string {
  const { account, region, orgId, time, unique } = input;
  return (
    `${dayFolderKey(account, region, dayPath(time), orgId)}/` +
    `${account}_CloudTrail_${region}_${fileStamp(time)}_${unique}.json.gz`
  );
}

export interface DigestKeyInput {
  readonly account: string;
  readonly region: string;
  readonly orgId?: string;
  readonly trailName: string;
  /** The region the trail was created in. */
  readonly homeRegion: string;
  readonly time: Date;
}

/** The key of a CloudTrail digest file (readers of records must skip these). */
export function digestKey(input: DigestKeyInput): string {
  const { account, region, orgId, trailName, homeRegion, time } = input;
  return (
    `${accountRoot(account, orgId)}/CloudTrail-Digest/${region}/${dayPath(time)}/` +
    `${account}_CloudTrail-Digest_${region}_${trailName}_${homeRegion}_${digestStamp(time)}.json.gz`
  );
}

/** The key of a CloudTrail Insights file (Insights events, not API calls). */
export function insightKey(input: DeliveryKeyInput): string {
  const { account, region, orgId, time, unique } = input;
  return (
    `${accountRoot(account, orgId)}/CloudTrail-Insight/${region}/${dayPath(time)}/` +
    `${account}_CloudTrail-Insight_${region}_${fileStamp(time)}_${unique}.json.gz`
  );
}

const RECORD_PATH =
  /^(?:.*\/)?AWSLogs\/(?:(o-[a-z0-9]{10,32})\/)?(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/([^/]+\.json(?:\.gz)?)$/;
const STANDARD_NAME = /^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[A-Za-z0-9]+\.json(?:\.gz)?$/;

/** What a standard log file name (`<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<unique>.json[.gz]`) says. */
export interface ParsedFileName {
  readonly account: string;
  readonly region: string;
  /** The day folder the file belongs in, `yyyy/MM/dd`. */
  readonly day: string;
  readonly deliveryTime: Date;
}

/** Parses a standard CloudTrail log file name; null for any other name or an impossible time. */
export function parseDeliveryFileName(name: string): ParsedFileName | null {
  const n = STANDARD_NAME.exec(name);
  if (!n) return null;
  const t = Date.UTC(Number(n[3]), Number(n[4]) - 1, Number(n[5]), Number(n[6]), Number(n[7]));
  if (!Number.isFinite(t)) return null;
  return { account: n[1], region: n[2], day: `${n[3]}/${n[4]}/${n[5]}`, deliveryTime: new Date(t) };
}

/**
 * Parses the key (or a path relative to the folder holding `AWSLogs/`, with `/` or `\`) of a
 * CloudTrail log file. Anything else (digests, Insights, other folders, other file types, impossible
 * dates) gives null.
 */
export function parseDeliveryKey(relPath: string): ParsedDeliveryKey | null {
  const m = RECORD_PATH.exec(relPath.replace(/\\/g, '/'));
  if (!m) return null;
  const [, orgId, account, region, yyyy, mm, dd, file] = m as unknown as [
    string,
    string | undefined,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const month = Number(mm);
  const day = Number(dd);
  if (month < 1 || month > 12 || day < 1 || day > 31) return null;
  const parsed: { orgId?: string; account: string; region: string; day: string; file: string; deliveryTime?: Date } = {
    account,
    region,
    day: `${yyyy}/${mm}/${dd}`,
    file,
  };
  if (orgId) parsed.orgId = orgId;
  const named = parseDeliveryFileName(file);
  if (named) parsed.deliveryTime = named.deliveryTime;
  return parsed;
}
