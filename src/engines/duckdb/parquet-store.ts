/**
 * The columnar store: a Parquet copy of the trail's records for the configured event sources,
 * written by `npm run compact` (src/trail/compact.ts) and read by the DuckDB engine in place of the
 * JSON files of every day it holds, up to date.
 *
 *   <store>/account=<account>/region=<region>/day=<yyyy-mm-dd>/part-0.parquet
 *   <store>/account=<account>/region=<region>/day=<yyyy-mm-dd>/manifest.json
 *
 * One partition per account, region and day folder of the delivery layout (an account's plain and
 * organization trail folders for the same day share one partition). The Parquet file has exactly
 * the columns of the JSON source (record-schema.ts), records in delivery order within the day
 * folder's files, duplicates kept (deduplication stays in the query).
 *
 * The manifest names the JSON folders and files the partition was made from. A partition is read
 * only while it is up to date: the same JSON folders exist, each with the modification time it had
 * when it was compacted (a file added, removed or renamed in a folder changes that time), made with
 * this record schema and for event sources covering the service's. Anything else (a day still
 * receiving files, a new organization folder, a store made for other sources) is read from JSON
 * until `compact` runs again.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { RECORDS_COLUMNS } from './record-schema';
import { DayFolder, trailRoot } from './trail-files';

export const STORE_FORMAT = 1;
/** Changes whenever the record schema does: a store made with another schema is not read. */
export const STORE_SCHEMA = createHash('sha256').update(RECORDS_COLUMNS).digest('hex').slice(0, 16);
/** Default store location, beside `AWSLogs/` in the trail folder. */
export const STORE_DIR_NAME = '.trailql-parquet';
export const MANIFEST_FILE = 'manifest.json';
export const PARQUET_FILE = 'part-0.parquet';

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
  /** Records in the Parquet file (duplicates included). */
  readonly records: number;
  /** The Parquet file, absent when no record of the day matched the event sources. */
  readonly parquet: { readonly file: string; readonly size: number; readonly mtimeNs: string } | null;
  readonly sources: readonly ManifestSource[];
  readonly files: readonly ManifestFile[];
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

export async function readManifest(file: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const m = JSON.parse(text) as Manifest;
    return m && m.format === STORE_FORMAT && Array.isArray(m.sources) && Array.isArray(m.files) ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Same folders, each with the same modification time. */
export function sameSources(a: readonly ManifestSource[], b: readonly ManifestSource[]): boolean {
  if (a.length !== b.length) return false;
  const byDir = new Map(a.map((s) => [s.dir, s.mtimeNs]));
  return b.every((s) => byDir.get(s.dir) === s.mtimeNs);
}

/** Where a query's day folders are read from. */
export interface StoreSplit {
  /** Parquet files of the partitions served from the store. */
  readonly parquet: readonly { readonly file: string; readonly size: number }[];
  /** JSON day folders of every other partition (existing folders only). */
  readonly jsonDirs: readonly string[];
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
  private readonly manifests = new Map<string, { mtimeNs: string; manifest: Manifest | undefined }>();

  constructor(
    readonly dir: string,
    private readonly trailDir: string,
    /** The service's event sources (`[]` = every source): the store must hold at least these. */
    private readonly eventSources: readonly string[] | undefined,
  ) {}

  async split(folders: readonly DayFolder[]): Promise<StoreSplit> {
    if ((await mtimeNs(this.dir)) === undefined) return { parquet: [], jsonDirs: folders.map((f) => f.dir) };
    const groups = new Map<string, Group>();
    for (const f of folders) {
      const key = partitionKey(f.account, f.region, f.day);
      const g = groups.get(key) ?? { account: f.account, region: f.region, day: f.day, dirs: [] };
      g.dirs.push(f.dir);
      groups.set(key, g);
    }
    const decided = await Promise.all([...groups.values()].map((g) => this.decide(g)));
    const parquet: { file: string; size: number }[] = [];
    const jsonDirs: string[] = [];
    for (const d of decided) {
      if (d.parquet) parquet.push(d.parquet);
      jsonDirs.push(...d.jsonDirs);
    }
    parquet.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    return { parquet, jsonDirs };
  }

  private async decide(g: Group): Promise<{ parquet?: { file: string; size: number }; jsonDirs: string[] }> {
    const times = await Promise.all(g.dirs.map((d) => mtimeNs(d)));
    const present: ManifestSource[] = [];
    g.dirs.forEach((d, i) => {
      const t = times[i];
      if (t !== undefined) present.push({ dir: trailRelative(this.trailDir, d), mtimeNs: t });
    });
    const json = { jsonDirs: g.dirs.filter((_, i) => times[i] !== undefined) };
    // No JSON folder: nothing to read, whatever the store holds for it (answers follow the trail).
    if (present.length === 0) return { jsonDirs: [] };
    const partition = partitionDir(this.dir, g.account, g.region, g.day);
    const manifest = await this.manifest(path.join(partition, MANIFEST_FILE));
    if (!manifest || manifest.schema !== STORE_SCHEMA || !coversSources(manifest.eventSources, this.eventSources)) return json;
    if (!sameSources(manifest.sources, present)) return json;
    if (!manifest.parquet) return { jsonDirs: [] };
    const file = path.join(partition, manifest.parquet.file);
    try {
      const s = await fs.stat(file, { bigint: true });
      // The manifest and the file it names must belong together (compact replaces both).
      if (s.mtimeNs.toString() !== manifest.parquet.mtimeNs || Number(s.size) !== manifest.parquet.size) return json;
      return { parquet: { file, size: Number(s.size) }, jsonDirs: [] };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return json;
      throw err;
    }
  }

  private async manifest(file: string): Promise<Manifest | undefined> {
    const t = await mtimeNs(file);
    if (t === undefined) {
      this.manifests.delete(file);
      return undefined;
    }
    const cached = this.manifests.get(file);
    if (cached && cached.mtimeNs === t) return cached.manifest;
    const manifest = await readManifest(file);
    this.manifests.set(file, { mtimeNs: t, manifest });
    return manifest;
  }
}
