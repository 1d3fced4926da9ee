/**
 * Load for the throughput benchmarks: autocannon in a process of its own (so that it does not
 * share the bench's or a server's event loop), and the CPU time a server process used, from the
 * kernel, to turn a run into CPU per request.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';

export interface LoadRun {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
}

/** `connections` connections POSTing `body` to `url` for `duration` seconds; refuses any error, timeout or non-2xx. */
export function autocannonProcess(opts: { url: string; headers: Record<string, string>; body: string; connections: number; duration: number }): Promise<LoadRun> {
  const cli = require.resolve('autocannon/autocannon.js');
  const hs = Object.entries(opts.headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]);
  const args = [cli, '-j', '-n', '-c', String(opts.connections), '-d', String(opts.duration), '-t', '60', '-m', 'POST', ...hs, '-b', opts.body, opts.url];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited with ${code}`));
      const r = JSON.parse(out) as LoadRun & { errors: number; timeouts: number; non2xx: number };
      if (r.errors || r.non2xx || r.timeouts) return reject(new Error(`autocannon: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx`));
      resolve(r);
    });
  });
}

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU time a process has used so far (user + system), from `/proc/<pid>/stat`, in µs. */
export function cpuUs(pid: number | undefined): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is the 3rd, utime the 14th, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
}
