/**
 * What a page of a grouped list costs once the list is kept (the pages after the first of "calls
 * by caller, every page" in bench/RESULTS.md): each later page of `callers` (50 entries, the list
 * read whole by the first page and kept) against a request that does nothing, `{ __typename }`, on
 * the same server and on a bare Apollo Server 5 (its standalone HTTP server, the ceiling). Every
 * request goes from this process to a server process of its own over 127.0.0.1, one at a time, as
 * a client walking the pages does. Per round, the three run in turn (the order rotating), each as
 * many requests as there are later pages; figures are per request, medians of the rounds with
 * (min–max), and each server's peak memory (VmHWM).
 *
 *   npm run bench:paging            (writes bench/results/paging.md)
 *
 * Environment: BENCH_DAYS (sample trail length, default 7), BENCH_ROUNDS (default 9), BENCH_OUT
 * (report path; "-" to print only).
 */
import { ChildProcess, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBenchConfig, processEnvironment } from '../src/config';
import { compactTrail } from '../src/engines/duckdb/compact';
import { IOT_EVENTS_SOURCES } from '../src/domain/iotevents-actions';
import { generateSampleTrail } from '../src/trail/sample';
import { BENCH_LAYOUT } from './layout';
import { startBenchServer } from './servers';

const BENCH = loadBenchConfig();
const DAYS = BENCH.days ?? 7;
const ROUNDS = BENCH.rounds ?? 9;
const OUT = BENCH.out ?? path.resolve(__dirname, 'results/paging.md');
const END = new Date('2026-03-15T00:00:00Z');
const KEY = 'paging-bench-key-0123456789abcdef01234';
const PAGE = 50;

const CALLERS = `query($filter: ApiCallFilter, $first: Int, $after: String) {
  callers(filter: $filter, first: $first, after: $after) { pageInfo { hasNextPage endCursor } edges { node { key stats { calls errors } } } }
}`;
const NOTHING = '{ __typename }';

async function post(url: string, query: string, variables: object = {}, headers: Record<string, string> = {}): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown };
  if (res.status !== 200 || body.errors || !body.data) throw new Error(`GraphQL failed (${res.status}): ${JSON.stringify(body).slice(0, 300)}`);
  return body.data;
}

/** A bare Apollo Server 5 in a process of its own (bench/cache-server.ts `bare`). */
function startBare(answerFile: string): Promise<{ url: string; pid: number; close(): Promise<void> }> {
  const child: ChildProcess = fork(path.resolve(__dirname, 'cache-server.ts'), ['bare'], {
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    env: { ...processEnvironment(), NODE_ENV: 'production', BENCH_ANSWER: answerFile },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bare server exited with ${code}`)));
    child.once('message', (m: { url?: string }) => {
      if (!m.url || !child.pid) return reject(new Error('bare server: no url'));
      resolve({
        url: m.url,
        pid: child.pid,
        close: async () => {
          child.removeAllListeners('exit');
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await gone;
        },
      });
    });
  });
}

function peakMiB(pid: number): number {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
  return m ? Number(m[1]) / 1024 : NaN;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[]) => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;

async function main(): Promise<void> {
  const started = Date.now();
  const load0 = os.loadavg();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-paging-'));
  const answer = path.join(dir, 'bare-answer.json');
  fs.writeFileSync(answer, JSON.stringify({ apiCalls: null }));
  const trail = path.join(dir, 'trail');
  await generateSampleTrail({
    outDir: trail,
    days: DAYS,
    end: END,
    ...BENCH_LAYOUT,
    iotEventsPerDay: 300,
    otherEventsPerIotEvent: 2,
  });
  await compactTrail({ trailDir: trail, eventSources: IOT_EVENTS_SOURCES });
  const server = await startBenchServer(trail, KEY, { CACHE_ENABLED: 'true', BENCH_NOW: new Date(END.getTime() + 3_600_000).toISOString() });
  const bare = await startBare(answer);
  try {
    const filter = { from: new Date(END.getTime() - DAYS * 86_400_000).toISOString(), to: END.toISOString() };
    // The first page reads the list whole (fresh) and keeps it; the cursors of the later pages.
    const cursors: string[] = [];
    let after: string | null = null;
    let entries = 0;
    for (let page = 0; page < 1000; page++) {
      const data = await post(server.url, CALLERS, { filter, first: PAGE, after }, page === 0 ? { 'x-trailql-no-cache': '1' } : {});
      entries += data.callers.edges.length;
      if (!data.callers.pageInfo.hasNextPage) break;
      after = data.callers.pageInfo.endCursor as string;
      cursors.push(after);
    }
    if (cursors.length === 0) throw new Error('one page only: nothing to measure');
    const ways: Record<string, () => Promise<unknown>> = {
      'callers, a later page (list kept)': async () => {
        for (const c of cursors) await post(server.url, CALLERS, { filter, first: PAGE, after: c });
      },
      '`{ __typename }`, the same server': async () => {
        for (let i = 0; i < cursors.length; i++) await post(server.url, NOTHING);
      },
      '`{ __typename }`, bare Apollo Server 5 (standalone)': async () => {
        for (let i = 0; i < cursors.length; i++) await post(bare.url, NOTHING);
      },
    };
    const names = Object.keys(ways);
    const perRequest: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (const n of names) await ways[n]();
    for (let round = 0; round < ROUNDS; round++) {
      const order = names.map((_, i) => names[(i + round) % names.length]);
      for (const n of order) {
        const t = performance.now();
        await ways[n]();
        perRequest[n].push((performance.now() - t) / cursors.length);
      }
    }
    const page = perRequest[names[0]];
    const nothing = perRequest[names[1]];
    const lines = [
      '# A kept page against a request that does nothing',
      '',
      `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench:paging\` (BENCH_DAYS=${DAYS}, BENCH_ROUNDS=${ROUNDS}); ${((Date.now() - started) / 1000).toFixed(0)} s in all.`,
      '',
      `- CPU: ${os.cpus()[0]?.model ?? 'unknown'}, \`nproc\` = ${os.cpus().length}; Node ${process.version}`,
      `- Load average (1, 5, 15 min) at the start: ${load0.map((x) => x.toFixed(2)).join(', ')}; at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(', ')}`,
      `- Trail: generated sample, ${DAYS} days, 3 regions, 2 accounts, 300 IoT Events calls per account, region and day, compacted to the Parquet store.`,
      `- Question: \`callers(first: ${PAGE})\` over the ${DAYS}-day window with \`stats { calls errors }\`: ${entries} callers, ${cursors.length + 1} pages; the first (fresh) read the list whole and kept it, the ${cursors.length} later pages are timed.`,
      `- ${ROUNDS} rounds; per request, milliseconds, median of the rounds (min–max). Client: Node's fetch in this process, one request at a time.`,
      '',
      '| request | ms per request | server peak memory (VmHWM) |',
      '| --- | ---: | ---: |',
      `| ${names[0]} | ${fmt(page)} | ${peakMiB(server.pid).toFixed(0)} MiB |`,
      `| ${names[1]} | ${fmt(nothing)} | (same process) |`,
      `| ${names[2]} | ${fmt(perRequest[names[2]])} | ${peakMiB(bare.pid).toFixed(0)} MiB |`,
      '',
      `A later page costs ${(median(page) - median(nothing)).toFixed(2)} ms more than a request that does nothing on the same server (medians). ` +
        `A walk of every page pays the request itself once per page, whatever the service does: with pages of ${PAGE}, ${cursors.length + 1} requests where the SQL is one statement.`,
      '',
    ];
    const text = lines.join('\n');
    process.stdout.write(text);
    if (OUT !== '-') fs.writeFileSync(OUT, text);
  } finally {
    await server.close();
    await bare.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
