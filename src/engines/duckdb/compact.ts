/**
 * Compaction: the JSON trail to the Parquet store the DuckDB engine reads (layout, manifest and
 * freshness rule in src/engines/duckdb/parquet-store.ts).
 *
 * For each account, region and day folder of the trail (plain and organization trails), the records
 * whose eventSource is configured are written to one Parquet file with exactly the columns of the
 * JSON source. Incremental: a day is rewritten only when it is new, when its files changed (names,
 * sizes, modification times), or when it was made with another schema or other event sources; a
 * day whose folder was touched without any file changing only gets its manifest refreshed. Every
 * file is written under a temporary name and renamed into place. Each call is kept once: a record
 * whose eventId came earlier in the day, or in the same account and region's folders of the
 * `lookbackDays` days before, is left out (a day is therefore rewritten when those change too);
 * a record whose eventTime cannot be read is kept in every folder holding it. After the last
 * partition, the store's files holding a call that another one holds too are listed
 * (parquet-store.ts COPIES_FILE): queries reading those deduplicate.
 *
 * Partitions are written together, in day order: one statement reads the JSON files of many days
 * at once (every core on one read, each file parsed once) and each partition gets its own file
 * from it. A batch holding a file that cannot be read is written one partition at a time instead,
 * each unreadable file found, left out and named.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance, DuckDBValue, listValue } from '@duckdb/node-api';
import { fileKey, jsonRecords } from './dialect';
import { SOURCE_COLUMN_NAMES } from './record-schema';
import { useUtc } from './driver';
import { firstDelivery, literal } from '../../query/compiler';
import {
  COPIES_FILE,
  CopiesIndex,
  MANIFEST_FILE,
  readCopies,
  Manifest,
  ManifestFile,
  MAX_LOOKBACK_DAYS,
  ManifestSource,
  PARQUET_FILE_NAME,
  STORE_FORMAT,
  STORE_SCHEMA,
  defaultStoreDir,
  earlierDays,
  newParquetFileName,
  mtimeNs,
  partitionDir,
  partitionKey,
  readManifest,
  sameSources,
  trailRelative,
} from './parquet-store';
import { DayFolder, allDayFolders, recordFiles } from './trail-files';
import { SMALL_RECORD_FILE_BYTES, blameFiles, smallFileProblem } from './unreadable-files';
import { withFileLock } from '../../history/file-lock';

/** The order of a call's copies in which the first is kept: the one every query takes (compiler.ts firstDelivery). */
const FIRST_DELIVERY = firstDelivery('"sourceFile"').join(', ');

/** Files a partition may leave out as unreadable before it is counted as failed. */
const MAX_UNREADABLE_PER_PARTITION = 20;

/**
 * A folder modified less than this long ago may still change within the same file-system clock
 * tick, unseen: compaction waits until the newest folder is at least this old before listing.
 */
const SETTLE_MS = 1000;
/** Partitions written at once when written one at a time, and Parquet files written at once from a batch. */
const COPY_CONCURRENCY = 2;
/**
 * JSON files read by one statement when partitions are written together: bounds the records held
 * in memory at once (the service's event sources only) to some ten days of a busy trail.
 */
const BATCH_MAX_FILES = 10_000;
/** And the delivery files' bytes on disk (compressed) one statement reads, for trails of large files. */
const BATCH_MAX_BYTES = 256 * 2 ** 20;

export interface CompactProgress {
  /** Days looked at, of all the trail's days. */
  readonly days: number;
  readonly totalDays: number;
  /** JSON files compacted so far, of those that need it. */
  readonly files: number;
  readonly totalFiles: number;
  /** Records written so far. */
  readonly records: number;
  readonly elapsedMs: number;
}

export interface CompactOptions {
  /** Folder holding `AWSLogs/`. */
  readonly trailDir: string;
  /** Default `<trailDir>/.trailql-parquet`. */
  readonly storeDir?: string;
  /** eventSource values to keep; `[]` keeps every record. */
  readonly eventSources: readonly string[];
  readonly threads?: number;
  readonly memoryLimit?: string;
  /** Rewrite every day, up to date or not. */
  readonly force?: boolean;
  /**
   * Days before each day whose folders are checked for earlier copies of its calls: at least the
   * service's delivery margin (DELIVERY_MARGIN_DAYS), or queries keep deduplicating. Default 2,
   * one more than the default margin: a copy a little later than the margin is still caught.
   */
  readonly lookbackDays?: number;
  readonly onProgress?: (p: CompactProgress) => void;
  /** How often a run touches its lock, and how long one untouched is waited for (tests). */
  readonly lock?: { readonly beatMs: number; readonly staleMs: number };
  /**
   * JSON files read by one statement, whole partitions together (default BATCH_MAX_FILES); 0
   * writes one partition at a time, as a batch with an unreadable file is.
   */
  readonly batchFiles?: number;
}

export interface CompactResult {
  readonly storeDir: string;
  /** Account/region/day partitions in the trail. */
  readonly days: number;
  /** Partitions written, as `account/region/yyyy/MM/dd`. */
  readonly compacted: readonly string[];
  /** Of `compacted`, those written in batches, many days' files read together (the rest one at a time). */
  readonly together: number;
  /** Partitions whose folder changed with no file changing: manifest rewritten, data kept. */
  readonly refreshed: readonly string[];
  readonly upToDate: number;
  /** Partitions removed from the store because their JSON folders are gone. */
  readonly removed: readonly string[];
  /** Partitions that could not be compacted (they stay on JSON). */
  readonly failed: readonly { readonly key: string; readonly error: string }[];
  /**
   * Files left out because they cannot be read (relative to the trail folder), from partitions
   * written now and from those kept: their partitions are written from every other file but
   * read from JSON by the engine (which reports them), and written again once one changes.
   */
  readonly unreadable: readonly { readonly partition: string; readonly path: string; readonly reason: string }[];
  /** JSON files read and their bytes. */
  readonly sourceFiles: number;
  readonly sourceBytes: number;
  /** Records written (each call once). */
  readonly records: number;
  /** Records left out as copies of a call delivered earlier. */
  readonly duplicates: number;
  /**
   * Calls the store holds in more than one file (COPIES_FILE: queries reading those deduplicate);
   * absent when the store's files could not be read for it (every query over the store then
   * does), `problem` saying why.
   */
  readonly copies?: number;
  readonly problem?: string;
  readonly parquetBytes: number;
  readonly ms: number;
}

interface Partition {
  readonly key: string;
  readonly account: string;
  readonly region: string;
  readonly day: string;
  readonly folders: DayFolder[];
}

interface Listing {
  readonly sources: ManifestSource[];
  readonly files: ManifestFile[];
  /** Absolute paths, same order as `files`. */
  readonly paths: string[];
  /** Files known unreadable from the listing alone (absolute path to reason): DuckDB never opens them (a small one is read to tell, smallFileProblem). */
  readonly notFiles: Map<string, string>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A run's lock (LOCK_FILE in the store) is another's to wait for while its holder lives: the holder
 * touches it every LOCK_BEAT_MS, and one left untouched for LOCK_STALE_MS is taken over (a holder
 * that stopped without removing it, on this host or another).
 */
const LOCK_FILE = 'compact';
const LOCK_BEAT_MS = 30_000;
const LOCK_STALE_MS = 5 * 60_000;

function sameFiles(a: readonly ManifestFile[], b: readonly ManifestFile[]): boolean {
  if (a.length !== b.length) return false;
  const byPath = new Map(a.map((f) => [f.path, f]));
  return b.every((f) => {
    const o = byPath.get(f.path);
    return o !== undefined && o.size === f.size && o.mtimeMs === f.mtimeMs;
  });
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/** A digest of a listing's files (path, size, modification time), in path order. */
function filesDigest(files: readonly ManifestFile[]): string {
  const lines = files.map((f) => `${f.path}\u0000${f.size}\u0000${f.mtimeMs}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/**
 * A listed record file's size and time (its target's, for a link), and why it cannot be read
 * when that shows without reading it: a link to nothing or to itself, a folder, a pipe or a
 * device (never opened: a read of a pipe waits for ever). Undefined when it is gone (its folder's
 * time has changed: the next run lists it again).
 */
async function statListed(file: string): Promise<{ size: number; mtimeMs: number; notAFile?: string } | undefined> {
  const s = await fs.stat(file).catch(() => undefined);
  if (s) return { size: s.size, mtimeMs: s.mtimeMs, ...(s.isFile() ? {} : { notAFile: 'not a file' }) };
  const own = await fs.lstat(file).catch(() => undefined);
  return own && { size: own.size, mtimeMs: own.mtimeMs, notAFile: 'a link to nothing' };
}

/** Each folder's time first, then its files: a file landing after the listing moves the time. */
async function listPartition(trailDir: string, p: Partition): Promise<Listing> {
  const sources: ManifestSource[] = [];
  const files: ManifestFile[] = [];
  const paths: string[] = [];
  const notFiles = new Map<string, string>();
  for (const folder of p.folders) {
    const t = await mtimeNs(folder.dir);
    if (t === undefined) continue;
    sources.push({ dir: trailRelative(trailDir, folder.dir), mtimeNs: t });
    const names = await recordFiles(folder.dir);
    const stats = await Promise.all(names.map(statListed));
    names.forEach((f, i) => {
      const s = stats[i];
      if (!s) return;
      paths.push(f);
      files.push({ path: trailRelative(trailDir, f), size: s.size, mtimeMs: s.mtimeMs });
      const problem = s.notAFile ?? (s.size > 0 && s.size <= SMALL_RECORD_FILE_BYTES ? smallFileProblem(f) : undefined);
      if (problem) notFiles.set(f, problem);
    });
  }
  return { sources, files, paths, notFiles };
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await fs.writeFile(tmp, text);
  await fs.rename(tmp, file);
}

/** Whether the manifest's Parquet file is the one on disk. */
async function parquetIntact(dir: string, m: Manifest): Promise<boolean> {
  if (!m.parquet) return true;
  try {
    const s = await fs.stat(path.join(dir, m.parquet.file), { bigint: true });
    return s.mtimeNs.toString() === m.parquet.mtimeNs && Number(s.size) === m.parquet.size;
  } catch {
    return false;
  }
}

/** The store's partition folders (`account=.../region=.../day=...`). */
async function partitionFolders(store: string): Promise<string[]> {
  const sub = async (dir: string, prefix: string) =>
    (await fs.readdir(dir, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory() && d.name.startsWith(prefix)).map((d) => path.join(dir, d.name));
  const out: string[] = [];
  for (const a of await sub(store, 'account=')) for (const r of await sub(a, 'region=')) out.push(...(await sub(r, 'day=')));
  return out;
}

/** Partition folders in the store that hold a manifest, with it, by key, but for the folders in `skip`. */
async function storedPartitions(store: string, skip: ReadonlySet<string> = new Set()): Promise<Map<string, { dir: string; manifest: Manifest }>> {
  const out = new Map<string, { dir: string; manifest: Manifest }>();
  for (const dir of await partitionFolders(store)) {
    if (skip.has(dir)) continue;
    const manifest = await readManifest(path.join(dir, MANIFEST_FILE));
    if (manifest) out.set(partitionKey(manifest.account, manifest.region, manifest.day), { dir, manifest });
  }
  return out;
}

/**
 * Compacts the trail into the store; see the file comment. One run at a time per store: a run
 * waits for another one's end (`compact.lock` in the store; two at once would each remove the
 * other's new files), then removes what runs stopped midway left behind.
 */
export async function compactTrail(options: CompactOptions): Promise<CompactResult> {
  const trailDir = path.resolve(options.trailDir);
  const store = path.resolve(options.storeDir ?? defaultStoreDir(trailDir));
  await fs.mkdir(store, { recursive: true });
  const lock = path.join(store, LOCK_FILE);
  return withFileLock(
    lock,
    async () => {
      const beat = setInterval(() => {
        const now = new Date();
        fs.utimes(`${lock}.lock`, now, now).catch(() => {});
      }, options.lock?.beatMs ?? LOCK_BEAT_MS);
      beat.unref();
      try {
        const started = performance.now();
        await removeLeftovers(store);
        return await compactLocked(options, trailDir, store, started);
      } finally {
        clearInterval(beat);
      }
    },
    options.lock?.staleMs ?? LOCK_STALE_MS,
  );
}

/** Temporary files of a write (`<name>.tmp-<pid>_<hex>`, `<name>.tmp-<pid>-<hex>`). */
const TEMPORARY_FILE = /\.tmp-\d+[-_][0-9a-f]+$/;

/**
 * What only a run stopped midway leaves: temporary files in the store and its partition folders,
 * and Parquet files no manifest names.
 */
async function removeLeftovers(store: string): Promise<void> {
  for (const dir of [store, ...(await partitionFolders(store))]) {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    const named = dir === store ? undefined : (await readManifest(path.join(dir, MANIFEST_FILE)))?.parquet?.file;
    for (const name of names) {
      const orphan = dir !== store && PARQUET_FILE_NAME.test(name) && name !== named;
      if (TEMPORARY_FILE.test(name) || orphan) await fs.rm(path.join(dir, name), { force: true });
    }
  }
}

async function compactLocked(options: CompactOptions, trailDir: string, store: string, started: number): Promise<CompactResult> {
  const sources = [...options.eventSources].sort();
  const lookbackDays = options.lookbackDays ?? 2;
  if (!Number.isInteger(lookbackDays) || lookbackDays < 0 || lookbackDays > MAX_LOOKBACK_DAYS) throw new Error(`lookbackDays: expected 0 to ${MAX_LOOKBACK_DAYS}, got ${lookbackDays}`);
  if (options.batchFiles !== undefined && !(Number.isInteger(options.batchFiles) && options.batchFiles >= 0)) throw new Error(`batchFiles: expected a whole number, got ${options.batchFiles}`);

  const partitions = new Map<string, Partition>();
  for (const f of await allDayFolders(trailDir)) {
    const key = partitionKey(f.account, f.region, f.day);
    const p = partitions.get(key) ?? { key, account: f.account, region: f.region, day: f.day, folders: [] };
    p.folders.push(f);
    partitions.set(key, p);
  }

  // The engine starts while the trail is listed (closed unused when every day is up to date).
  const dbOptions: Record<string, string> = {};
  if (options.threads) dbOptions.threads = String(options.threads);
  if (options.memoryLimit) dbOptions.memory_limit = options.memoryLimit;
  const starting = DuckDBInstance.create(':memory:', dbOptions);
  starting.catch(() => {});

  // Let the newest folder settle (see SETTLE_MS).
  const times = await Promise.all([...partitions.values()].flatMap((p) => p.folders.map((f) => fs.stat(f.dir).then((s) => s.mtimeMs))));
  const youngest = times.length ? Math.max(...times) : 0;
  const wait = Math.min(SETTLE_MS, youngest + SETTLE_MS - Date.now());
  if (wait > 0) await sleep(wait);

  // Decide what needs work first, so progress can say how much is left.
  /** `before`: the earlier days' partitions this one is checked against, with their listings; `earlier`: what its manifest records of them. */
  type Work = { p: Partition; listing: Listing; earlier: Manifest['earlier']; before: { p: Partition; listing: Listing }[]; dir: string; action: 'compact' | 'refresh' };
  const work: Work[] = [];
  const unreadable: { partition: string; path: string; reason: string }[] = [];
  let upToDate = 0;
  const listings = new Map<string, Promise<Listing>>();
  const listingOf = (p: Partition) => {
    if (!listings.has(p.key)) listings.set(p.key, listPartition(trailDir, p));
    return listings.get(p.key)!;
  };
  for (const p of partitions.values()) {
    const listing = await listingOf(p);
    const earlierParts = earlierDays(p.day, lookbackDays).flatMap((d) => partitions.get(partitionKey(p.account, p.region, d)) ?? []);
    const before = await Promise.all(earlierParts.map(async (e) => ({ p: e, listing: await listingOf(e) })));
    const earlier = {
      sources: before.flatMap((b) => b.listing.sources),
      filesDigest: filesDigest(before.flatMap((b) => b.listing.files)),
    };
    const dir = partitionDir(store, p.account, p.region, p.day);
    const m = options.force ? undefined : await readManifest(path.join(dir, MANIFEST_FILE));
    const current =
      m !== undefined &&
      m.schema === STORE_SCHEMA &&
      m.lookbackDays === lookbackDays &&
      sameSet(m.eventSources, sources) &&
      sameFiles(m.files, listing.files) &&
      m.earlier.filesDigest === earlier.filesDigest &&
      sameSet(
        m.sources.map((s) => s.dir),
        listing.sources.map((s) => s.dir),
      ) &&
      sameSet(
        m.earlier.sources.map((s) => s.dir),
        earlier.sources.map((s) => s.dir),
      ) &&
      (await parquetIntact(dir, m));
    if (current) for (const u of m.unreadable ?? []) unreadable.push({ partition: p.key, path: u.path, reason: u.reason });
    if (!current) work.push({ p, listing, earlier, before, dir, action: 'compact' });
    else if (!sameSources(m.sources, listing.sources) || !sameSources(m.earlier.sources, earlier.sources)) work.push({ p, listing, earlier, before, dir, action: 'refresh' });
    else upToDate++;
  }

  const totalFiles = work.filter((w) => w.action === 'compact').reduce((a, w) => a + w.listing.files.length, 0);
  const compacted: string[] = [];
  const refreshed: string[] = [];
  const failed: { key: string; error: string }[] = [];
  let filesDone = 0;
  let sourceBytes = 0;
  let records = 0;
  let duplicates = 0;
  let parquetBytes = 0;
  let together = 0;
  let daysDone = upToDate;
  const progress = () =>
    options.onProgress?.({ days: daysDone, totalDays: partitions.size, files: filesDone, totalFiles, records, elapsedMs: performance.now() - started });
  progress();

  const instance = work.some((w) => w.action === 'compact') ? await starting : (await starting).closeSync();
  if (instance) await useUtc(instance);

  /** A day's calls, every copy (see EarlierCalls). */
  const earlierSource = async (b: Work['before'][number]): Promise<EarlierCalls> => {
    const bdir = partitionDir(store, b.p.account, b.p.region, b.p.day);
    const m = await readManifest(path.join(bdir, MANIFEST_FILE));
    const stored =
      m !== undefined && m.format === STORE_FORMAT && Array.isArray(m.leftOutCalls) && m.schema === STORE_SCHEMA && sameSet(m.eventSources, sources) && sameFiles(m.files, b.listing.files) && (await parquetIntact(bdir, m));
    if (!stored) return { parquet: [], calls: [], json: b.listing.paths.filter((f) => !b.listing.notFiles.has(f)) };
    return { parquet: m.parquet ? [path.join(bdir, m.parquet.file)] : [], calls: m.leftOutCalls!, json: [] };
  };

  /** A partition written: its manifest, the files it replaces removed, the run's totals. */
  const finish = async (w: Work, written: Written, own: (ManifestFile & { reason: string })[]) => {
    const manifest: Manifest = {
      ...manifestBase(w),
      compactedAt: new Date().toISOString(),
      records: written.records,
      duplicates: written.duplicates,
      parquet: written.parquet,
      leftOutCalls: written.leftOutCalls,
      ...(own.length ? { unreadable: own } : {}),
    };
    await writeAtomic(path.join(w.dir, MANIFEST_FILE), JSON.stringify(manifest, null, 1));
    await removeOtherParquetFiles(w.dir, written.parquet?.file);
    compacted.push(w.p.key);
    for (const u of own) unreadable.push({ partition: w.p.key, path: u.path, reason: u.reason });
    records += written.records;
    duplicates += written.duplicates;
    parquetBytes += written.parquet?.size ?? 0;
    sourceBytes += w.listing.files.reduce((a, f) => a + f.size, 0);
  };

  const manifestBase = (w: Work) => ({
    format: STORE_FORMAT,
    schema: STORE_SCHEMA,
    eventSources: sources,
    account: w.p.account,
    region: w.p.region,
    day: w.p.day,
    sources: w.listing.sources,
    files: w.listing.files,
    lookbackDays,
    earlier: w.earlier,
  });

  for (const w of work.filter((x) => x.action === 'refresh')) {
    const old = (await readManifest(path.join(w.dir, MANIFEST_FILE)))!;
    await writeAtomic(path.join(w.dir, MANIFEST_FILE), JSON.stringify({ ...old, ...manifestBase(w), compactedAt: old.compactedAt }, null, 1));
    refreshed.push(w.p.key);
    daysDone++;
    progress();
  }

  /** One partition alone, leaving out the files that cannot be read (each found by `blameFiles`). */
  const compactOne = async (w: Work, connection: DuckDBConnection) => {
    const { listing } = w;
    await fs.mkdir(w.dir, { recursive: true });
    // Files that cannot be read are left out (an empty one is known from its listing); the
    // partition is written from the others and its manifest names them.
    const leftOut = new Map<string, string>(listing.notFiles);
    listing.files.forEach((f, i) => f.size === 0 && !leftOut.has(listing.paths[i]!) && leftOut.set(listing.paths[i]!, 'empty file'));
    // The earlier days' sources do not change while this partition is retried.
    const each = await Promise.all(w.before.map(earlierSource));
    for (;;) {
      const earlier = { parquet: each.flatMap((e) => e.parquet), calls: each.flatMap((e) => e.calls), json: each.flatMap((e) => e.json).filter((f) => !leftOut.has(f)) };
      const readable = { paths: listing.paths.filter((f) => !leftOut.has(f)), earlier };
      try {
        const written = await writePartition(connection, w.dir, readable.paths, readable.earlier, sources);
        const own = listing.files.flatMap((f, i) => {
          const reason = leftOut.get(listing.paths[i]!);
          return reason ? [{ ...f, reason }] : [];
        });
        await finish(w, written, own);
        break;
      } catch (err) {
        const found = leftOut.size < MAX_UNREADABLE_PER_PARTITION ? await blameFiles(connection, err, [...readable.paths, ...readable.earlier.json]) : [];
        if (found.length === 0) {
          failed.push({ key: w.p.key, error: err instanceof Error ? err.message : String(err) });
          break;
        }
        for (const f of found) leftOut.set(f.file, f.reason);
      }
    }
    filesDone += listing.files.length;
    daysDone++;
    progress();
  };

  /**
   * Several partitions in one read of their files (see `writeTogether`), checked against the
   * calls of their earlier days outside the batch (EarlierCalls). False, with nothing written, when some
   * file cannot be read or is empty: those partitions are then compacted one at a time.
   */
  const compactTogether = async (batch: readonly Work[]): Promise<boolean> => {
    if (batch.some((w) => w.listing.notFiles.size > 0 || w.listing.files.some((f) => f.size === 0))) return false;
    const inBatch = new Set(batch.map((w) => w.p.key));
    const outside = new Map<string, Work['before'][number]>();
    for (const w of batch) for (const b of w.before) if (!inBatch.has(b.p.key)) outside.set(b.p.key, b);
    const earlier = await Promise.all([...outside.values()].map(async (b) => ({ account: b.p.account, region: b.p.region, day: b.p.day, calls: await earlierSource(b) })));
    let written: Map<string, Written>;
    try {
      for (const w of batch) await fs.mkdir(w.dir, { recursive: true });
      written = await writeTogether(connections, batch.map((w) => ({ key: w.p.key, account: w.p.account, region: w.p.region, day: w.p.day, dir: w.dir, folders: w.p.folders.map((f) => f.dir), files: w.listing.paths })), earlier, sources, lookbackDays);
    } catch {
      return false;
    }
    together += batch.length;
    await Promise.all(
      batch.map(async (w) => {
        await finish(w, written.get(w.p.key)!, []);
        filesDone += w.listing.files.length;
        daysDone++;
        progress();
      }),
    );
    return true;
  };

  const connections = instance ? await Promise.all(Array.from({ length: COPY_CONCURRENCY }, () => DuckDBConnection.create(instance))) : [];
  try {
    // In day order, so that the days before a partition are written before it is checked against them.
    const ordered = work.filter((w) => w.action === 'compact').sort((a, b) => (a.p.day < b.p.day ? -1 : a.p.day > b.p.day ? 1 : 0));
    // One at a time, a few at once (one alone leaves cores idle between its small files), each
    // waiting for the days before it; those were taken earlier from the list, so the wait ends.
    const oneAtATime = async (list: readonly Work[]) => {
      const finished = new Map<string, Promise<void>>();
      let next = 0;
      await Promise.all(
        connections.map(async (connection) => {
          while (next < list.length) {
            const w = list[next++]!;
            let resolveFinished = () => {};
            finished.set(w.p.key, new Promise<void>((resolve) => (resolveFinished = resolve)));
            try {
              await Promise.all(w.before.map((b) => finished.get(b.p.key)));
              await compactOne(w, connection);
            } finally {
              resolveFinished();
            }
          }
        }),
      );
    };
    // Batches of whole partitions, one read each: every core busy on one statement, the JSON
    // parsed once. A batch that cannot be read whole goes one partition at a time.
    const batchFiles = options.batchFiles ?? BATCH_MAX_FILES;
    let done = batchFiles === 0 ? ordered.length : 0;
    if (batchFiles === 0) await oneAtATime(ordered);
    const bytesOf = (w: Work) => w.listing.files.reduce((a, f) => a + f.size, 0);
    while (done < ordered.length) {
      const batch = [ordered[done]!];
      let files = batch[0]!.listing.files.length;
      let bytes = bytesOf(batch[0]!);
      for (let next = ordered[done + batch.length]; next; next = ordered[done + batch.length]) {
        if (files + next.listing.files.length > batchFiles || bytes + bytesOf(next) > BATCH_MAX_BYTES) break;
        files += next.listing.files.length;
        bytes += bytesOf(next);
        batch.push(next);
      }
      if (!(await compactTogether(batch))) await oneAtATime(batch);
      done += batch.length;
    }
  } finally {
    for (const c of connections) c.closeSync();
    instance?.closeSync();
  }
  compacted.sort();
  refreshed.sort();

  // Partitions whose JSON folders are all gone answer nothing over JSON: remove them. A trail with
  // no day folder at all is more likely a wrong path than an emptied trail: keep the store then.
  const removed: string[] = [];
  if (partitions.size > 0) {
    const current = new Set([...partitions.values()].map((p) => partitionDir(store, p.account, p.region, p.day)));
    for (const [key, { dir }] of await storedPartitions(store, current)) {
      if (partitions.has(key)) continue;
      await fs.rm(dir, { recursive: true, force: true });
      removed.push(key);
    }
  }

  const copies = await indexCopies(store, dbOptions);

  return {
    storeDir: store,
    ...copies,
    days: partitions.size,
    compacted,
    together,
    refreshed,
    upToDate,
    removed,
    failed,
    unreadable: unreadable.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    sourceFiles: filesDone,
    sourceBytes,
    records,
    duplicates,
    parquetBytes,
    ms: performance.now() - started,
  };
}

/**
 * Writes the store's copies list (parquet-store.ts COPIES_FILE) over every Parquet file its
 * manifests name, once all partitions are written; returns how many calls are held more than once.
 * A list already naming exactly those files is kept as it is (their contents never change). When
 * the files cannot be read for it, the list is removed (queries over the store then deduplicate)
 * and `problem` says why.
 */
async function indexCopies(store: string, dbOptions: Record<string, string>): Promise<{ copies: number } | { problem: string }> {
  const target = path.join(store, COPIES_FILE);
  const files: string[] = [];
  for (const { dir, manifest } of (await storedPartitions(store)).values()) {
    if (manifest.parquet && (await parquetIntact(dir, manifest))) files.push(path.join(dir, manifest.parquet.file));
  }
  const relative = (f: string) => path.relative(store, f).split(path.sep).join('/');
  const names = files.map(relative).sort();
  const kept = await readCopies(target);
  if (kept && kept.calls !== undefined && kept.files.size === names.length && names.every((n) => kept.files.has(n))) return { copies: kept.calls };
  const counts: Record<string, number> = {};
  let copies = 0;
  if (files.length) {
    const instance = await DuckDBInstance.create(':memory:', dbOptions);
    try {
      const connection = await DuckDBConnection.create(instance);
      // Copies of one call have the same account, region and eventId: DISTINCT_EVENTS' key.
      await connection.run(
        `CREATE TEMP TABLE trailql_copies AS SELECT filename, count(*) OVER (PARTITION BY "recipientAccountId", "awsRegion", "eventID") AS copies ` +
          `FROM read_parquet(?, filename = true, hive_partitioning = false)`,
        [listValue(files)],
      );
      const byFile = await connection.runAndReadAll(`SELECT filename, count(*) FILTER (WHERE copies > 1) FROM trailql_copies GROUP BY filename`);
      for (const [file, n] of byFile.getRowsJS()) counts[relative(String(file))] = Number(n);
      // A call held n times counts once.
      const total = await connection.runAndReadAll(`SELECT coalesce(sum(1 / copies), 0) FROM trailql_copies WHERE copies > 1`);
      copies = Math.round(Number(total.getRowsJS()[0]?.[0] ?? 0));
      connection.closeSync();
      // Every file holds a record: one the answer does not name was not matched, and is not vouched for.
      const unmatched = names.find((n) => counts[n] === undefined);
      if (unmatched) throw new Error(`${unmatched} not found in the answer`);
    } catch (err) {
      await fs.rm(target, { force: true });
      return { problem: err instanceof Error ? err.message : String(err) };
    } finally {
      instance.closeSync();
    }
  }
  const index: CopiesIndex = { format: 1, calls: copies, files: counts };
  await writeAtomic(target, JSON.stringify(index));
  return { copies };
}

/** After its manifest is written: the partition's Parquet files other than the one it names. */
async function removeOtherParquetFiles(dir: string, keep: string | undefined): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    if (name !== keep && PARQUET_FILE_NAME.test(name)) await fs.rm(path.join(dir, name), { force: true });
  }
}

/** A partition's Parquet file as written (null when no record matched), and its counts. */
interface Written {
  readonly records: number;
  readonly duplicates: number;
  readonly parquet: Manifest['parquet'];
  /** Calls of the records left out as copies (see Manifest.leftOutCalls). */
  readonly leftOutCalls: readonly string[];
}

/**
 * Where a day's calls come from, every copy: a day stored up to date gives them from its Parquet
 * file and its manifest's left-out ones, far cheaper than its JSON files; any other day from those.
 */
interface EarlierCalls {
  readonly parquet: readonly string[];
  readonly calls: readonly string[];
  readonly json: readonly string[];
}

/**
 * A record's call, as text: its account, region and eventID, what queries tell copies of one call
 * by (compiler.ts distinctEvents). The same eventID in another account or region is another call.
 */
const CALL_KEY = 'CAST(to_json(list_value("recipientAccountId", "awsRegion", "eventID")) AS VARCHAR)';

/**
 * One partition's records to Parquet: written under a temporary name, described (size, time),
 * then renamed; the manifest that names it is written after. No file when nothing matched.
 * Each call once: the first record of each eventId (by FIRST_DELIVERY, then place in the file: the
 * copy queries over JSON keep), unless that eventId is among the days before's (`earlier`, every copy there;
 * records without an eventId, or whose eventTime cannot be read, are all kept: untimed records are
 * asked for by day folder, not by time, so every folder keeps its own). Rows sorted by time; snappy, which decodes
 * faster than zstd for a little more disk.
 */
async function writePartition(
  connection: DuckDBConnection,
  dir: string,
  files: readonly string[],
  earlier: EarlierCalls,
  sources: readonly string[],
): Promise<Written> {
  if (files.length === 0) return { records: 0, duplicates: 0, parquet: null, leftOutCalls: [] };
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const tmp = path.join(dir, `${newParquetFileName()}.tmp-${suffix}`);
  const table = `trailql_partition_${suffix}`;
  const where = sources.length ? `WHERE "eventSource" IN (${sources.map(literal).join(', ')})` : '';
  const { sql: earlierCalls, values } = earlierCallsSql(earlier, sources);
  const notEarlier = earlierCalls ? ` AND ${CALL_KEY} NOT IN (SELECT trailql_call FROM (${earlierCalls}))` : '';
  try {
    const create = await connection.prepare(
      `CREATE TEMP TABLE ${table} AS SELECT *, ("eventID" IS NULL OR "eventTime" IS NULL OR (row_number() OVER (PARTITION BY ${CALL_KEY} ORDER BY ${FIRST_DELIVERY}, trailql_position) = 1${notEarlier})) AS trailql_keep ` +
        `FROM ${jsonRecords(pathList(files), { eventSources: sources, position: true })} ${where}`,
    );
    create.bind(values);
    await create.run();
    const [total, leftOut] = (await connection.runAndReadAll(`SELECT count(*), list(DISTINCT ${CALL_KEY}) FILTER (WHERE NOT trailql_keep) FROM ${table}`)).getRowsJS()[0] ?? [0, []];
    const reader = await connection.runAndReadAll(
      `COPY (SELECT * EXCLUDE (trailql_keep, trailql_position) FROM ${table} WHERE trailql_keep ORDER BY "eventTime", "eventID") TO ${literal(tmp)} (FORMAT parquet, COMPRESSION snappy)`,
    );
    return { ...(await placeParquet(tmp, dir, Number(reader.getRows()[0]?.[0] ?? 0), Number(total))), leftOutCalls: textList(leftOut) };
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${table}`);
  }
}

/** A partition to write together with others, and an earlier day outside them whose calls count. */
interface BatchPartition {
  readonly key: string;
  readonly account: string;
  readonly region: string;
  readonly day: string;
  readonly dir: string;
  /** The partition's day folders, and the record files they hold. */
  readonly folders: readonly string[];
  readonly files: readonly string[];
}
interface EarlierDay {
  readonly account: string;
  readonly region: string;
  readonly day: string;
  readonly calls: EarlierCalls;
}

/** The folder part of a file key (everything before its last `/`). */
const folderOf = (key: string) => `regexp_replace(${key}, '/[^/]*$', '')`;

/**
 * A statement giving an earlier day's calls (column trailql_call, CALL_KEY; only those with an
 * eventID), and the values its `?` bind (the left-out calls, read from a manifest, are bound, never
 * written into the statement); '' when there are none.
 */
function earlierCallsSql(e: EarlierCalls, sources: readonly string[]): { sql: string; values: DuckDBValue[] } {
  const parts = [
    ...(e.parquet.length ? [`SELECT ${CALL_KEY} AS trailql_call FROM read_parquet(${pathList(e.parquet)}) WHERE "eventID" IS NOT NULL`] : []),
    ...(e.calls.length ? ['SELECT unnest(CAST(? AS VARCHAR[])) AS trailql_call'] : []),
    ...(e.json.length
      ? [`SELECT ${CALL_KEY} AS trailql_call FROM ${jsonRecords(pathList(e.json), { columns: ['eventID', 'recipientAccountId', 'awsRegion'], eventSources: sources })} WHERE "eventID" IS NOT NULL`]
      : []),
  ];
  return { sql: parts.join(' UNION ALL '), values: e.calls.length ? [listValue([...e.calls])] : [] };
}

/** A list of file paths for a reader (a few days' files: the big lists are bound instead). */
const pathList = (paths: readonly string[]) => `[${paths.map(literal).join(', ')}]`;

/** A list of texts as DuckDB returns it (JavaScript values). */
const textList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** A partition's temporary Parquet file renamed to a new name when it holds records, removed otherwise. */
async function placeParquet(tmp: string, dir: string, records: number, total: number): Promise<Omit<Written, 'leftOutCalls'>> {
  if (records === 0) {
    await fs.rm(tmp, { force: true });
    return { records: 0, duplicates: total, parquet: null };
  }
  const name = newParquetFileName();
  const s = await fs.stat(tmp, { bigint: true });
  await fs.rename(tmp, path.join(dir, name));
  return { records, duplicates: total - records, parquet: { file: name, size: Number(s.size), mtimeNs: s.mtimeNs.toString() } };
}

/**
 * Several partitions' records to Parquet with one read of all their JSON files, each partition to
 * its own file as `writePartition` writes it, with the same calls left out: a record is kept when
 * it has no eventID or no readable eventTime, or when the nearest earlier copy of its call (CALL_KEY) in the same account and
 * region folders (by day folder, then FIRST_DELIVERY, then place in the file; over the batch's files and the
 * earlier days' calls) is not in the same day nor in the `lookbackDays` before. Throws, with no file
 * left behind, when any file cannot be read.
 */
async function writeTogether(
  connections: readonly DuckDBConnection[],
  batch: readonly BatchPartition[],
  earlier: readonly EarlierDay[],
  sources: readonly string[],
  lookbackDays: number,
): Promise<Map<string, Written>> {
  const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
  const files = `trailql_files_${suffix}`;
  const rows = `trailql_rows_${suffix}`;
  const group = (p: { account: string; region: string }) => `${p.account}/${p.region}`;
  const isoDay = (day: string) => day.replace(/\//g, '-');
  const folders = batch.flatMap((p, i) => p.folders.map((dir) => `(${literal(path.join(dir, 'f'))}, ${i}, ${literal(group(p))}, DATE ${literal(isoDay(p.day))})`));
  const earlierValues: DuckDBValue[] = [];
  const earlierRows = earlier.flatMap((e) => {
    const { sql, values } = earlierCallsSql(e.calls, sources);
    earlierValues.push(...values);
    return sql ? [`SELECT ${literal(group(e))} AS trailql_group, DATE ${literal(isoDay(e.day))} AS trailql_day, trailql_call FROM (${sql})`] : [];
  });
  const columns = SOURCE_COLUMN_NAMES.map((c) => `"${c}"`).join(', ');
  const tmps: string[] = [];
  const connection = connections[0]!;
  try {
    // Which partition each day folder belongs to, by the key the reader gives its files (taken
    // the same way, from a file of the folder).
    await connection.run(
      `CREATE TEMP TABLE ${files} AS SELECT ${folderOf(fileKey('f'))} AS trailql_folder, i AS trailql_part, g AS trailql_group, d AS trailql_day ` +
        `FROM (VALUES ${folders.join(', ')}) AS v(f, i, g, d)`,
    );
    // Two day folders with one key (a folder below the trail named AWSLogs: keys start at the
    // last one) cannot tell their records apart: such a batch goes one partition at a time.
    const clash = (await connection.runAndReadAll(`SELECT count(*) - count(DISTINCT trailql_folder) FROM ${files}`)).getRows()[0]?.[0];
    if (Number(clash) !== 0) throw new Error('two day folders of the batch have the same file key');
    // Left: a record whose folder were not found would have no partition and fail the batch below.
    const ownRows =
      `SELECT r.*, ${CALL_KEY} AS trailql_call, f.trailql_part, f.trailql_group, f.trailql_day, false AS trailql_earlier FROM ${jsonRecords('?', { eventSources: sources, position: true })} r ` +
      `LEFT JOIN ${files} f ON ${folderOf('r."sourceFile"')} = f.trailql_folder`;
    const all = earlierRows.length ? `${ownRows} UNION ALL BY NAME SELECT *, true AS trailql_earlier FROM (${earlierRows.join(' UNION ALL ')})` : ownRows;
    const keep = await connection.prepare(
      `CREATE TABLE ${rows} AS SELECT * EXCLUDE (trailql_earlier, trailql_previous), ` +
        `("eventID" IS NULL OR "eventTime" IS NULL OR trailql_previous IS NULL OR trailql_previous < trailql_day - ${lookbackDays}) AS trailql_keep ` +
        `FROM (SELECT *, lag(trailql_day) OVER (PARTITION BY trailql_group, trailql_call ORDER BY trailql_day, ${FIRST_DELIVERY}, trailql_position) AS trailql_previous FROM (${all})) ` +
        // In partition order: each partition's write then reads only the row groups holding it.
        `WHERE NOT trailql_earlier ORDER BY trailql_part, "eventTime", "eventID"`,
    );
    // The file list is bound, not written into the statement: thousands of literals take long to parse.
    keep.bind([listValue(batch.flatMap((p) => p.files)), ...earlierValues]);
    await keep.run();
    const counted = (
      await connection.runAndReadAll(
        `SELECT trailql_part, count(*), count(*) FILTER (WHERE trailql_keep), list(DISTINCT trailql_call) FILTER (WHERE NOT trailql_keep) FROM ${rows} GROUP BY trailql_part`,
      )
    ).getRowsJS();
    if (counted.some((r) => r[0] === null)) throw new Error('records of a file outside the partitions being written');
    const counts = new Map(counted.map((r) => [Number(r[0]), { total: Number(r[1]), kept: Number(r[2]), leftOutCalls: textList(r[3]) }]));
    const out = new Map<string, Written>();
    // Each partition's file on whichever connection is free: a small file's write is mostly setup.
    let next = 0;
    await Promise.all(
      connections.map(async (c) => {
        while (next < batch.length) {
          const i = next++;
          const p = batch[i]!;
          const n = counts.get(i) ?? { total: 0, kept: 0, leftOutCalls: [] };
          const tmp = path.join(p.dir, `${newParquetFileName()}.tmp-${suffix}`);
          if (n.kept > 0) {
            tmps.push(tmp);
            await c.run(`COPY (SELECT ${columns} FROM ${rows} WHERE trailql_part = ${i} AND trailql_keep ORDER BY "eventTime", "eventID") TO ${literal(tmp)} (FORMAT parquet, COMPRESSION snappy)`);
          }
          out.set(p.key, { ...(await placeParquet(tmp, p.dir, n.kept, n.total)), leftOutCalls: n.leftOutCalls });
        }
      }),
    );
    return out;
  } catch (err) {
    await Promise.all(tmps.map((t) => fs.rm(t, { force: true })));
    throw err;
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${rows}`);
    await connection.run(`DROP TABLE IF EXISTS ${files}`);
  }
}
