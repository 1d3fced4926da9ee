/**
 * The real service as a child process (src/main.ts through ts-node, as `npm start` runs it), over
 * a trail folder on a free port, with its JSON log lines collected.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { TEST_KEYS } from './server';

const ROOT = path.resolve(__dirname, '../..');

export interface ChildServer {
  readonly child: ChildProcess;
  readonly port: number;
  readonly origin: string;
  /** JSON log lines written so far. */
  lines(): Record<string, unknown>[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the first log line matching `predicate`, or rejects when the process exits first. */
  waitForLine(predicate: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs a command without the capabilities that let root read any file (util-linux `setpriv`):
 * file modes then bind it as they bind any other user, while it still reaches every folder it
 * owns (a checkout under a 0700 temporary folder, say), which another user would not.
 */
const WITHOUT_FILE_OVERRIDE = ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--inh-caps=-dac_override,-dac_read_search', '--'];

/** `modesBind`: when run as root, file modes bind the service too (see WITHOUT_FILE_OVERRIDE). */
export async function spawnServer(trailDir: string, env: Record<string, string> = {}, modesBind = false): Promise<ChildServer> {
  const node = [process.execPath, '-r', 'ts-node/register/transpile-only', 'src/main.ts'];
  const [command, ...args] = modesBind && process.getuid?.() === 0 ? [...WITHOUT_FILE_OVERRIDE, ...node] : node;
  const child = spawn(command!, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      TRAIL_DIR: trailDir,
      DUCKDB_THREADS: '2',
      LOG_LEVEL: 'info',
      API_KEYS: JSON.stringify(TEST_KEYS),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  const watchers: { predicate: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let buffered = '';
  let errText = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        line = { unparsed: text };
      }
      lines.push(line);
      for (const w of watchers.filter((x) => x.predicate(line))) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (errText += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const waitForLine = (predicate: (l: Record<string, unknown>) => boolean) => {
    const found = lines.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      watchers.push({ predicate, resolve });
      exited.then(({ code, signal }) => reject(new Error(`server exited (${code ?? signal}) first; stderr: ${errText}`)));
    });
  };

  const listening = await waitForLine((l) => l.msg === 'trailql is listening');
  const port = Number(/:(\d+)\//.exec(String(listening.url))?.[1]);
  return { child, port, origin: `http://127.0.0.1:${port}`, lines: () => lines, stderr: () => errText, waitForLine, exited };
}
