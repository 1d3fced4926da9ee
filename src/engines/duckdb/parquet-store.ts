/**
 * The columnar store: a Parquet copy of the trail's records for the configured event sources,
 * written by `npm run compact` (./compact.ts) and read by the DuckDB engine in place of the
 * JSON files of every day it holds, up to date.
 *
 *   <store>/account=<account>/region=<region>/day=<yyyy-mm-dd>/part-<id>.parquet
 *   <store>/account=<account>/region=<region>/day=<yyyy-mm-dd>/manifest.json
 *
 * Each compaction writes a file under a new name, which only its manifest names: a file is never
 * rewritten in place, so a file once checked against its manifest stays what it was, and nothing
 * kept about it (here or in DuckDB's footer cache) goes stale.
 *
 * One partition per account, region and day folder of the delivery layout (an account's plain and
 * organization trail folders for the same day share one partition). The Parquet file has exactly
 * the columns of the JSON source (record-schema.ts), sorted by time, and holds each call once:
 * a record whose eventId came earlier in the partition (in an earlier delivery file, or earlier in
 * the same one), or in the JSON folders of one of the
 * `lookbackDays` days before (same account and region; any copy there, kept or not), is left out. CloudTrail delivers a call
 * again within the delivery margin, so whenever a window needs a call, the folder holding its
 * first copy is read too: a query reading only the store needs no deduplication of its own,
 * unless it reads a file the copies list names (COPIES_FILE: calls held by more than one file,
 * which the look-back cannot leave out).
 *
 * The manifest names the JSON folders and files the partition was made from, and the earlier
 * days' folders it was checked against. A partition is read only while it is up to date: the same
 * JSON folders exist, each with the modification time it had when it was compacted (a file added,
 * removed or renamed in a folder changes that time), the same for the earlier days' folders, made
 * with this record schema and for event sources covering the service's. Anything else (a day still
 * receiving files, a day after one that is, a new organization folder, a store made for other
 * sources) is read from JSON until `compact` runs again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dayPath } from '../../trail/layout';
import * as path from 'node:path';
import { LRUCache } from 'lru-cache';
import { jsonRecords } from './dialect';
import { DayFolder, mtimeNsNow, statNowExact, trailRoot } from './trail-files';

/**
 * 3: eventTime canonical UTC, eventTimeRaw, synthetic eventIDs; 4: sourceFile, each record's
 * delivery file; 5: records without a readable eventTime kept in every folder holding them, and
 * the copies list; 6: of a call's copies, the one from the first delivery file kept, as every query
 * over JSON chooses; 7: a call's copies are the records of one account, region and eventID, as
 * queries take them (earlier formats took one eventID in another account or region for a copy, and
 * left that call out). Stores of earlier formats are read as JSON until compaction rewrites them.
 */
export const STORE_FORMAT = 7;
/**
 * Changes whenever the source's columns do (the record schema, or how eventTime and eventID are
 * derived): a store made with another schema is not read.
 */
export const STORE_SCHEMA = createHash('sha256').update(jsonRecords('?')).digest('hex').slice(0, 16);
/** Default store location, beside `AWSLogs/` in the trail folder. */
export const STORE_DIR_NAME = '.trailql-parquet';
export const MANIFEST_FILE = 'manifest.json';
/** A new, unique name for a partition's Parquet file. */
export function newParquetFileName(): string {
  return `part-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}.parquet`;
}
/** Names a partition's Parquet files have (the current one is the one its manifest names). */
export const PARQUET_FILE_NAME = /^part-[a-z0-9-]+\.parquet$/;

/**
 * Which of the store's Parquet files hold a call that another of them holds too (the same
 * account, region and eventId), written by each compaction after its last partition: a copy
 * delivered again later than the days compaction looks back, a log copied into another account's
 * folder, or a record whose eventTime cannot be read (every folder keeps its own). Store-relative
 * path to the number of such calls in the file. A query reads Parquet alone without
 * deduplication only when every file it reads is listed with none: a file written since (its
 * name is new) or a store without the list is deduplicated.
 */
export const COPIES_FILE = 'copies.json';
export interface CopiesIndex {
  readonly format: 1;
  /** Calls held more than once, each counted once. */
  readonly calls: number;
  readonly files: Readonly<Record<string, number>>;
}

/** The copies list of a store; undefined when it is missing or not one. */
export async function readCopies(file: string): Promise<{ calls?: number; files: ReadonlyMap<string, number> } | undefined> {
  try {
    const c = JSON.parse(await fs.readFile(file, 'utf8')) as CopiesIndex;
    if (c?.format !== 1 || typeof c.files !== 'object' || c.files === null) return undefined;
    return { ...(Number.isSafeInteger(c.calls) ? { calls: c.calls } : {}), files: new Map(Object.entries(c.files).filter(([, n]) => Number.isSafeInteger(n))) };
  } catch {
    return undefined;
  }
}

export interface ManifestSource {
  /** JSON day folder, relative to the trail folder, `/`-separated. */
  readonly dir: string;
  /** The folder's modification time in nanoseconds (decimal text) when it was listed. */
  readonly mtimeNs: string;
}

export interface ManifestFile {
  /** Relative to the trail folder, `/`-separated. */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface Manifest {
  readonly format: number;
  readonly schema: string;
  /** eventSource values kept; `[]` means every source. */
  readonly eventSources: readonly string[];
  readonly account: string;
  readonly region: string;
  /** `yyyy/MM/dd` */
  readonly day: string;
  readonly compactedAt: string;
  /** Records in the Parquet file (each call once). */
  readonly records: number;
  /** Records left out as copies of a call delivered earlier. */
  readonly duplicates: number;
  /** Days before this one whose folders were checked for earlier copies. */
  readonly lookbackDays: number;
  /** Those folders (existing ones) with their modification times, and a digest of their files. */
  readonly earlier: { readonly sources: readonly ManifestSource[]; readonly filesDigest: string };
  /** The Parquet file, absent when no record of the day matched the event sources. */
  readonly parquet: { readonly file: string; readonly size: number; readonly mtimeNs: string } | null;
  readonly sources: readonly ManifestSource[];
  /** Every JSON file of the folders, the unreadable ones included (a change to one makes the partition stale). */
  readonly files: readonly ManifestFile[];
  /**
   * Files of `files` that could not be read and are not in the Parquet file. A partition with any
   * is never read from the store (its JSON is, where the engine reports them), and is compacted
   * again once one of them changes.
   */
  readonly unreadable?: readonly (ManifestFile & { readonly reason: string })[];
  /**
   * The calls (compact.ts CALL_KEY: account, region and eventID) of the records left out as copies:
   * with the Parquet file's, every call of the readable JSON files, which the next days are checked
   * against (absent in stores written before it was kept: those days are checked against their
   * JSON files).
   */
  readonly leftOutCalls?: readonly string[];
}

/** The store folder used when none is configured: `<trail folder>/.trailql-parquet`. */
export function defaultStoreDir(trailDir: string): string {
  return path.join(trailRoot(trailDir), STORE_DIR_NAME);
}

export function partitionKey(account: string, region: string, day: string): string {
  return `${account}/${region}/${day}`;
}

/** The partition folder of an account, region and `yyyy/MM/dd` day. */
export function partitionDir(store: string, account: string, region: string, day: string): string {
  return path.join(store, `account=${account}`, `region=${region}`, `day=${day.replace(/\//g, '-')}`);
}

/** A path under the trail folder as the manifest keeps it. */
export function trailRelative(trailDir: string, abs: string): string {
  return path.relative(trailRoot(trailDir), abs).split(path.sep).join('/');
}

/** Whether records kept for `stored` sources answer every question about `needed` (`[]` = all). */
export function coversSources(stored: readonly string[], needed: readonly string[] | undefined): boolean {
  if (stored.length === 0) return true;
  if (!needed || needed.length === 0) return false;
  return needed.every((s) => stored.includes(s));
}

/** Modification time in nanoseconds as text; undefined when the path does not exist. */
export async function mtimeNs(p: string): Promise<string | undefined> {
  try {
    return (await fs.stat(p, { bigint: true })).mtimeNs.toString();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** The most days before a partition's that compaction looks at for earlier copies (DELIVERY_MARGIN_DAYS at most 30, plus one). */
export const MAX_LOOKBACK_DAYS = 31;

export async function readManifest(file: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    // Gone, or not readable (a folder, no permission): no manifest, and its partition is read from JSON.
    return undefined;
  }
  try {
    const m = JSON.parse(text) as Manifest;
    // A manifest another program or version wrote is no manifest: its partition is read from JSON.
    const sources = Array.isArray(m?.eventSources) && m.eventSources.every((x) => typeof x === 'string');
    const lookback = Number.isInteger(m?.lookbackDays) && m.lookbackDays >= 0 && m.lookbackDays <= MAX_LOOKBACK_DAYS;
    return m && m.format === STORE_FORMAT && sources && lookback && Array.isArray(m.sources) && Array.isArray(m.files) && Array.isArray(m.earlier?.sources) && ownParquet(m.parquet) ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A manifest names no file or one of its own partition's Parquet files, by a name compaction
 * gives (never a path: a manifest naming another partition's file would serve that one's calls).
 */
function ownParquet(p: unknown): boolean {
  if (p === null) return true;
  const f = p as Manifest['parquet'];
  return typeof f === 'object' && typeof f!.file === 'string' && PARQUET_FILE_NAME.test(f!.file) && Number.isSafeInteger(f!.size) && typeof f!.mtimeNs === 'string';
}

/** Same folders, each with the same modification time. */
export function sameSources(a: readonly ManifestSource[], b: readonly ManifestSource[]): boolean {
  if (a.length !== b.length) return false;
  const byDir = new Map(a.map((s) => [s.dir, s.mtimeNs]));
  return b.every((s) => byDir.get(s.dir) === s.mtimeNs);
}

/** `yyyy/MM/dd` days before `day`, nearest first. */
export function earlierDays(day: string, count: number): string[] {
  const t = Date.parse(`${day.replace(/\//g, '-')}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => dayPath(new Date(t - (i + 1) * 86_400_000)));
}

/** The same account and region folder `days` earlier: `<root>/<region>/<yyyy>/<mm>/<dd>` with another day. */
export function folderOfDay(dayDir: string, day: string): string {
  return path.join(path.dirname(path.dirname(path.dirname(dayDir))), ...day.split('/'));
}

/** Every folder read as JSON: there is no store, or it is not to be read. Times still to be read. */
export function allJson(folders: readonly DayFolder[]): { parquet: []; jsonDirs: { dir: string; mtimeNs?: string }[]; eachCallOnce: false } {
  return { parquet: [], jsonDirs: folders.map((f) => ({ dir: f.dir })), eachCallOnce: false };
}

/** Where a query's day folders are read from. */
export interface StoreSplit {
  /** Parquet files of the partitions served from the store. */
  readonly parquet: readonly { readonly file: string; readonly size: number }[];
  /** JSON day folders of every other partition (existing folders only), with the time read for them. */
  readonly jsonDirs: readonly { readonly dir: string; readonly mtimeNs: string }[];
  /**
   * Every Parquet partition was checked for earlier copies over at least the delivery margin, and
   * the copies list names each of its files with none: without JSON folders, the rows read hold
   * each call once.
   */
  readonly eachCallOnce: boolean;
}

interface ManifestEntry {
  readonly mtimeNs: string;
  readonly manifest: Manifest | undefined;
  /** The manifest's JSON folders and earlier days' folders as the engine names them, with their times. */
  readonly sources: ReadonlyMap<string, string>;
  readonly earlier: ReadonlyMap<string, string>;
  /** The Parquet file it names (path, name in the copies list, size), once found to match it. */
  parquet?: { readonly file: string; readonly relative: string; readonly size: number };
}

/**
 * What a partition's decision needs that depends only on its place in the trail: its manifest
 * file, and the same account and region folders of each earlier day (by lookback), computed once.
 */
interface Place {
  readonly manifestFile: string;
  readonly partition: string;
  readonly earlier: Map<number, readonly string[]>;
}

/** Whether the folders found now (`dir` and time) are exactly `recorded`. */
function sameFolders(recorded: ReadonlyMap<string, string>, found: readonly { readonly dir: string; readonly mtimeNs: string }[]): boolean {
  return recorded.size === found.length && found.every((f) => recorded.get(f.dir) === f.mtimeNs);
}

/** Where one partition is read from: its Parquet file, or its existing JSON folders. */
interface Decision {
  readonly parquet?: { readonly file: string; readonly relative: string; readonly size: number };
  readonly lookbackDays: number;
  readonly jsonDirs: { dir: string; mtimeNs: string }[];
}

interface Group {
  readonly account: string;
  readonly region: string;
  readonly day: string;
  readonly dirs: string[];
}

/**
 * The engine's view of the store: splits a query's day folders into up-to-date partitions (read
 * as Parquet) and the rest (read as JSON). Manifests are cached and re-read when they change.
 */
export class ParquetStore {
  /** Manifests read, by file, with their modification time and the size of their Parquet file once it was found to match. */
  private readonly manifests = new Map<string, ManifestEntry>();
  /**
   * Parquet files found damaged when read: their partitions are read from JSON. A compaction
   * writes a new file under a new name, so a name once found damaged is never read again.
   */
  private readonly damaged = new Set<string>();
  /** Places of the partitions asked about (paths only: nothing here goes stale). */
  private readonly places = new LRUCache<string, Place>({ max: 50_000 });
  /** The copies list (COPIES_FILE) as last read, with its modification time. */
  private copies: { readonly mtimeNs: string; readonly files: ReadonlyMap<string, number> | undefined } | undefined;
  private readonly root: string;

  constructor(
    readonly dir: string,
    trailDir: string,
    /** The service's event sources (`[]` = every source): the store must hold at least these. */
    private readonly eventSources: readonly string[] | undefined,
    /** The service's delivery margin in days: how far back a partition must have looked for copies. */
    private readonly marginDays: number,
  ) {
    // As dayFolders names them (trail-files.ts), so folders compare as text.
    this.root = trailRoot(trailDir);
  }

  /** Reads `file`'s partition from JSON from now on; true the first time it is named. */
  setAside(file: string): boolean {
    if (this.damaged.has(file)) return false;
    this.damaged.add(file);
    return true;
  }

  /** The store-relative path of one of its files, for logs. */
  relative(file: string): string {
    return path.relative(this.dir, file).split(path.sep).join('/');
  }

  async split(folders: readonly DayFolder[]): Promise<StoreSplit | ReturnType<typeof allJson>> {
    if (mtimeNsNow(this.dir) === undefined) return allJson(folders);
    // A folder is often both a day of the query and the earlier day of the next one: stat it once.
    const times = new Map<string, string | undefined>();
    const timeOf = (dir: string) => {
      if (!times.has(dir)) times.set(dir, mtimeNsNow(dir));
      return times.get(dir);
    };
    const groups = new Map<string, Group>();
    for (const f of folders) {
      const key = partitionKey(f.account, f.region, f.day);
      const g = groups.get(key) ?? { account: f.account, region: f.region, day: f.day, dirs: [] };
      g.dirs.push(f.dir);
      groups.set(key, g);
    }
    // Manifests are read once and kept while unchanged: when every partition's is kept, nothing is
    // awaited (a query names dozens of partitions). Those read now are all awaited together before
    // any partition is decided, so none is left unawaited whatever a decision does.
    const asked = [...groups.values()].map((g) => {
      const existing = g.dirs.flatMap((dir) => {
        const mtimeNs = timeOf(dir);
        return mtimeNs === undefined ? [] : [{ dir, mtimeNs }];
      });
      // No JSON folder: nothing to read, whatever the store holds for it (answers follow the trail).
      if (existing.length === 0) return undefined;
      const place = this.place(g);
      return { g, existing, place, manifest: this.manifest(place.manifestFile) };
    });
    const manifests = asked.some((a) => a?.manifest instanceof Promise) ? await Promise.all(asked.map((a) => a?.manifest)) : asked.map((a) => a?.manifest as ManifestEntry | undefined);
    const decisions = asked.map((a, i): Decision => (a ? this.decide(a.g, a.existing, a.place, manifests[i], timeOf) : { lookbackDays: 0, jsonDirs: [] }));
    const parquet: { file: string; size: number }[] = [];
    const jsonDirs: { dir: string; mtimeNs: string }[] = [];
    const copies = decisions.some((d) => d.parquet) ? await this.copiesList() : undefined;
    let eachCallOnce = true;
    for (const d of decisions) {
      if (d.parquet) parquet.push(d.parquet);
      if (d.parquet && (d.lookbackDays < this.marginDays || copies?.get(d.parquet.relative) !== 0)) eachCallOnce = false;
      jsonDirs.push(...d.jsonDirs);
    }
    parquet.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    return { parquet, jsonDirs, eachCallOnce };
  }

  /** The copies list, read again when it changed; undefined when there is none. */
  private async copiesList(): Promise<ReadonlyMap<string, number> | undefined> {
    const file = path.join(this.dir, COPIES_FILE);
    const t = mtimeNsNow(file);
    if (t === undefined) return undefined;
    if (this.copies?.mtimeNs !== t) this.copies = { mtimeNs: t, files: (await readCopies(file))?.files };
    return this.copies.files;
  }

  private place(g: Group): Place {
    const key = `${partitionKey(g.account, g.region, g.day)}\n${g.dirs.join('\n')}`;
    let place = this.places.get(key);
    if (!place) {
      const partition = partitionDir(this.dir, g.account, g.region, g.day);
      place = { partition, manifestFile: path.join(partition, MANIFEST_FILE), earlier: new Map() };
      this.places.set(key, place);
    }
    return place;
  }

  /** The same account and region folders of the `lookbackDays` days before the partition's, nearest first. */
  private earlierFolders(place: Place, g: Group, lookbackDays: number): readonly string[] {
    let dirs = place.earlier.get(lookbackDays);
    if (!dirs) {
      dirs = earlierDays(g.day, lookbackDays).flatMap((day) => g.dirs.map((d) => folderOfDay(d, day)));
      place.earlier.set(lookbackDays, dirs);
    }
    return dirs;
  }

  /** Where a partition with JSON folders (`existing`) is read from, given its manifest as found now. */
  private decide(
    g: Group,
    existing: { dir: string; mtimeNs: string }[],
    place: Place,
    found: ManifestEntry | undefined,
    timeOf: (dir: string) => string | undefined,
  ): Decision {
    const json = { lookbackDays: 0, jsonDirs: existing };
    const manifest = found?.manifest;
    if (!found || !manifest || manifest.schema !== STORE_SCHEMA || !coversSources(manifest.eventSources, this.eventSources)) return json;
    // Made without some of its files: read from JSON, where the engine reports them.
    if (manifest.unreadable?.length) return json;
    if (!sameFolders(found.sources, existing)) return json;
    // The earlier days' folders must be those it was checked against, unchanged.
    const earlier = this.earlierFolders(place, g, manifest.lookbackDays).flatMap((dir) => {
      const mtimeNs = timeOf(dir);
      return mtimeNs === undefined ? [] : [{ dir, mtimeNs }];
    });
    if (!sameFolders(found.earlier, earlier)) return json;
    if (!manifest.parquet) return { lookbackDays: manifest.lookbackDays, jsonDirs: [] };
    // Files are never rewritten in place (a new compaction writes a new name): while the manifest is unchanged, so is the file.
    if (!found.parquet) {
      const file = path.join(place.partition, manifest.parquet.file);
      const s = statNowExact(file);
      // The manifest and the file it names must belong together.
      if (!s || s.mtimeNs.toString() !== manifest.parquet.mtimeNs || Number(s.size) !== manifest.parquet.size) return json;
      found.parquet = { file, relative: this.relative(file), size: Number(s.size) };
    }
    if (this.damaged.has(found.parquet.file)) return json;
    return { parquet: found.parquet, lookbackDays: manifest.lookbackDays, jsonDirs: [] };
  }

  /**
   * The manifest in `file` now: the one kept while the file's time is unchanged (no wait), else
   * read; undefined when there is none.
   */
  private manifest(file: string): ManifestEntry | undefined | Promise<ManifestEntry | undefined> {
    const t = mtimeNsNow(file);
    if (t === undefined) {
      this.manifests.delete(file);
      return undefined;
    }
    const cached = this.manifests.get(file);
    return cached && cached.mtimeNs === t ? cached : this.loadManifest(file, t);
  }

  private async loadManifest(file: string, t: string): Promise<ManifestEntry> {
    const manifest = await readManifest(file);
    // Folders as the engine names them (joined to the trail folder as given).
    // An entry that is not a folder and a time (a manifest written by something else) matches no folder: the partition is read from JSON.
    const absolute = (sources: readonly ManifestSource[] | undefined) =>
      new Map(
        (sources ?? []).map((x, i) =>
          typeof x?.dir === 'string' && typeof x.mtimeNs === 'string' ? [path.join(this.root, ...x.dir.split('/')), x.mtimeNs] : [`\u0000unreadable entry ${i}`, ''],
        ),
      );
    const entry: ManifestEntry = { mtimeNs: t, manifest, sources: absolute(manifest?.sources), earlier: absolute(manifest?.earlier.sources) };
    this.manifests.set(file, entry);
    return entry;
  }
}
