/**
 * A throwaway redis-server on a free port for tests and benchmarks: no persistence, bound to
 * 127.0.0.1, killed, paused, resumed and restarted on the same port on demand. Without the
 * binary, falls back to REDIS_URL (or 127.0.0.1:6379), where stop and restart are unavailable.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** False when this is someone else's Redis (no binary here): it cannot be stopped or restarted. */
  readonly managed: boolean;
  /** SIGKILL: the connection drops at once, as in a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: there is no persistence). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: accepted connections, no answers (a hung or very slow Redis). */
  pause(): void;
  resume(): void;
  /** Sends a raw command and returns the raw reply (e.g. `SET k garbage`). */
  command(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export function hasRedisServer(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return probe.status === 0;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** RESP-encodes one command, sends it, and returns the first reply chunk as text. */
export function rawCommand(port: number, args: string[], host = '127.0.0.1', timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ port, host });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on ${host}:${port} did not answer ${args[0]}`));
    }, timeoutMs);
    let reply = '';
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(reply.trimEnd());
      }
    });
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

async function waitForPing(port: number, host: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if ((await rawCommand(port, ['PING'], host, 500)) === '+PONG') return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`redis on ${host}:${port} did not answer PING: ${String(last)}`);
}

export async function startRedis(): Promise<TestRedis> {
  if (!hasRedisServer()) return externalRedis();
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-redis-'));
  let child: ChildProcess | undefined;
  let paused = false;

  const launch = async () => {
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let errors = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      errors = (errors + chunk.toString('utf8')).slice(-2000);
    });
    child = proc;
    await Promise.race([
      waitForPing(port, '127.0.0.1'),
      new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${errors}`)))),
    ]);
  };
  const halt = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (paused) proc.kill('SIGCONT');
    paused = false;
    proc.kill(signal);
    await exited;
  };

  // Never outlive the process that started it.
  const reap = () => child?.kill('SIGKILL');
  process.once('exit', reap);
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    managed: true,
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGKILL');
      await launch();
    },
    pause() {
      child?.kill('SIGSTOP');
      paused = true;
    },
    resume() {
      child?.kill('SIGCONT');
      paused = false;
    },
    command: (...args) => rawCommand(port, args),
    stop: async () => {
      await halt('SIGTERM');
      process.removeListener('exit', reap);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function externalRedis(): TestRedis {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const parsed = new URL(url);
  const port = Number(parsed.port || 6379);
  process.stderr.write(`redis-server not found on PATH: using ${parsed.host} (fault tests that stop Redis are skipped)\n`);
  const unavailable = async () => {
    throw new Error('this Redis is not managed by the tests');
  };
  return {
    url,
    port,
    managed: false,
    kill: unavailable,
    restart: unavailable,
    pause: () => {
      throw new Error('this Redis is not managed by the tests');
    },
    resume: () => undefined,
    command: (...args) => rawCommand(port, args, parsed.hostname),
    stop: async () => undefined,
  };
}
