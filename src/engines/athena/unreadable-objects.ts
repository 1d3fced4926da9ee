/**
 * Trail objects Athena could not read: how a failed query names one, and the objects set aside.
 *
 * Athena reads the table's objects itself, so a damaged delivery file (a gzip stream cut short,
 * text that is not JSON) is known only when a query over it fails. When the failure is a reading
 * error that names an object of this trail, the object is set aside and the query is compiled
 * again without it (`"$path" NOT IN (...)`, CompiledQuery.excluding) and run again: the answer
 * covers every other file and names the one left out, as DuckDB's does. A failure that names no
 * object, or one outside the trail, fails the query as before: nothing is left out unnamed.
 *
 * Athena cannot say when an object changes (the service lists no S3 objects), so an object set
 * aside is tried again after RECHECK_MS: a repaired or redelivered file is read again by then.
 */
import type { PartitionSpec, TrailHealth, UnreadableFile } from '../../query/engine';
import { AWS_LOGS } from '../../trail/layout';

/** How long an object stays set aside before a query reads it again. */
export const RECHECK_MS = 60 * 60_000;
/** Objects remembered at once; past this, the one found first is read again first. */
const MAX_REMEMBERED = 10_000;
/** New objects one query may set aside before it fails: each try is billed for what it scanned. */
export const MAX_SET_ASIDE_PER_QUERY = 5;

/** Athena's error names for a split or row it could not read (not a fault of the statement), leading its reason. */
const READING_ERROR = /^\s*(?:HIVE_CURSOR_ERROR|HIVE_BAD_DATA|HIVE_CANNOT_OPEN_SPLIT|HIVE_UNKNOWN_ERROR|HIVE_FILESYSTEM_ERROR)\b/;
/**
 * Reading errors that tell of S3's or the cluster's load, not of the object (tested on the reason
 * without the object's key): the query failed, the file did not.
 */
const TRANSIENT =
  /slow ?down|reduce your request rate|status code: ?5\d\d|\b50[023]\b|throttl|timed? ?out|timeout|connection ?(?:reset|closed|refused)|connectionclosed|premature end|failed to respond|unable to execute http request|socket|reset by peer|broken pipe|service unavailable|internal (?:server )?error/i;

const REASONS: readonly [RegExp, string][] = [
  [/access ?denied|status code: ?403|forbidden/i, 'permission denied'],
  [/no ?such ?key|status code: ?404|not found|does not exist/i, 'vanished while being read'],
  [/gzip|zlib|inflat|unexpected end of (?:zlib )?input stream|EOFException|compressed/i, 'not a complete gzip stream'],
  [/json|unexpected character|unterminated|not a valid/i, 'malformed JSON'],
];

/** A short, path-free reason for a reading error's text. */
function reasonOf(text: string): string {
  return REASONS.find(([re]) => re.test(text))?.[1] ?? 'unreadable';
}

/** A delivery file's key and its partition: `AWSLogs/[o-…/]<account>/CloudTrail/<region>/<yyyy>/<MM>/<dd>/<file>.json[.gz]`. */
const OBJECT_KEY = /^AWSLogs\/(?:o-[a-z0-9]{10,32}\/)?(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4}\/\d{2}\/\d{2})\/[^/]+\.json(?:\.gz)?$/;

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface UnreadableObject extends UnreadableFile {
  /** The object's URI as Athena's `"$path"` gives it. */
  readonly uri: string;
}

/**
 * The trail object a failed query's reason names as unreadable, or undefined when the failure is
 * not a reading error, is one of S3's or the cluster's load, or names no delivery file of this
 * trail, or more than one (text of the data echoed in the reason could name another: nothing is
 * set aside on a guess).
 *
 * @param trailRoot `s3://<bucket>/<prefix>`: where the trail's `AWSLogs/` is
 */
export function unreadableObjectOf(reason: string, trailRoot: string): UnreadableObject | undefined {
  if (!READING_ERROR.test(reason)) return undefined;
  const mentions = [...reason.matchAll(new RegExp(`s3a?://${escapeRegExp(trailRoot.replace(/^s3:\/\//, ''))}(${AWS_LOGS}/[A-Za-z0-9!_.*'()/=+-]+)`, 'g'))];
  // A split is named with its range after the key (`key (offset=0, length=1234)`), or in quotes.
  const keys = new Set(mentions.map((m) => m[1]!.replace(/[.'()]+$/, '')));
  if (keys.size !== 1) return undefined;
  const path = [...keys][0]!;
  if (!OBJECT_KEY.test(path) || path.split('/').some((s) => s === '.' || s === '..')) return undefined;
  const rest = mentions.reduce((text, m) => text.split(m[0]).join(' '), reason);
  if (TRANSIENT.test(rest)) return undefined;
  return { uri: `${trailRoot}${path}`, path, reason: reasonOf(rest) };
}

interface SetAside extends UnreadableObject {
  readonly since: string;
  /** When it is read again, ms since the epoch. */
  readonly until: number;
}

/** The objects set aside now, each until RECHECK_MS after it was found. */
export class SetAsideObjects {
  /** By URI, in the order found. */
  private readonly objects = new Map<string, SetAside>();
  private found = 0;

  /**
   * @param byAccount statements name the accounts they read (an organization trail's table has an
   *   `account` partition); otherwise every account of a day is read, and its objects with it
   */
  constructor(
    private readonly now: () => Date = () => new Date(),
    private readonly byAccount = true,
    private readonly recheckMs = RECHECK_MS,
  ) {}

  /** Sets `object` aside; false when it already was. */
  add(object: UnreadableObject): boolean {
    if (this.current().some((o) => o.uri === object.uri)) return false;
    const at = this.now();
    this.objects.set(object.uri, { ...object, since: at.toISOString(), until: at.getTime() + this.recheckMs });
    if (this.objects.size > MAX_REMEMBERED) this.objects.delete(this.objects.keys().next().value!);
    this.found += 1;
    return true;
  }

  /** The objects set aside that a statement over `partitions` reads (its days, regions and accounts, as it reads them), by URI. */
  within(partitions: PartitionSpec): UnreadableObject[] {
    const out: UnreadableObject[] = [];
    for (const object of this.current()) {
      const [, account, region, day] = OBJECT_KEY.exec(object.path)!;
      if (!partitions.days.includes(day!)) continue;
      if (partitions.regions.length && !partitions.regions.includes(region!)) continue;
      if (this.byAccount && partitions.accounts.length && !partitions.accounts.includes(account!)) continue;
      out.push({ uri: object.uri, path: object.path, reason: object.reason });
    }
    return out.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  /** For readiness and the operators' health view; sizes are unknown to Athena (0). */
  health(): TrailHealth {
    const unreadable = this.current().map((o) => ({ path: o.path, reason: o.reason, size: 0, since: o.since }));
    return { available: true, unreadable, unreadableFound: this.found };
  }

  /** The objects still set aside; those due to be read again are forgotten. */
  private current(): SetAside[] {
    const now = this.now().getTime();
    for (const [uri, o] of this.objects) if (o.until <= now) this.objects.delete(uri);
    return [...this.objects.values()];
  }
}
