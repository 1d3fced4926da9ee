/**
 * The sample trail `npm start` makes: made once and used again while recent, never made over a
 * folder it did not make, and made again when a start was stopped while making it (Ctrl-C on the
 * first start must not leave a folder every later start refuses).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createLogger } from '../src/logger';
import { ensureSampleTrail } from '../src/trail/sample-trail';
import { listRecordFiles } from './support/records';
import { tempDir } from './support/trails';

const logger = createLogger('silent');
const MARKER = '.trailql-sample.json';
const dirs: string[] = [];
const fresh = () => {
  const dir = tempDir('trailql-sample-start-');
  dirs.push(dir);
  return path.join(dir, 'sample');
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('is made once, then used as it is while recent', async () => {
  const dir = fresh();
  await ensureSampleTrail(dir, 1, 7, logger);
  const files = listRecordFiles(dir);
  expect(files.length).toBeGreaterThan(0);
  expect(JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'))).toMatchObject({ days: 1, seed: 7 });
  const marker = fs.statSync(path.join(dir, MARKER)).mtimeMs;
  await ensureSampleTrail(dir, 1, 7, logger);
  expect(fs.statSync(path.join(dir, MARKER)).mtimeMs).toBe(marker);
  expect(listRecordFiles(dir)).toEqual(files);
});

test('a folder it did not make is refused and left as it was', async () => {
  const dir = fresh();
  fs.mkdirSync(path.join(dir, 'AWSLogs'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'AWSLogs', 'mine.txt'), 'keep me');
  await expect(ensureSampleTrail(dir, 1, 7, logger)).rejects.toThrow(/not made as a sample trail/);
  expect(fs.readFileSync(path.join(dir, 'AWSLogs', 'mine.txt'), 'utf8')).toBe('keep me');
});

test('a start stopped while making it leaves a folder the next start makes again', async () => {
  const dir = fresh();
  // `npm start` on a sample of many days, stopped (SIGKILL: nothing runs after it) once files appear.
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...process.env, SAMPLE_DIR: dir, SAMPLE_DAYS: '60', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + 60_000;
    while (!(fs.existsSync(path.join(dir, 'AWSLogs')) && listRecordFiles(dir).length > 0)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the start made no sample file in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  expect(JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'))).toMatchObject({ complete: false });
  const partial = listRecordFiles(dir);
  // The next start makes it whole (with other settings here, so it is quick).
  await ensureSampleTrail(dir, 1, 7, logger);
  expect(JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'))).toEqual({ end: expect.any(String), days: 1, seed: 7 });
  // Made anew: none of the stopped start's files is left, and it is used as it is from now on.
  const files = listRecordFiles(dir);
  expect(files.length).toBeGreaterThan(0);
  expect(files.filter((f) => partial.includes(f))).toEqual([]);
}, 120_000);

test('one left half made with the very settings asked for is made again, not used', async () => {
  const dir = fresh();
  const half = path.join(dir, 'AWSLogs', '111122223333', 'CloudTrail', 'us-east-1', 'half.json');
  fs.mkdirSync(path.dirname(half), { recursive: true });
  fs.writeFileSync(half, '{"Records":[]}');
  fs.writeFileSync(path.join(dir, MARKER), JSON.stringify({ end: new Date().toISOString(), days: 1, seed: 7, complete: false }));
  await ensureSampleTrail(dir, 1, 7, logger);
  expect(fs.existsSync(half)).toBe(false);
  expect(listRecordFiles(dir).length).toBeGreaterThan(0);
});

test('a marker left half written by a stopped start is no one else\'s file', async () => {
  const dir = fresh();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${MARKER}.12345.partial`), '{"end":');
  await ensureSampleTrail(dir, 1, 7, logger);
  expect(JSON.parse(fs.readFileSync(path.join(dir, MARKER), 'utf8'))).toEqual({ end: expect.any(String), days: 1, seed: 7 });
});
