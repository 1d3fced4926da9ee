/**
 * Only the configuration module reads the process environment: everything else receives the
 * typed configuration (CLIs and benchmarks included, through src/config's loaders).
 *
 * Exceptions: test files (they start servers and tools with chosen environments) and
 * src/threadpool.ts, which must set UV_THREADPOOL_SIZE before any module can start libuv's pool,
 * so before the configuration is loaded. A `process.env` inside a string (esbuild's `define` key
 * in src/web/assets.ts) is text, not a read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const SCANNED = ['src', 'bench', 'web/src', 'scripts'];
const ALLOWED = new Set(['src/config/vars.ts', 'src/threadpool.ts']);

/** `process.env` not directly preceded by a quote: a read, not a string naming it. */
const READ = /(?<!['"`])\bprocess\s*\.\s*env\b|(?<!['"`])\bprocess\s*\[\s*['"`]env['"`]\s*\]/;

function sourceFiles(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|tsx|js|mjs|cjs)$/.test(f) && !f.split(path.sep).includes('node_modules'))
    .map((f) => path.posix.join(dir, f.split(path.sep).join('/')));
}

export function environmentReaders(files: ReadonlyArray<{ file: string; text: string }>): string[] {
  return files.filter(({ file, text }) => !ALLOWED.has(file) && READ.test(text)).map(({ file }) => file);
}

test('no source file outside src/config reads process.env', () => {
  const files = SCANNED.flatMap(sourceFiles).map((file) => ({ file, text: fs.readFileSync(path.join(ROOT, file), 'utf8') }));
  expect(files.length).toBeGreaterThan(50);
  expect(environmentReaders(files)).toEqual([]);
});

test('the check sees reads and ignores strings that name process.env', () => {
  expect(environmentReaders([{ file: 'src/x.ts', text: 'const p = Number(process.env.PORT);' }])).toEqual(['src/x.ts']);
  expect(environmentReaders([{ file: 'src/x.ts', text: "const { PORT } = process['env'];" }])).toEqual(['src/x.ts']);
  expect(environmentReaders([{ file: 'bench/y.ts', text: "const e = process .env;" }])).toEqual(['bench/y.ts']);
  expect(environmentReaders([{ file: 'src/w.ts', text: "define: { 'process.env.NODE_ENV': '\"production\"' }" }])).toEqual([]);
  expect(environmentReaders([{ file: 'src/threadpool.ts', text: 'process.env.UV_THREADPOOL_SIZE = "16";' }])).toEqual([]);
});
