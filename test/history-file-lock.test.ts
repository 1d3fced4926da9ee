/**
 * The lock slot files are rewritten under (src/history/file-lock.ts): one holder at a time, a
 * lock left by a process that is gone or too old to be live taken over, a live one waited for.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withFileLock } from '../src/history/file-lock';
import { tempDir } from './support/trails';

const HOUR = 3_600_000;
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 5));
};

let dir: string;
let file: string;
beforeEach(() => {
  dir = tempDir();
  file = path.join(dir, 'slot.json.gz');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('one holder at a time, and the lock file is gone afterwards', async () => {
  let active = 0;
  let most = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      withFileLock(file, async () => {
        active += 1;
        most = Math.max(most, active);
        await turns(2);
        order.push(i);
        active -= 1;
      }),
    ),
  );
  expect(most).toBe(1);
  expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(fs.existsSync(`${file}.lock`)).toBe(false);
});

test('a lock left by a process on this host that is no longer running is taken over at once', async () => {
  const gone = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
  fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: gone, host: os.hostname(), token: 'left-behind' }));
  // The age limit is far away: only the owner's absence lets it through.
  await expect(withFileLock(file, () => 'ran', 24 * HOUR)).resolves.toBe('ran');
  expect(fs.existsSync(`${file}.lock`)).toBe(false);
});

test('a lock older than the age limit is taken over; a younger one of a live owner is waited for', async () => {
  const lock = `${file}.lock`;
  fs.writeFileSync(lock, JSON.stringify({ pid: 1, host: 'another-host', token: 'old' }));
  const past = new Date(Date.now() - 2 * HOUR);
  fs.utimesSync(lock, past, past);
  await expect(withFileLock(file, () => 'ran', HOUR)).resolves.toBe('ran');

  // Live: this very process holds it.
  fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), token: 'held' }));
  let ran = false;
  const waiting = withFileLock(file, () => (ran = true), HOUR);
  await turns(20);
  expect(ran).toBe(false);
  expect(JSON.parse(fs.readFileSync(lock, 'utf8')).token).toBe('held');
  fs.rmSync(lock);
  await waiting;
  expect(ran).toBe(true);
});

test("a live holder of this host keeps its lock however old its time: never two holders at once", async () => {
  const lock = `${file}.lock`;
  let inside = 0;
  let most = 0;
  let release!: () => void;
  const holding = withFileLock(file, async () => {
    most = Math.max(most, ++inside);
    // A slow disk or a suspended machine: the lock's time says a minute and more ago.
    const old = new Date(Date.now() - 61_000);
    fs.utimesSync(lock, old, old);
    await new Promise<void>((r) => (release = r));
    inside -= 1;
  });
  await turns(5);
  const waiting = withFileLock(file, () => {
    most = Math.max(most, ++inside);
    inside -= 1;
  });
  await new Promise((r) => setTimeout(r, 300));
  expect(most).toBe(1);
  release();
  await Promise.all([holding, waiting]);
  expect(most).toBe(1);
});

test('a lock of a live pid of this host left unrefreshed for ten times the age limit is taken over (the pid is another process now)', async () => {
  const lock = `${file}.lock`;
  fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), token: 'pid-reused' }));
  const past = new Date(Date.now() - 11 * HOUR);
  fs.utimesSync(lock, past, past);
  await expect(withFileLock(file, () => 'ran', HOUR)).resolves.toBe('ran');
});

test('a holder keeps its lock fresh while it works', async () => {
  // The clock is the test's (Date and timers are Jest's): the holder's beats, every 100 ms for an
  // age limit of 400, come exactly when the time moves on, however busy the machine.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'clearImmediate'] });
  try {
    const lock = `${file}.lock`;
    await withFileLock(
      file,
      async () => {
        const past = new Date(Date.now() - HOUR);
        fs.utimesSync(lock, past, past);
        const since = Date.now();
        jest.advanceTimersByTime(99);
        expect(fs.statSync(lock).mtimeMs).toBeCloseTo(past.getTime(), 0);
        jest.advanceTimersByTime(151);
        // Touched at 100 and 200 ms: the lock's time is the last beat's.
        expect(fs.statSync(lock).mtimeMs).toBeCloseTo(since + 200, 0);
      },
      400,
    );
  } finally {
    jest.useRealTimers();
  }
});

test('a holder whose lock was taken over as stale does not remove the new holder\'s lock', async () => {
  const lock = `${file}.lock`;
  await withFileLock(file, () => {
    // Meanwhile another process judged it stale and holds its own.
    fs.writeFileSync(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), token: 'theirs' }));
  });
  expect(JSON.parse(fs.readFileSync(lock, 'utf8')).token).toBe('theirs');
});
