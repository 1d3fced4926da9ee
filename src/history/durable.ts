/**
 * Replacing a file so that it survives a crash of the machine, not only of the process: the new
 * content is written under a temporary name of this process, flushed to disk, renamed over the
 * file, and the folder flushed, so the rename never reaches the disk before the data it names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function replaceDurably(file: string, data: string | Uint8Array): void {
  // Its own temporary name: a sync in another process may replace the same file at the same time.
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  syncFolder(path.dirname(file));
}

/** Flushes a folder's entries (a rename) to disk; a file system that cannot is left as it is. */
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a folder: the data itself is flushed already.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * A name beside `file` for keeping a copy that could not be read, for inspection: `marker` and the
 * time are put before `keepExtension` (when the name ends with it) so readers of that kind of
 * file still find it.
 */
export function asideName(file: string, marker: string, keepExtension = ''): string {
  const stamp = Date.now().toString(36);
  return keepExtension && file.endsWith(keepExtension)
    ? `${file.slice(0, -keepExtension.length)}${marker}${stamp}${keepExtension}`
    : `${file}.${marker}${stamp}`;
}
