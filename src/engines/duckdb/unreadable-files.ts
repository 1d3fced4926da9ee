/**
 * Record files that cannot be read: how one is recognised, and the set of files set aside.
 *
 * DuckDB fails a whole `read_json` over a file list when one file is damaged, so a clean read
 * pays nothing here: only when a read fails are its files looked at, the one DuckDB names first,
 * then the others by halves, the way queries read them. A file found unreadable is remembered by path, size,
 * modification and change time and left out of every later read until it changes (a redelivered or
 * repaired file, or one whose permissions were fixed, is read again); a file that vanished is left
 * out of the read that missed it.
 */
import { Stats, lstatSync, promises as fs, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DuckDBConnection, listValue } from '@duckdb/node-api';
import { LRUCache } from 'lru-cache';
import { TrailHealth, UnreadableFile } from '../../query/engine';
import { NOT_AN_OBJECT, NOT_A_RECORD, NO_RECORDS_ARRAY, jsonRecords } from './dialect';
import { MAX_DELIVERY_FILE_BYTES } from './resources';
import { statNow } from './trail-files';

/** A file set aside, with the version (size, modification and change time) found unreadable. */
export interface SetAsideFile extends UnreadableFile {
  /** Absolute path. */
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Status change time: moves with a chmod or chown too, which can make a file readable. */
  readonly ctimeMs: number;
  /** When it was found, ISO 8601. */
  readonly since: string;
}

const REASONS: readonly [RegExp, string][] = [
  [/a link to nothing/, 'a link to nothing'],
  [/No files found|ENOENT|no such file/i, 'vanished while being read'],
  [/EACCES|EPERM|Permission denied/i, 'permission denied'],
  [/EISDIR|ENOTDIR|Is a directory/i, 'not a file'],
  [/GZIP|gzip|zlib|inflate/, 'not a complete gzip stream'],
  [/unexpected end of data/i, 'truncated JSON'],
  [/no Records array/, NO_RECORDS_ARRAY],
  [/a Records entry is not an object/, NOT_A_RECORD],
  // The probe reads each record as an object with one text field (PROBE_SQL), so DuckDB expects
  // an object only of a Records entry, and a list only of Records itself.
  [/Expected OBJECT, but got/, NOT_A_RECORD],
  [/Expected ARRAY, but got/, NO_RECORDS_ARRAY],
  [/maximum_object_size/, 'larger than the reader takes (64 MiB of JSON)'],
  [/Malformed JSON|JSON/i, 'malformed JSON'],
];

/** A short, path-free reason for a read failure (what an operator needs to decide what to do). */
export function unreadableReason(err: unknown): string {
  const text = `${(err as { code?: unknown } | null)?.code ?? ''} ${err instanceof Error ? err.message : String(err)}`;
  return REASONS.find(([re]) => re.test(text))?.[1] ?? 'unreadable';
}

/**
 * Record files up to this size are read whole when listed (`smallFileProblem`). DuckDB reads a
 * gzip stream that ends before its first decoded byte as an empty file, without an error: a
 * delivery cut short there (an interrupted copy) would lose its records without a word. Only a
 * short file can end there: the gzip header and the first block's code tables come before any
 * byte of output, a few hundred bytes at most (CloudTrail's own files give output from their 84th
 * byte on); a longer file cut short gives part of its JSON, which DuckDB refuses as such.
 */
export const SMALL_RECORD_FILE_BYTES = 1024;

/**
 * Why a small record file (see SMALL_RECORD_FILE_BYTES) holds nothing to read: a gzip stream cut
 * short, or no text at all once decompressed (CloudTrail never delivers either). Undefined when it
 * holds something; DuckDB judges the rest as it reads.
 */
export function smallFileProblem(file: string): string | undefined {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (err) {
    return unreadableReason(err);
  }
  if (file.endsWith('.gz')) {
    try {
      text = gunzipSync(text);
    } catch {
      return 'not a complete gzip stream';
    }
  }
  return text.toString('utf8').trim() === '' ? 'empty file' : undefined;
}

/** The statement a file is read alone with: the same reader the queries use, every record unnested. */
const PROBE_SQL = `SELECT count(*) FROM ${jsonRecords('?', { columns: ['eventID'] })}`;

/**
 * Reads one record file alone, as queries read it. Undefined when it reads; otherwise why not.
 * An empty file is unreadable too: CloudTrail never delivers one, so it is a copy still in
 * progress or a failed one, and the records it should hold are missing.
 */
export async function probeRecordFile(connection: DuckDBConnection, file: string): Promise<string | undefined> {
  try {
    const s = await fs.stat(file).catch(async (err: unknown) => {
      if ((await fs.lstat(file).catch(() => undefined))?.isSymbolicLink()) throw new Error('a link to nothing');
      throw err;
    });
    if (!s.isFile()) return 'not a file';
    if (s.size === 0) return 'empty file';
    await (await fs.open(file, 'r')).close();
  } catch (err) {
    return unreadableReason(err);
  }
  try {
    await connection.run(PROBE_SQL, [listValue([file])]);
    return undefined;
  } catch (err) {
    const reason = unreadableReason(err);
    // DuckDB words a file that is a list (or a number, ...) as it words such a Records entry.
    return reason === NOT_A_RECORD && !(await isJsonObject(connection, file)) ? NOT_AN_OBJECT : reason;
  }
}

/** Whether a file's JSON text is one object (as a log's `{"Records": [...]}` is); false when it cannot tell. */
async function isJsonObject(connection: DuckDBConnection, file: string): Promise<boolean> {
  try {
    const reader = await connection.runAndReadAll(TOP_LEVEL_SQL, [listValue([file])]);
    return reader.getRowsJS().every(([type]) => type === 'OBJECT');
  } catch {
    return false;
  }
}

/** The JSON type of each value a file holds at its top level. */
const TOP_LEVEL_SQL = `SELECT json_type(json) FROM read_json_objects(?, format = 'unstructured', maximum_object_size = ${MAX_DELIVERY_FILE_BYTES})`;

/**
 * The Parquet files among `files` that cannot be read whole (each read alone, every column of
 * every row): DuckDB's errors for a damaged Parquet file seldom name it.
 */
export async function damagedParquetFiles(connection: DuckDBConnection, files: readonly string[]): Promise<{ file: string; reason: string }[]> {
  const found: { file: string; reason: string }[] = [];
  for (const file of files) {
    try {
      await connection.run(`SELECT * FROM read_parquet(?, hive_partitioning = false)`, [file]);
    } catch (err) {
      found.push({ file, reason: err instanceof Error ? err.message.slice(0, 200) : 'unreadable' });
    }
  }
  return found;
}

/** The absolute paths a DuckDB error message names (`in file "..."`, `pattern "..."`, `stream: ...`). */
export function filesNamedIn(message: string): string[] {
  const out: string[] = [];
  for (const m of message.matchAll(/(?:file|pattern) "([^"]+)"|GZIP stream: (\S+)/g)) out.push((m[1] ?? m[2])!);
  return out;
}

/**
 * The files among `files` that made a read fail with `err`: those the error names first, each read
 * alone; when none of them is to blame, the others by halves (a half that reads whole is cleared at
 * once, one that fails is split again), so one damaged file among thousands costs about two reads
 * of them, not thousands. With `known`, versions already found readable are skipped and those found
 * readable now are remembered. `stillWanted` is asked before each read and before a failure is
 * believed (it throws once the query is abandoned or out of time, whose interrupted reads fail
 * too), so the search ends with its query.
 */
export async function blameFiles(
  connection: DuckDBConnection,
  err: unknown,
  files: readonly string[],
  known?: UnreadableFiles,
  stillWanted: () => void = () => {},
): Promise<{ file: string; reason: string }[]> {
  const listed = new Set(files);
  const named = filesNamedIn(err instanceof Error ? err.message : String(err)).filter((f) => listed.has(f));
  const alone = async (file: string): Promise<{ file: string; reason: string }[]> => {
    stillWanted();
    const read = statNow(file);
    const reason = await probeRecordFile(connection, file);
    stillWanted();
    if (!reason) known?.markReadable(file, read);
    return reason ? [{ file, reason }] : [];
  };
  const search = async (list: readonly string[], failed = false): Promise<{ file: string; reason: string }[]> => {
    if (list.length <= 1) return list.length ? alone(list[0]!) : [];
    const halves = async () => {
      const half = Math.ceil(list.length / 2);
      return [...(await search(list.slice(0, half))), ...(await search(list.slice(half)))];
    };
    // The whole list just failed the query's own read: straight to its halves.
    if (failed) return halves();
    stillWanted();
    const read = list.map((file) => statNow(file));
    try {
      await connection.run(PROBE_SQL, [listValue([...list])]);
      list.forEach((file, i) => known?.markReadable(file, read[i]));
      return [];
    } catch {
      stillWanted();
      return halves();
    }
  };
  const unknown = (list: readonly string[]) => list.filter((f) => !known?.knownReadable(f));
  const blamed: { file: string; reason: string }[] = [];
  for (const file of unknown(named)) blamed.push(...(await alone(file)));
  return blamed.length ? blamed : search(unknown(files.filter((f) => !named.includes(f))), named.length === 0);
}

/**
 * The version of a file now: its target's for a link, the link's own for a link to nothing (which
 * stays set aside, and reported, until it changes or leads to a file); undefined when it is gone.
 */
function versionNow(file: string): Stats | undefined {
  try {
    return statNow(file) ?? lstatSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/** What a version of a file is known by: its size, modification and status change times. */
interface Version {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}
const versionKey = (file: string, v: Version) => `${file}\u0000${v.size}\u0000${v.mtimeMs}\u0000${v.ctimeMs}`;
const sameVersion = (a: Version, b: Version) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/** The files set aside by one engine, and the versions of files already found readable. */
export class UnreadableFiles {
  private readonly setAside = new Map<string, SetAsideFile>();
  /** Versions probed and found readable: not probed again after a later failure. */
  private readonly readable = new LRUCache<string, true>({ max: 100_000 });
  /** Versions of small record files found to hold something (smallFile): not read again. */
  private readonly smallHolding = new LRUCache<string, true>({ max: 100_000 });
  private found = 0;

  constructor(
    /** Turns an absolute path into the trail-relative one reported. */
    private readonly relative: (file: string) => string,
    /** Called once per file version set aside (log it once). */
    private readonly onSetAside: (file: SetAsideFile) => void = () => {},
  ) {}

  /** The entry when `file` is set aside in its current version; forgets it once it changed or vanished. */
  current(file: string): SetAsideFile | undefined {
    const known = this.setAside.get(file);
    if (!known) return undefined;
    const s = versionNow(file);
    if (s && sameVersion(s, known)) return known;
    this.setAside.delete(file);
    return undefined;
  }

  /**
   * For a small record file (SMALL_RECORD_FILE_BYTES): set aside, with why, when its current
   * version holds nothing to read (smallFileProblem); each version is read once.
   */
  smallFile(file: string): UnreadableFile | undefined {
    const known = this.current(file);
    if (known) return known;
    const s = statNow(file);
    if (!s || this.smallHolding.has(versionKey(file, s))) return undefined;
    const problem = smallFileProblem(file);
    if (problem) return this.add(file, problem);
    this.smallHolding.set(versionKey(file, s), true);
    return undefined;
  }

  /** Whether this version of `file` was already found readable. */
  knownReadable(file: string): boolean {
    const s = statNow(file);
    return s !== undefined && this.readable.has(versionKey(file, s));
  }

  /**
   * Remembers `file` as readable in the version `read` (its status taken before it was read): a
   * file that changed since was not the one read, and is not vouched for.
   */
  markReadable(file: string, read: Version | undefined): void {
    const s = statNow(file);
    if (s && read && sameVersion(s, read)) this.readable.set(versionKey(file, s), true);
  }

  /**
   * Records `file` as unreadable for `reason`: remembered (and reported once) when it still
   * exists, only returned when it vanished (nothing left to remember).
   */
  add(file: string, reason: string): UnreadableFile {
    const path = this.relative(file);
    const s = versionNow(file);
    if (!s) return { path, reason };
    const known = this.setAside.get(file);
    if (known && sameVersion(s, known)) return known;
    const entry: SetAsideFile = { path, reason, file, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, since: new Date().toISOString() };
    this.setAside.set(file, entry);
    this.found += 1;
    this.onSetAside(entry);
    return entry;
  }

  /** Files set aside now (those changed or gone since are forgotten first). */
  health(): Pick<TrailHealth, 'unreadable' | 'unreadableFound'> {
    const unreadable = [...this.setAside.keys()]
      .flatMap((f) => this.current(f) ?? [])
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
      .map(({ path, reason, size, since }) => ({ path, reason, size, since }));
    return { unreadable, unreadableFound: this.found };
  }
}
