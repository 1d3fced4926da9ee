/**
 * The servers as the benchmarks run them, the service and its ceiling (a bare Apollo Server):
 * bench/cache-server.ts in a process of its own, so that its memory is its own and the load, the
 * hand-written SQL and the bench's bookkeeping do not share its event loop.
 */
import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import { hashKey } from '../src/auth/authenticate';
import { processEnvironment } from '../src/config';

export interface BenchServer {
  readonly url: string;
  readonly pid: number;
  readonly child: ChildProcess;
  close(): Promise<void>;
}

/**
 * The trailql server over `trailDir`, answering `apiKey` (an admin key for every account), quiet,
 * on a free port of 127.0.0.1; `env` comes on top (BENCH_NOW, CACHE_ENABLED, ...).
 */
export function startBenchServer(trailDir: string, apiKey: string, env: Record<string, string>): Promise<BenchServer> {
  return forkServer('trailql', {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    TRAIL_DIR: trailDir,
    API_KEYS: JSON.stringify([{ id: 'bench', sha256: hashKey(apiKey), accounts: ['*'], regions: [], payloads: true, admin: true }]),
    MAX_QUERY_COMPLEXITY: '10000000',
    MAX_WINDOW_DAYS: '400',
    ...env,
  });
}

/**
 * The ceiling of a cache hit: a bare Apollo Server 5 (its standalone HTTP server) whose only
 * resolver returns the `data` held in `answerFile` (bench/cache-server.ts `bare`).
 */
export function startBareServer(answerFile: string): Promise<BenchServer> {
  return forkServer('bare', { BENCH_ANSWER: answerFile });
}

/** Where a bare server keeps a page of a walk of callers: its size and the cursor it comes after. */
export const callerPageKey = (first: number, after: string | null): string => `${first}\u0000${after ?? ''}`;

/**
 * Gives a bare server (`startBareServer`) pages of a walk of callers to answer, each under the
 * `first` and `after` it was asked with: its later requests then carry the same answers as trailql's.
 */
export function keepCallerPages(server: BenchServer, pages: readonly { first: number; after: string; data: unknown }[]): Promise<void> {
  return new Promise((resolve) => {
    const kept = (m: { callerPagesKept?: number }) => {
      if (m?.callerPagesKept === undefined) return;
      server.child.off('message', kept);
      resolve();
    };
    server.child.on('message', kept);
    server.child.send({ callerPages: Object.fromEntries(pages.map((p) => [callerPageKey(p.first, p.after), p.data])) });
  });
}

function forkServer(kind: 'trailql' | 'bare', env: Record<string, string>): Promise<BenchServer> {
  const child: ChildProcess = fork(path.resolve(__dirname, 'cache-server.ts'), [kind], {
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    env: { ...processEnvironment(), NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
    child.once('message', (m: { url?: string }) => {
      if (!m.url || !child.pid) return reject(new Error(`${kind} server: no url`));
      resolve({
        url: m.url,
        pid: child.pid,
        child,
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
