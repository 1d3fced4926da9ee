import { BigIntStats, Stats, promises as fs, statSync } from 'node:fs';
import * as path from 'node:path';
import { LRUCache } from 'lru-cache';
import { ACCOUNT_ID, ORG_ID } from '../../domain/aws';
import { AWS_LOGS, RECORDS_FOLDER, isTrailDate } from '../../trail/layout';
import { PartitionSpec } from '../../query/engine';

const RECORD_FILE = /\.json(\.gz)?$/;

/**
 * A path's status now, links followed; undefined when nothing is there to read: missing, or a
 * link to nothing, to itself, or through a file (which `statSync` throws for).
 */
export function statNow(p: string): Stats | undefined {
  try {
    return statSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** `statNow` with nanosecond times. */
export function statNowExact(p: string): BigIntStats | undefined {
  try {
    return statSync(p, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** The sub-folders of a folder, as the file system lists them now (links to folders too). */
async function listChildren(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return entries.filter((d) => d.isDirectory() || (d.isSymbolicLink() && statNow(path.join(dir, d.name))?.isDirectory())).map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Lists a folder's sub-folders: every time (`listChildren`), or through a `FolderListings` memo. */
type Children = (dir: string) => Promise<readonly string[]>;

/**
 * The record files (`.json`, `.json.gz`) directly in a folder; none when it does not exist. A
 * link to a file is one; so is, to be reported unreadable rather than missed without a word,
 * anything else named like one (a link to nothing, a folder, a pipe, a device): the engine and
 * compaction name those from their listings and never open them (a read of a pipe could wait for
 * ever).
 */
export async function recordFiles(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return entries.filter((e) => RECORD_FILE.test(e.name)).map((e) => path.join(dir, e.name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** `AWSLogs/<account>/CloudTrail` folders under the root, for plain and organization trails. */
async function accountFolders(awsLogs: string, children: Children = listChildren): Promise<{ account: string; dir: string }[]> {
  const out: { account: string; dir: string }[] = [];
  for (const name of await children(awsLogs)) {
    if (ACCOUNT_ID.test(name)) out.push({ account: name, dir: path.join(awsLogs, name, RECORDS_FOLDER) });
    else if (ORG_ID.test(name)) {
      for (const acct of await children(path.join(awsLogs, name))) {
        if (ACCOUNT_ID.test(acct)) out.push({ account: acct, dir: path.join(awsLogs, name, acct, RECORDS_FOLDER) });
      }
    }
  }
  return out;
}

/** One `<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>` folder (plain or organization trail). */
export interface DayFolder {
  readonly account: string;
  readonly region: string;
  /** `yyyy/MM/dd` */
  readonly day: string;
  /** Absolute path of the folder (it may not exist). */
  readonly dir: string;
}

/** The folder holding `AWSLogs/` (the trail directory may be given as either). */
export function trailRoot(trailDir: string): string {
  return path.basename(trailDir) === AWS_LOGS ? path.dirname(trailDir) : trailDir;
}

/**
 * The day folders a query's partitions name, without opening any of them: the account folders
 * (filtered), their region folders (filtered), then the listed days. Folders may not exist.
 * `listings` keeps the account and region folders' listings while their times are unchanged.
 */
export async function dayFolders(root: string, partitions: PartitionSpec, listings?: FolderListings): Promise<DayFolder[]> {
  const children: Children = listings ? (dir) => listings.children(dir) : listChildren;
  const out: DayFolder[] = [];
  // Every query's freshness check builds these paths (a month is a few hundred): each day's part
  // once, joined to each region's folder by plain concatenation (both are already normal).
  const dayParts = partitions.days.map((day) => day.split('/').join(path.sep));
  for (const { account, dir } of await accountFolders(path.join(trailRoot(root), AWS_LOGS), children)) {
    if (partitions.accounts.length && !partitions.accounts.includes(account)) continue;
    for (const region of await children(dir)) {
      if (partitions.regions.length && !partitions.regions.includes(region)) continue;
      const regionDir = path.join(dir, region) + path.sep;
      partitions.days.forEach((day, i) => out.push({ account, region, day, dir: regionDir + dayParts[i] }));
    }
  }
  return out;
}

/** Every existing day folder of the trail (digests and Insights excluded), in path order. */
export async function allDayFolders(root: string): Promise<DayFolder[]> {
  const out: DayFolder[] = [];
  const digits = (n: number) => (name: string) => name.length === n && /^\d+$/.test(name);
  for (const { account, dir } of await accountFolders(path.join(trailRoot(root), AWS_LOGS))) {
    for (const region of (await listChildren(dir)).sort()) {
      for (const yyyy of (await listChildren(path.join(dir, region))).filter(digits(4)).sort()) {
        for (const mm of (await listChildren(path.join(dir, region, yyyy))).filter(digits(2)).sort()) {
          for (const dd of (await listChildren(path.join(dir, region, yyyy, mm))).filter(digits(2)).sort()) {
            // A stray folder such as 2024/13/01 is no day of the trail.
            if (!isTrailDate(`${yyyy}/${mm}/${dd}`)) continue;
            out.push({ account, region, day: `${yyyy}/${mm}/${dd}`, dir: path.join(dir, region, yyyy, mm, dd) });
          }
        }
      }
    }
  }
  return out;
}

/**
 * `mtimeNs` without a trip through the thread pool: a query's freshness check makes a few hundred
 * of these for a month, and each takes microseconds, far less than scheduling it.
 */
export function mtimeNsNow(p: string): string | undefined {
  const s = statNowExact(p);
  return s?.mtimeNs.toString();
}

/**
 * How long after a folder changes its time is not trusted: a file landing within the same
 * file-system clock tick (a second on some file systems) would not move it again.
 */
export const FOLDER_SETTLE_MS = 2_000;

/** Whether a folder's modification time (`mtimeNsNow`) is older than `settleMs`. */
export function settled(mtimeNs: string | bigint, settleMs = FOLDER_SETTLE_MS): boolean {
  return Date.now() - Number(BigInt(mtimeNs) / 1_000_000n) >= settleMs;
}

/** A record file and its size in bytes. */
export interface SizedFile {
  readonly file: string;
  readonly size: number;
  /** A symbolic link: what it leads to may change without its folder changing, so it is looked at before each read. */
  readonly link?: true;
  /** Neither a file nor a link, named like a record file: a folder, a pipe, a socket or a device. */
  readonly notFile?: true;
}

/**
 * The record files of day folders with their sizes, listed again only when a folder's modification
 * time changes (a file added, removed or renamed changes it). A day folder of a busy trail holds
 * hundreds of files; without this every query would list and stat each of them again. A file
 * rewritten in place keeps the size it was listed with, which only the cost report and the limit on
 * shared readings use (a shared reading's key stats the files again: driver.ts `filesAsTheyAre`).
 *
 * A folder changed within the last few seconds is not kept (a file landing within the same
 * file-system clock tick would not move its time), and no listing is kept longer than a few
 * minutes, for file systems that do not keep folder times (some network and object-store mounts).
 */
export class DayFolderFiles {
  private readonly listed: LRUCache<string, { readonly mtimeNs: bigint; readonly files: readonly SizedFile[] }>;

  constructor(
    maxFolders = 50_000,
    private readonly settleMs = FOLDER_SETTLE_MS,
    maxAgeMs = 300_000,
  ) {
    this.listed = new LRUCache({ max: maxFolders, ttl: maxAgeMs });
  }

  /**
   * The folder's record files in name order; none when it does not exist. `knownMtimeNs`: the
   * folder's modification time when the caller has just read it.
   */
  async files(dir: string, knownMtimeNs?: string): Promise<readonly SizedFile[]> {
    const t = knownMtimeNs ?? mtimeNsNow(dir);
    if (t === undefined) {
      this.listed.delete(dir);
      return [];
    }
    const mtimeNs = BigInt(t);
    const known = this.listed.get(dir);
    if (known && known.mtimeNs === mtimeNs) return known.files;
    const names = (await recordFiles(dir)).sort();
    // A link keeps its place whatever it leads to (it is looked at before each read); a file
    // removed between the listing and its stat is left out: the folder's time has changed, so it
    // is listed again next time.
    const own = await Promise.all(names.map((f) => fs.lstat(f).catch(() => undefined)));
    const files = names.flatMap((file, i): SizedFile[] => {
      const s = own[i];
      if (!s) return [];
      if (s.isSymbolicLink()) return [{ file, size: s.size, link: true }];
      return [{ file, size: s.size, ...(s.isFile() ? {} : { notFile: true as const }) }];
    });
    if (settled(mtimeNs, this.settleMs)) this.listed.set(dir, { mtimeNs, files });
    return files;
  }
}

/**
 * The sub-folders of the trail's upper folders (`AWSLogs/`, organization, account and region
 * folders), listed again only when a folder's modification time changes: a folder created,
 * removed or renamed in it changes it. Every query's file fingerprint walks these folders, so a
 * cached answer would otherwise cost a handful of listings through the thread pool; with this it
 * costs one `stat` per folder, and a new account or region is still seen at once.
 *
 * The rules are those of `DayFolderFiles`: a folder changed within the last few seconds is not
 * kept, and no listing is kept longer than a few minutes.
 */
export class FolderListings {
  private readonly listed: LRUCache<string, { readonly mtimeNs: string; readonly names: readonly string[] }>;

  constructor(
    maxFolders = 10_000,
    private readonly settleMs = FOLDER_SETTLE_MS,
    maxAgeMs = 300_000,
  ) {
    this.listed = new LRUCache({ max: maxFolders, ttl: maxAgeMs });
  }

  /** The folder's sub-folders; none when it does not exist. */
  async children(dir: string): Promise<readonly string[]> {
    const mtimeNs = mtimeNsNow(dir);
    if (mtimeNs === undefined) {
      this.listed.delete(dir);
      return [];
    }
    const known = this.listed.get(dir);
    if (known && known.mtimeNs === mtimeNs) return known.names;
    const names = await listChildren(dir);
    // A listing made while the folder is still changing replaces none: the older one is stale.
    if (settled(mtimeNs, this.settleMs)) this.listed.set(dir, { mtimeNs, names });
    else this.listed.delete(dir);
    return names;
  }
}
