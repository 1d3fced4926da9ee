/**
 * The browser code the service serves: the components bundle (web/src, lit and uPlot) with the
 * /ui page, and the offline explorer (web/explorer, GraphiQL and React) with the example
 * operations. Each file is named by a hash of its content, so it can be cached for good.
 *
 * Built with esbuild into memory on first use (a source checkout: `npm start`, tests), or read
 * from `dist/public/`, where `npm run build:web` writes them (the Docker image, which carries
 * neither web/ nor the build-time libraries).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';

export type BundleName = 'components' | 'explorer';

export interface Asset {
  /** URL path, e.g. /embed/trailql-3f2a….js or /ui. */
  readonly url: string;
  readonly type: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
  /** Content-hashed: cache for a year. Pages are not. */
  readonly immutable: boolean;
}

/**
 * Stands in a page for the nonce its styles may carry (`style-src 'nonce-…'`), a fresh one in each
 * response (routes.ts): GraphiQL's dialogs insert a `<style>` of their own as they open.
 */
export const STYLE_NONCE_PLACEHOLDER = '__trailql_style_nonce__';

export interface AssetSet {
  readonly files: ReadonlyMap<string, Asset>;
  /** Stable URL -> content-hashed URL (e.g. /embed/trailql.js). */
  readonly aliases: ReadonlyMap<string, string>;
}

const WEB_DIR = path.resolve(__dirname, '..', '..', 'web');
const OPERATIONS_DIR = path.resolve(__dirname, '..', '..', 'schema', 'operations');
/** Where `npm run build:web` writes next to the compiled service (dist/public). */
export const PREBUILT_DIR = path.resolve(__dirname, '..', 'public');
const MANIFEST = 'manifest.json';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

function asset(url: string, body: Buffer | string, immutable: boolean, type = TYPES[path.extname(url)] ?? TYPES['.html']!): Asset {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return { url, type, body: buf, gzip: gzipSync(buf, { level: 9 }), immutable };
}

/** `/embed/trailql.js` + content -> `/embed/trailql-<hash>.js`. */
function hashed(url: string, body: Buffer | string, type?: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  const ext = path.extname(url);
  return asset(`${url.slice(0, -ext.length)}-${hash}${ext}`, body, true, type);
}

/** Fills `{{name}}` placeholders of a page template with hashed URLs. */
function page(url: string, template: string, urls: Record<string, string>): Asset {
  const html = template.replace(/\{\{([\w.]+)\}\}/g, (_, name: string) => {
    const value = urls[name];
    if (value === undefined) throw new Error(`page ${url}: no asset named ${name}`);
    return value;
  });
  return asset(url, html, false, TYPES['.html']);
}

function collect(files: Asset[], aliases: [string, string][] = []): AssetSet {
  return { files: new Map(files.map((f) => [f.url, f])), aliases: new Map(aliases) };
}

async function bundle(entry: string, outName: string, loaders: Record<string, 'text' | 'css'>): Promise<{ js: string; css?: string }> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [path.join(WEB_DIR, entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    minify: true,
    legalComments: 'none',
    write: false,
    outdir: '/out',
    entryNames: outName,
    loader: loaders,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
    tsconfig: path.join(WEB_DIR, 'tsconfig.json'),
  });
  const out = (ext: string) => result.outputFiles.find((f) => f.path.endsWith(ext))?.text;
  return { js: out('.js')!, css: out('.css') };
}

const pageCss = () => fs.readFileSync(path.join(WEB_DIR, 'pages', 'page.css'), 'utf8');

async function buildComponents(): Promise<AssetSet> {
  const { js } = await bundle('src/index.ts', 'trailql', { '.css': 'text' });
  const script = hashed('/embed/trailql.js', js);
  const css = hashed('/ui/page.css', pageCss());
  const ui = page('/ui', fs.readFileSync(path.join(WEB_DIR, 'pages', 'ui.html'), 'utf8'), { 'trailql.js': script.url, 'page.css': css.url });
  return collect([script, css, ui], [['/embed/trailql.js', script.url]]);
}

/** The example operations, in file order, as GraphiQL tabs. */
export function exampleOperations(dir = OPERATIONS_DIR): { name: string; query: string }[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => ({ name: f.replace(/\.graphql$/, ''), query: fs.readFileSync(path.join(dir, f), 'utf8') }));
}

async function buildExplorer(): Promise<AssetSet> {
  const { js, css } = await bundle('explorer/main.ts', 'explorer', { '.css': 'css' });
  const script = hashed('/explorer/explorer.js', js);
  const style = hashed('/explorer/explorer.css', css ?? '');
  const frame = hashed('/explorer/page.css', pageCss());
  const operations = hashed('/explorer/operations.json', JSON.stringify(exampleOperations()));
  const html = page('/explorer', fs.readFileSync(path.join(WEB_DIR, 'pages', 'explorer.html'), 'utf8'), {
    'explorer.js': script.url,
    'explorer.css': style.url,
    'page.css': frame.url,
    'operations.json': operations.url,
  });
  return collect([script, style, frame, operations, html]);
}

const builders: Record<BundleName, () => Promise<AssetSet>> = { components: buildComponents, explorer: buildExplorer };

interface Manifest {
  files: { url: string; type: string; file: string; immutable: boolean }[];
  aliases: [string, string][];
}

/** Writes a bundle's files and manifest under `dir/<bundle>/` (the `build:web` step). */
export function writeAssets(set: AssetSet, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const manifest: Manifest = { files: [], aliases: [...set.aliases] };
  for (const a of set.files.values()) {
    const file = a.url === '/' ? 'index' : a.url.replace(/^\//, '').replace(/\//g, '__');
    fs.writeFileSync(path.join(dir, file), a.body);
    manifest.files.push({ url: a.url, type: a.type, file, immutable: a.immutable });
  }
  fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2));
}

/** Reads what {@link writeAssets} wrote. */
export function readAssets(dir: string): AssetSet {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
  return collect(
    manifest.files.map((f) => asset(f.url, fs.readFileSync(path.join(dir, f.file)), f.immutable, f.type)),
    manifest.aliases,
  );
}

/** Builds a bundle from web/ (for the build:web step and for source checkouts). */
export function buildBundle(name: BundleName): Promise<AssetSet> {
  return builders[name]();
}

const loaded = new Map<BundleName, Promise<AssetSet>>();

/**
 * A bundle's files, once per process: prebuilt ones when `dist/public/<name>` exists, else built
 * now from web/. A failed build is not remembered, so the next request tries again.
 */
export function loadBundle(name: BundleName, prebuiltDir = PREBUILT_DIR): Promise<AssetSet> {
  let pending = loaded.get(name);
  if (!pending) {
    const dir = path.join(prebuiltDir, name);
    pending = fs.existsSync(path.join(dir, MANIFEST)) ? Promise.resolve().then(() => readAssets(dir)) : buildBundle(name);
    pending.catch(() => loaded.delete(name));
    loaded.set(name, pending);
  }
  return pending;
}
