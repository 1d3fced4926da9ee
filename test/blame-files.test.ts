/**
 * Finding the file that failed a read when DuckDB's error does not name it: by halves (a damaged
 * file among many costs a few reads, not one per file), within the query's life (an abandoned or
 * timed-out query ends the search, and a read its end interrupted blames no file), and a statement
 * that gives up on a shared reading leaves no failure unhandled (which would end the process).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { EngineError } from '../src/errors';
import { whileWanted } from '../src/engines/duckdb/driver';
import { UnreadableFiles, blameFiles, probeRecordFile } from '../src/engines/duckdb/unreadable-files';
import { tempDir } from './support/trails';

let dir: string;
let instance: DuckDBInstance;
let connection: DuckDBConnection;
const files: string[] = [];
let broken: string;

const record = (i: number) => ({
  eventVersion: '1.08',
  eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  eventTime: '2026-03-14T12:00:00Z',
  eventSource: 'iotevents.amazonaws.com',
  eventName: 'ListDetectorModels',
  awsRegion: 'us-east-1',
  recipientAccountId: '111122223333',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/a', accountId: '111122223333' },
});

beforeAll(async () => {
  dir = tempDir('trailql-blame-');
  for (let i = 0; i < 200; i++) {
    const file = path.join(dir, `111122223333_CloudTrail_us-east-1_20260314T1200Z_${String(i).padStart(16, '0')}.json.gz`);
    fs.writeFileSync(file, gzipSync(JSON.stringify({ Records: [record(i)] })));
    files.push(file);
  }
  // Not a gzip stream past its magic bytes: DuckDB's error does not say which file it was.
  broken = files[137]!;
  fs.writeFileSync(broken, Buffer.from('\x1f\x8b garbage', 'latin1'));
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});

afterAll(() => {
  connection?.closeSync();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The connection, calling `afterRead` once each read made through it has ended (read or failed). */
function watched(afterRead: () => void): DuckDBConnection {
  return new Proxy(connection, {
    get(target, prop, receiver) {
      if (prop === 'run') {
        return async (...args: Parameters<DuckDBConnection['run']>) => {
          try {
            return await target.run(...args);
          } finally {
            afterRead();
          }
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The connection, counting the reads made through it. */
function counting(): { connection: DuckDBConnection; reads: () => number } {
  let reads = 0;
  return { connection: watched(() => (reads += 1)), reads: () => reads };
}

test('a damaged file among 200 is found by halves, in a few reads', async () => {
  const { connection: c, reads } = counting();
  const found = await blameFiles(c, new Error('Invalid Input Error: something about a gzip stream'), files);
  expect(found).toEqual([{ file: broken, reason: 'not a complete gzip stream' }]);
  // Two reads per halving at most (log2 200 < 8), not one read per file.
  expect(reads()).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(files.length)) + 2);
});

test('the search ends with its query: an abandoned query blames nothing and says why', async () => {
  let calls = 0;
  const abandoned = new EngineError('query abandoned while its unreadable files were looked for', 'duckdb');
  // Abandoned after the first read: every later step finds it so.
  const stillWanted = () => {
    if (++calls > 2) throw abandoned;
  };
  await expect(blameFiles(connection, new Error('unnamed'), files, undefined, stillWanted)).rejects.toBe(abandoned);
});

test('a statement that gives up on a shared reading at once leaves its later failure handled', async () => {
  const unhandled: unknown[] = [];
  const seen = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', seen);
  try {
    const ended = { abandoned: new Error('abandoned'), timeout: new Error('timed out') };
    const gone = new AbortController();
    gone.abort();
    let fail!: (err: Error) => void;
    const filling = new Promise<never>((_resolve, reject) => (fail = reject));
    await expect(whileWanted(filling, { signal: gone.signal }, ended)).rejects.toBe(ended.abandoned);
    // The reading it gave up on fails afterwards (its own request's end, an unreadable file).
    fail(new Error('query abandoned before it started'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', seen);
  }
});

test('a file with a record past the reader\'s size is named as such, not as malformed JSON', async () => {
  const big = path.join(dir, 'big.json.gz');
  fs.writeFileSync(big, gzipSync(JSON.stringify({ Records: [{ ...record(1), requestParameters: { blob: 'a'.repeat(80 * 1024 * 1024) } }] })));
  try {
    expect(await probeRecordFile(connection, big)).toBe('larger than the reader takes (64 MiB of JSON)');
  } finally {
    fs.rmSync(big);
  }
});

test('a file replaced while its half was read is not vouched for: its new version is read when next blamed', async () => {
  const known = new UnreadableFiles((f) => path.basename(f));
  const list = files.filter((f) => f !== broken).slice(0, 16);
  const victim = list[5]!;
  const original = fs.readFileSync(victim);
  // The read of the first half succeeds; the victim is replaced by a damaged file right after.
  let replaced = false;
  const c = watched(() => {
    if (replaced) return;
    replaced = true;
    fs.writeFileSync(victim, Buffer.from('\x1f\x8b damaged later, and larger', 'latin1'));
  });
  try {
    expect(await blameFiles(c, new Error('unnamed'), list, known)).toEqual([]);
    expect(known.knownReadable(list[0]!)).toBe(true);
    expect(known.knownReadable(victim)).toBe(false);
    expect(await blameFiles(connection, new Error('unnamed'), list, known)).toEqual([{ file: victim, reason: 'not a complete gzip stream' }]);
  } finally {
    fs.writeFileSync(victim, original);
  }
});
