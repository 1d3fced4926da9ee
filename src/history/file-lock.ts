/**
 * A lock on a file shared by processes (`npm run sync` and the service's own sync may write the
 * same slot file at once): `<file>.lock`, created exclusively (`wx`, O_CREAT|O_EXCL), holding the
 * owner's host, pid and a random token. Whoever holds it may read, merge and replace the file;
 * the others wait. A holder keeps its lock's time fresh while it holds it. A lock whose owner is
 * gone (same host, pid no longer running) is stale; so is one of another host not kept fresh for
 * `staleMs` (a crashed holder there), and one of this host not kept fresh for PID_REUSED_AFTER
 * times that (its pid now another process's). A live holder of this host is never taken over for
 * its lock's age alone: a slow disk or a suspended machine must not let two writers merge one
 * file at once. A stale lock is taken over: it is renamed
 * aside first and removed only when it is still the very file judged stale (same inode), so two
 * waiters breaking the same stale lock cannot remove a fresh one. A holder releases only its own
 * lock (its token).
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

/** Far longer than any holder keeps it: a lock is held for one file's read, merge and rename. */
export const LOCK_STALE_MS = 60_000;
/** How many `staleMs` a lock of a live pid of this host goes unrefreshed before that pid is taken for another process's. */
const PID_REUSED_AFTER = 10;

interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
}

function readOwner(text: string): Owner | null {
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    return typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.token === 'string' ? (o as Owner) : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: running, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** Takes the lock over when it is stale; true when the caller should try again at once. */
function breakIfStale(lock: string, staleMs: number): boolean {
  let fd: number;
  try {
    fd = fs.openSync(lock, 'r');
  } catch (err) {
    if (missing(err)) return true;
    throw err;
  }
  let ino: number;
  let stale: boolean;
  try {
    const st = fs.fstatSync(fd);
    ino = st.ino;
    const owner = readOwner(fs.readFileSync(fd, 'utf8'));
    // No readable owner yet: it may be being written this instant; only its age tells.
    const age = Date.now() - st.mtimeMs;
    const here = owner !== null && owner.host === os.hostname();
    stale = here ? !alive(owner.pid) || age > PID_REUSED_AFTER * staleMs : age > staleMs;
  } finally {
    fs.closeSync(fd);
  }
  if (!stale) return false;
  const aside = `${lock}.${process.pid}.${randomUUID()}.stale`;
  try {
    fs.renameSync(lock, aside);
  } catch (err) {
    if (missing(err)) return true;
    throw err;
  }
  if (fs.statSync(aside).ino !== ino) {
    // Between the look and the rename another waiter broke it and took a fresh one: put that back.
    try {
      fs.linkSync(aside, lock);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  fs.rmSync(aside, { force: true });
  return true;
}

/** Runs `fn` holding the lock of `file`, waiting for it as long as another live holder has it. */
export async function withFileLock<T>(file: string, fn: () => T | Promise<T>, staleMs = LOCK_STALE_MS): Promise<T> {
  const lock = `${file}.lock`;
  const token = randomUUID();
  const body = JSON.stringify({ pid: process.pid, host: os.hostname(), token } satisfies Owner);
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(lock, body, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (breakIfStale(lock, staleMs)) continue;
    // Back off with jitter: 2, 4, ... up to 64 ms, so waiters do not retry in step.
    await sleep(2 ** Math.min(attempt + 1, 6) * (0.5 + Math.random()));
  }
  // Kept fresh while held: its age tells a waiter on another host whether the holder still runs.
  const beat = setInterval(() => {
    try {
      const now = new Date();
      fs.utimesSync(lock, now, now);
    } catch {
      // Gone or taken over: the release below finds out.
    }
  }, Math.max(10, Math.floor(staleMs / 4)));
  beat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(beat);
    let owner: Owner | null = null;
    try {
      owner = readOwner(fs.readFileSync(lock, 'utf8'));
    } catch (err) {
      if (!missing(err)) throw err;
    }
    // Taken over as stale meanwhile: the lock now is someone else's.
    if (owner?.token === token) fs.rmSync(lock, { force: true });
  }
}
