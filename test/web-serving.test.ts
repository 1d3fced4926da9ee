/**
 * How the service serves its browser code over HTTP: content-hashed bundles cached for good and
 * loadable from any origin, a short-lived alias, pages under a strict CSP, gzip, what EXPLORER
 * turns on and off, and the prebuilt files the Docker image reads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../src/config';
import { buildBundle, exampleOperations, readAssets, writeAssets } from '../src/web/assets';
import { PAGE_CSP, pageCspWithStyleNonce } from '../src/web/routes';
import { TEST_KEYS, TestServer, startServer } from './support/server';
import { sampleTrail, tempDir } from './support/trails';

let dir: string;
const servers: Record<string, TestServer> = {};
const PORTAL = 'http://127.0.0.1:9';

beforeAll(async () => {
  dir = await sampleTrail(1, { iotEventsPerDay: 5, otherEventsPerIotEvent: 0 });
  servers.graphiql = await startServer(dir, { EXPLORER: 'graphiql', CORS_ORIGINS: PORTAL });
  servers.off = await startServer(dir, { EXPLORER: 'off' });
  servers.sandbox = await startServer(dir, {});
});
afterAll(async () => {
  for (const s of Object.values(servers)) await s.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const origin = (s: TestServer) => new URL(s.url).origin;
const get = (s: TestServer, p: string, headers: Record<string, string> = {}) => fetch(`${origin(s)}${p}`, { redirect: 'manual', headers });

describe('components bundle', () => {
  test('/embed/trailql.js redirects, uncached, to the content-hashed bundle, which is cached for a year and loadable cross-origin', async () => {
    const alias = await get(servers.off!, '/embed/trailql.js');
    expect(alias.status).toBe(302);
    expect(alias.headers.get('cache-control')).toBe('no-cache');
    const target = alias.headers.get('location')!;
    expect(target).toMatch(/^\/embed\/trailql-[0-9a-f]{12}\.js$/);

    const res = await get(servers.off!, target, { 'accept-encoding': 'identity' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const js = await res.text();
    expect(js).toContain('trailql-activity');
    // Nothing in the bundle reaches beyond the service.
    expect(js).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z]/i);
  });

  test('the bundle is served gzipped to clients that accept it', async () => {
    const target = (await get(servers.off!, '/embed/trailql.js')).headers.get('location')!;
    const res = await fetch(`${origin(servers.off!)}${target}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('vary')).toMatch(/accept-encoding/i);
    expect(await res.text()).toContain('trailql-calls');
  });

  test('an unknown hash is not found', async () => {
    expect((await get(servers.off!, '/embed/trailql-000000000000.js')).status).toBe(404);
  });
});

describe('pages', () => {
  test('/ui is served with the strict CSP, no inline script, and only same-origin assets', async () => {
    const res = await get(servers.off!, '/ui');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(PAGE_CSP);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    for (const [, url] of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(url).toMatch(/^(\/|data:)/);
    for (const [, url] of html.matchAll(/(?:src|href)="(\/(?:embed|ui)\/[^"]+)"/g)) expect((await get(servers.off!, url!)).status).toBe(200);
    expect(PAGE_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  test('EXPLORER=graphiql: a browser opening /graphql is sent to /explorer, which lists the example operations', async () => {
    const res = await get(servers.graphiql!, '/graphql', { accept: 'text/html' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/explorer');
    const page = await get(servers.graphiql!, '/explorer');
    const html = await page.text();
    // Its styles may carry the nonce its page names, a fresh one in each response; nothing else changes.
    const nonce = html.match(/<meta name="trailql-style-nonce" content="([A-Za-z0-9+/]{24})">/)![1]!;
    expect(page.headers.get('content-security-policy')).toBe(pageCspWithStyleNonce(nonce));
    expect(pageCspWithStyleNonce(nonce)).toBe(PAGE_CSP.replace("style-src 'self'", `style-src 'self' 'nonce-${nonce}'`));
    const again = await get(servers.graphiql!, '/explorer', { 'accept-encoding': 'gzip' });
    const other = (await again.text()).match(/content="([A-Za-z0-9+/]{24})"/)![1]!;
    expect(other).not.toBe(nonce);
    expect(again.headers.get('content-security-policy')).toBe(pageCspWithStyleNonce(other));
    const ops = html.match(/data-operations="([^"]+)"/)![1]!;
    const list = (await (await get(servers.graphiql!, ops)).json()) as { name: string; query: string }[];
    expect(list.map((o) => o.name)).toEqual(exampleOperations().map((o) => o.name));
    expect(list.length).toBe(fs.readdirSync(path.resolve(__dirname, '..', 'schema', 'operations')).filter((f) => f.endsWith('.graphql')).length);
  });

  test('EXPLORER=graphiql keeps GraphQL GETs and the CORS preflight of /graphql working', async () => {
    const q = await get(servers.graphiql!, `/graphql?query=${encodeURIComponent('{ __typename }')}`, { 'apollo-require-preflight': '1' });
    expect(q.status).toBe(401);
    const preflight = await fetch(servers.graphiql!.url, {
      method: 'OPTIONS',
      headers: { origin: PORTAL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(PORTAL);
  });

  test('EXPLORER=off serves no explorer and no landing page; the default keeps Apollo Sandbox', async () => {
    expect((await get(servers.off!, '/explorer')).status).toBe(404);
    expect((await get(servers.off!, '/graphql', { accept: 'text/html' })).status).not.toBe(200);
    const sandbox = await get(servers.sandbox!, '/graphql', { accept: 'text/html' });
    const page = await sandbox.text();
    expect(page).toContain('embeddableSandbox');
    // Framed by this origin only, no telemetry, and the service's address given to no one it loads code from.
    expect(sandbox.headers.get('content-security-policy')).toBe("frame-ancestors 'self'");
    expect(sandbox.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page).toContain('"runTelemetry":false');
    expect((await get(servers.sandbox!, '/explorer')).status).toBe(200);
  });
});

describe('configuration', () => {
  const base = { TRAIL_DIR: '/tmp/x', API_KEYS: JSON.stringify(TEST_KEYS), LOG_LEVEL: 'silent' };
  test('EXPLORER defaults to sandbox, or off with SANDBOX=false; a contradiction is refused', () => {
    expect(loadConfig(base).explorer).toBe('sandbox');
    expect(loadConfig({ ...base, SANDBOX: 'false' }).explorer).toBe('off');
    expect(loadConfig({ ...base, SANDBOX: 'false', EXPLORER: 'graphiql' }).explorer).toBe('graphiql');
    expect(() => loadConfig({ ...base, SANDBOX: 'false', EXPLORER: 'sandbox' })).toThrow(/EXPLORER/);
    expect(() => loadConfig({ ...base, EXPLORER: 'apollo' })).toThrow(/EXPLORER/);
  });
});

test('prebuilt files (dist/public, what the Docker image serves) are preferred to building', async () => {
  const out = tempDir('trailql-public-');
  try {
    const built = await buildBundle('components');
    writeAssets(built, path.join(out, 'components'));
    const read = readAssets(path.join(out, 'components'));
    for (const [url, a] of built.files) expect(read.files.get(url)?.body.equals(a.body)).toBe(true);
    expect([...read.aliases]).toEqual([...built.aliases]);
    // Mark the written bundle: a fresh process (module) must serve the marked copy, not rebuild.
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'components', 'manifest.json'), 'utf8')) as { files: { url: string; file: string }[] };
    const script = manifest.files.find((f) => f.url.startsWith('/embed/'))!;
    fs.appendFileSync(path.join(out, 'components', script.file), '\n/* prebuilt */');
    await jest.isolateModulesAsync(async () => {
      const fresh = (await import('../src/web/assets')) as typeof import('../src/web/assets');
      const set = await fresh.loadBundle('components', out);
      expect(set.files.get(script.url)!.body.toString()).toMatch(/prebuilt \*\/$/);
    });
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
