/**
 * The browser parts in Debian's chromium, against the running service on the sample trail: the
 * /ui console under its Content Security Policy (chart numbers, paging, row details, keyboard,
 * caller drill-down, coded errors), a component embedded in a page of another origin with a token
 * and CORS, and the offline explorer. Pages reach nothing beyond 127.0.0.1. Screenshots go to a
 * temporary folder, or to docs/img/ with UPDATE_SCREENSHOTS=1.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Page } from 'puppeteer-core';
import { PAGE_CSP, pageCspWithStyleNonce } from '../src/web/routes';
import { exampleOperations } from '../src/web/assets';
import { PageRecord, TestBrowser, launchBrowser } from './support/browser';
import { listRecordFiles, readRecords } from './support/records';
import { useSampleServer } from './support/sample-server';
import { TEST_KEY } from './support/server';
import { SAMPLE_END } from './support/trails';

const KEEP_SHOTS = process.env.UPDATE_SCREENSHOTS === '1';
const SHOTS = KEEP_SHOTS ? path.resolve(__dirname, '..', 'docs', 'img') : fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-shots-'));
fs.mkdirSync(SHOTS, { recursive: true });

/** The other origin: a portal page on its own port that embeds a component. */
let portal: http.Server | undefined;
let portalOrigin = '';
const env: Record<string, string> = { EXPLORER: 'graphiql' };
beforeAll(async () => {
  portal = http.createServer((req, res) => {
    const body = portalFiles()[req.url ?? ''];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': body.type }).end(body.text);
  });
  await new Promise<void>((resolve) => portal!.listen(0, '127.0.0.1', resolve));
  portalOrigin = `http://127.0.0.1:${(portal.address() as { port: number }).port}`;
  env.CORS_ORIGINS = portalOrigin;
});

const ctx = useSampleServer(1, { iotEventsPerDay: 100, otherEventsPerIotEvent: 1 }, { env });
const base = () => new URL(ctx.server.url).origin;

function portalFiles(): Record<string, { type: string; text: string }> {
  return {
    '/': {
      type: 'text/html',
      text: `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Portal</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/portal.css">
<script type="module" src="${base()}/embed/trailql.js"></script>
<script type="module" src="/portal.js"></script></head>
<body><h1>Team portal</h1>
<trailql-activity endpoint="${base()}/graphql" interval="HOUR" group-by="CATEGORY"
  filter='{"from":"${new Date(SAMPLE_END.getTime() - 24 * 3_600_000).toISOString()}","to":"${SAMPLE_END.toISOString()}"}'></trailql-activity>
</body></html>`,
    },
    '/portal.js': {
      type: 'text/javascript',
      // The portal hands over its own session's token when asked; the element keeps nothing.
      text: `customElements.whenDefined('trailql-activity').then(() => {
  document.querySelector('trailql-activity').tokenProvider = async () => ${JSON.stringify(TEST_KEY)};
});`,
    },
    '/calls': {
      type: 'text/html',
      text: `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Portal calls</title><link rel="icon" href="data:,">
<script type="module" src="${base()}/embed/trailql.js"></script>
<script type="module" src="/calls.js"></script></head>
<body><h1>Team portal</h1>
<trailql-calls endpoint="${base()}/graphql"
  filter='{"from":"${new Date(SAMPLE_END.getTime() - 2 * 3_600_000).toISOString()}","to":"${SAMPLE_END.toISOString()}"}'></trailql-calls>
</body></html>`,
    },
    '/calls.js': {
      type: 'text/javascript',
      // A session token fetched when asked, as a portal's would be: it arrives a moment later.
      text: `customElements.whenDefined('trailql-calls').then(() => {
  // (window.trailqlNoToken: a session that has none to give, as the console before one is typed.)
  document.querySelector('trailql-calls').tokenProvider = () => new Promise((ok) => setTimeout(() => ok(window.trailqlNoToken ? undefined : ${JSON.stringify(TEST_KEY)}), 200));
});`,
    },
    '/portal.css': {
      type: 'text/css',
      text: `body { font-family: sans-serif; margin: 16px; background: #0b0f17; color: #e8ecf4; }
trailql-activity { --trailql-bg: #121826; --trailql-fg: #e8ecf4; --trailql-border: #2a3347; --trailql-muted: #9aa4b8;
  --trailql-series-1: #7aa2ff; --trailql-series-2: #ffb86b; --trailql-series-3: #8ce99a; --trailql-chart-height: 220px; max-width: 900px; }`,
    },
  };
}

let tb: TestBrowser | undefined;
beforeAll(async () => {
  tb = await launchBrowser();
  // Build both bundles before the first page asks (esbuild, once per process).
  await Promise.all([fetch(`${base()}/ui`), fetch(`${base()}/explorer`)]);
});
afterAll(async () => {
  try {
    await tb?.close();
  } finally {
    portal?.closeAllConnections();
    await new Promise((resolve) => (portal ? portal.close(resolve) : resolve(undefined)));
    if (!KEEP_SHOTS) fs.rmSync(SHOTS, { recursive: true, force: true });
  }
});

/** Polls `probe` until it returns a value other than undefined (bounded: about 40 s, within the test timeout). */
async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const IN_CONSOLE = 'trailql-console >>> ';

/**
 * Clicks `selector` once the page has stopped moving: no element still loading and the target's
 * box the same on two looks. A panel that finishes drawing above a row (the chart, its legend, a
 * warning) moves the row; a click aimed before that lands on whatever moved under the mouse.
 */
async function clickSettled(page: Page, selector: string): Promise<void> {
  let last = '';
  await until(async () => {
    if ((await page.$$(`${IN_CONSOLE}[part=status][aria-live]`)).length) return undefined;
    const box = JSON.stringify((await (await page.$(selector))?.boundingBox()) ?? null);
    const still = box === last && box !== 'null';
    last = box;
    return still ? true : undefined;
  }, `${selector} to stop moving`);
  await page.click(selector);
}
const text = (page: Page, selector: string) => page.$eval(selector, (el) => (el.textContent ?? '').trim());
/** The selector of the details row a call's toggle controls. */
const detailOf = async (page: Page, eventId: string) =>
  `${IN_CONSOLE}trailql-calls >>> #${await page.$eval(`${IN_CONSOLE}trailql-calls >>> tr.call[data-event-id="${eventId}"] button.toggle`, (b) => b.getAttribute('aria-controls'))}`;
const rowIds = (page: Page) => page.$$eval(`${IN_CONSOLE}trailql-calls >>> tr.call`, (rows) => rows.map((r) => r.getAttribute('data-event-id')!));

describe('/ui console', () => {
  let page: Page;
  let record: PageRecord;
  let filter: Record<string, unknown>;

  beforeAll(async () => {
    ({ page, record } = await tb!.page());
    await page.setViewport({ width: 1400, height: 1000 });
  });

  test('loads under a strict CSP, shows the coded error without a token, then the data with one', async () => {
    const res = await page.goto(`${base()}/ui?end=${SAMPLE_END.toISOString()}&window=24h`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toBe(PAGE_CSP);
    expect(await until(() => text(page, `${IN_CONSOLE}trailql-calls >>> .error code`), 'the error state')).toBe('UNAUTHENTICATED');
    expect(await text(page, `${IN_CONSOLE}trailql-calls >>> .request-id`)).toMatch(/\S{8,}/);

    await page.type(`${IN_CONSOLE}input[name=token]`, TEST_KEY);
    await page.click(`${IN_CONSOLE}button[type=submit]`);
    await until(async () => ((await rowIds(page)).length ? true : undefined), 'the first page of calls');
    filter = await page.$eval('trailql-console', (el) => (el as unknown as { filter: Record<string, unknown> }).filter);
    expect(filter).toEqual({ from: new Date(SAMPLE_END.getTime() - 24 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() });
  });

  test('the chart draws the buckets the activity query returns', async () => {
    const drawn = await until(
      () => page.$eval(`${IN_CONSOLE}trailql-activity`, (el) => (el as unknown as { chartData?: number[][] }).chartData),
      'the chart',
    );
    const { data } = await ctx.server.gql(`query($f: ApiCallFilter) { activity(filter: $f, interval: HOUR) { buckets { start key calls errors } } }`, { f: filter });
    const buckets: { start: string; calls: number; errors: number }[] = data.activity.buckets;
    expect(buckets.length).toBeGreaterThan(10);
    const [x, calls, errors] = drawn as [number[], number[], number[]];
    const byStart = new Map(buckets.map((b) => [Date.parse(b.start) / 1000, b]));
    for (const t of byStart.keys()) expect(x).toContain(t);
    x.forEach((t, i) => {
      expect(calls[i]).toBe(byStart.get(t)?.calls ?? 0);
      expect(errors[i]).toBe(byStart.get(t)?.errors ?? 0);
    });
    // uPlot really painted: the plot canvas has coloured pixels.
    const painted = await page.$eval(`${IN_CONSOLE}trailql-activity >>> canvas`, (c) => {
      const canvas = c as unknown as { width: number; height: number; getContext(k: '2d'): { getImageData(...a: number[]): { data: Uint8ClampedArray } } };
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i]! > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(500);
  });

  test('the table pages forward without repeats, in the order of the connection', async () => {
    const { data } = await ctx.server.gql(`query($f: ApiCallFilter) { apiCalls(filter: $f, first: 100) { edges { node { eventId } } } }`, { f: filter });
    const all: string[] = data.apiCalls.edges.map((e: { node: { eventId: string } }) => e.node.eventId);
    expect(all.length).toBeGreaterThan(50);
    const seen: string[] = [...(await rowIds(page))];
    for (let p = 2; p <= 3; p++) {
      await page.click(`${IN_CONSOLE}trailql-calls >>> button.next`);
      await until(async () => ((await text(page, `${IN_CONSOLE}trailql-calls >>> .page`)) === `Page ${p}` && (await rowIds(page)).length ? true : undefined), `page ${p}`);
      seen.push(...(await rowIds(page)));
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(all.slice(0, seen.length));
    expect(seen.length).toBe(75);
  });

  test('a row expands to the whole call, by mouse and by keyboard', async () => {
    const [first, second] = await rowIds(page);
    const { data } = await ctx.server.gql(`query($id: ID!, $f: DateTime, $t: DateTime) { apiCall(eventId: $id, from: $f, to: $t) { action caller { arn principal } sourceIpAddress } }`, {
      id: first,
      f: filter.from,
      t: filter.to,
    });
    await clickSettled(page, `${IN_CONSOLE}trailql-calls >>> tr.call button.toggle`);
    const detail = await until(() => text(page, `${IN_CONSOLE}trailql-calls >>> tr.detail`), 'the row details');
    expect(detail).toContain(first);
    expect(detail).toContain(data.apiCall.caller.arn ?? data.apiCall.caller.principal);
    if (data.apiCall.sourceIpAddress) expect(detail).toContain(data.apiCall.sourceIpAddress);

    await page.focus(`${IN_CONSOLE}trailql-calls >>> tr.call button.toggle`);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const expanded = await until(
      () => page.$eval(`${IN_CONSOLE}trailql-calls >>> tr.call[data-event-id="${second}"] button.toggle`, (b) => (b.getAttribute('aria-expanded') === 'true' ? true : undefined)),
      'the second row opened from the keyboard',
    );
    expect(expanded).toBe(true);
    expect(await text(page, await detailOf(page, second!))).toContain(second);
  });

  test('clicking a caller shows its summary', async () => {
    const [first] = await rowIds(page);
    const { data } = await ctx.server.gql(
      `query($id: ID!, $f: DateTime, $t: DateTime) { apiCall(eventId: $id, from: $f, to: $t) { caller { key principal } } }`,
      { id: first, f: filter.from, t: filter.to },
    );
    const key: string = data.apiCall.caller.key;
    const summary = await ctx.server.gql(`query($k: String!, $f: ApiCallFilter) { caller(arn: $k, filter: $f) { stats { calls errors } } }`, { k: key, f: filter });
    await clickSettled(page, `${IN_CONSOLE}trailql-calls >>> tr.call[data-event-id="${first}"] button.caller`);
    expect(await until(() => text(page, `${IN_CONSOLE}trailql-caller >>> .key`), 'the caller summary')).toBe(key);
    expect(Number(await text(page, `${IN_CONSOLE}trailql-caller >>> b.calls`))).toBe(summary.data.caller.stats.calls);
    expect(Number(await text(page, `${IN_CONSOLE}trailql-caller >>> b.errors`))).toBe(summary.data.caller.stats.errors);
    await page.screenshot({ path: path.join(SHOTS, 'console.png') });
  });

  test('a bad filter shows the GraphQL error code and the request id', async () => {
    const address = await page.$(`${IN_CONSOLE}input[name=address]`);
    await address!.type('10.0.0.0/99');
    await page.click(`${IN_CONSOLE}button[type=submit]`);
    expect(await until(() => text(page, `${IN_CONSOLE}trailql-calls >>> .error code`), 'the error')).toBe('BAD_USER_INPUT');
    expect(await until(() => text(page, `${IN_CONSOLE}trailql-activity >>> .error code`), 'the chart error')).toBe('BAD_USER_INPUT');
    expect(await text(page, `${IN_CONSOLE}trailql-calls >>> .request-id`)).toMatch(/\S{8,}/);
    await page.screenshot({ path: path.join(SHOTS, 'error-state.png'), clip: { x: 0, y: 0, width: 1400, height: 420 } });
    // The error states come from the service's answers: the browser itself saw no error.
    expect(record.offHost).toEqual([]);
    expect(record.errors.filter((e) => !/status of 4\d\d/.test(e))).toEqual([]);
  });
});

test('a page on another origin embeds <trailql-activity> with its token, through CORS', async () => {
  const { page, record } = await tb!.page();
  await page.setViewport({ width: 960, height: 420 });
  const graphqlResponses: { status: number; allowOrigin: string | undefined }[] = [];
  page.on('response', (r) => {
    if (r.url() === ctx.server.url && r.request().method() === 'POST') graphqlResponses.push({ status: r.status(), allowOrigin: r.headers()['access-control-allow-origin'] });
  });
  await page.goto(`${portalOrigin}/`);
  const drawn = await until(() => page.$eval('trailql-activity', (el) => (el as unknown as { chartData?: number[][] }).chartData), 'the embedded chart');
  const filter = { from: new Date(SAMPLE_END.getTime() - 24 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() };
  const { data } = await ctx.server.gql(`query($f: ApiCallFilter) { activity(filter: $f, interval: HOUR, groupBy: CATEGORY) { buckets { calls } } }`, { f: filter });
  const total = (data.activity.buckets as { calls: number }[]).reduce((n, b) => n + b.calls, 0);
  expect(drawn.slice(1).flat().reduce((n, v) => n + v, 0)).toBe(total);
  expect(graphqlResponses.some((r) => r.status === 200 && r.allowOrigin === portalOrigin)).toBe(true);
  await page.screenshot({ path: path.join(SHOTS, 'embedded-activity.png') });
  expect(record.offHost).toEqual([]);
  expect(record.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  await page.close();
});

/** Opens the portal page with an embedded calls table; the export requests it makes are recorded. */
async function openPortalCalls(page: Page): Promise<{ method: string; status: number; authorized: boolean }[]> {
  const exports: { method: string; status: number; authorized: boolean }[] = [];
  page.on('response', (r) => {
    if (r.url().startsWith(`${base()}/export/`)) exports.push({ method: r.request().method(), status: r.status(), authorized: 'authorization' in r.request().headers() });
  });
  await page.goto(`${portalOrigin}/calls`);
  await until(() => page.$eval('trailql-calls', (el) => el.shadowRoot?.querySelectorAll('tbody tr').length || undefined), 'the calls table');
  return exports;
}

test('an embedded table downloads with a token its portal fetches when asked, and the portal stays', async () => {
  const { page, record } = await tb!.page();
  const exports = await openPortalCalls(page);
  await page.click('trailql-calls >>> a.download');
  await until(async () => (exports.some((x) => x.method === 'POST' && x.status === 200) ? true : undefined), 'the download');
  expect(page.url()).toBe(`${portalOrigin}/calls`);
  expect(exports.filter((x) => x.method !== 'OPTIONS')).toEqual([{ method: 'POST', status: 200, authorized: true }]);
  expect(record.offHost).toEqual([]);
  await page.close();
});

test('an export endpoint that is no web address gives no download link', async () => {
  const { page } = await tb!.page();
  await openPortalCalls(page);
  for (const endpoint of ['javascript:alert(document.domain)//', 'data:text/html,<script>alert(1)</script>']) {
    await page.$eval('trailql-calls', (el, e) => el.setAttribute('export-endpoint', e as string), endpoint);
    expect(await until(() => text(page, 'trailql-calls >>> .download-unavailable'), 'the missing download')).toContain('export-endpoint');
    expect(await page.$$('trailql-calls >>> a.download')).toHaveLength(0);
  }
  await page.$eval('trailql-calls', (el, e) => el.setAttribute('export-endpoint', e as string), `${base()}/export/api-calls`);
  expect(await until(() => page.$$eval('trailql-calls >>> a.download', (a) => a.map((x) => new URL(x.getAttribute('href')!).pathname)).then((p) => (p.length ? p : undefined)), 'the links back')).toEqual([
    '/export/api-calls',
    '/export/api-calls',
  ]);
  await page.close();
});

test('a download asked when the provider has no token goes without one: the refusal is shown, the portal stays', async () => {
  const { page } = await tb!.page();
  const exports = await openPortalCalls(page);
  await page.evaluate('window.trailqlNoToken = true');
  await page.click('trailql-calls >>> a.download');
  // Without a token a dev-mode service answers as the link would; this one needs one: 401, shown.
  expect(await until(() => text(page, 'trailql-calls >>> .error code'), 'the refusal')).toBe('HTTP_401');
  expect(page.url()).toBe(`${portalOrigin}/calls`);
  expect(exports.filter((x) => x.method !== 'OPTIONS')).toEqual([{ method: 'POST', status: 401, authorized: false }]);
  await page.close();
});

test('the offline explorer opens the example operations and runs one', async () => {
  const { page, record } = await tb!.page();
  await page.setViewport({ width: 1400, height: 900 });
  // EXPLORER=graphiql: a browser opening the endpoint lands on the bundled explorer.
  const res = await page.goto(ctx.server.url);
  expect(new URL(page.url()).pathname).toBe('/explorer');
  const nonce = await page.$eval('meta[name="trailql-style-nonce"]', (m) => m.getAttribute('content'));
  expect(res?.headers()['content-security-policy']).toBe(pageCspWithStyleNonce(nonce!));
  await page.waitForSelector('.graphiql-container .CodeMirror');
  const tabs = await page.$$eval('.graphiql-tab', (t) => t.length);
  expect(tabs).toBe(exampleOperations().length);
  // The first tab is the first operation (actions.graphql); send the token as a header.
  await page.click('::-p-text(Headers)');
  await page.evaluate(`(() => {
    const editors = [...document.querySelectorAll('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')];
    editors[0].CodeMirror.setValue(${JSON.stringify(JSON.stringify({ authorization: `Bearer ${TEST_KEY}` }))});
  })()`);
  await page.click('.graphiql-execute-button');
  const out = await until(async () => {
    const value = (await page.evaluate(`document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()`)) as string;
    return value.includes('"data"') ? value : undefined;
  }, 'the result');
  const expected = await ctx.server.gql(exampleOperations().find((o) => o.name === 'actions')!.query);
  expect(JSON.parse(out).data).toEqual(expected.data);
  await page.screenshot({ path: path.join(SHOTS, 'explorer.png') });
  // The token typed in the headers is kept nowhere: not in the tabs, not in the history.
  await until(async () => ((await page.evaluate(`localStorage.getItem('graphiql:queries')`)) ? true : undefined), 'the history entry');
  const kept = (await page.evaluate(`JSON.stringify(Object.entries(localStorage))`)) as string;
  expect(kept).toContain('graphiql:queries');
  expect(kept).not.toContain(TEST_KEY);
  // Tabs an earlier page kept with their headers come back without them, and still come back
  // (GraphiQL reads back no tab whose `headers` key is missing: it is kept, null).
  // They are written as the next page begins: GraphiQL, still open, would write its own tabs over
  // them a moment later (it keeps them on a timer).
  const earlier = { tabs: [{ id: 'kept', title: 'KeptTab', query: 'query KeptTab { __typename }', variables: null, headers: JSON.stringify({ authorization: `Bearer ${TEST_KEY}` }), operationName: 'KeptTab', response: null }], activeTabIndex: 0 };
  const plant = await page.evaluateOnNewDocument(`localStorage.setItem('graphiql:tabState', ${JSON.stringify(JSON.stringify(earlier))})`);
  await page.reload();
  await page.removeScriptToEvaluateOnNewDocument(plant.identifier);
  await page.waitForSelector('.graphiql-container .CodeMirror');
  expect(await until(async () => ((await page.$$eval('.graphiql-tab', (t) => t.map((x) => x.textContent ?? '').join(' '))).includes('KeptTab') ? true : undefined), 'the kept tab')).toBe(true);
  expect((await page.evaluate(`JSON.stringify(Object.entries(localStorage))`)) as string).not.toContain(TEST_KEY);
  // Nor is the token read back into the kept tab's headers, to be sent again.
  await page.click('.graphiql-tab ::-p-text(KeptTab)');
  await until(async () => ((await page.evaluate(`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()`)) === 'query KeptTab { __typename }' ? true : undefined), 'the kept tab opened');
  const editors = (await page.evaluate(`[...document.querySelectorAll('.CodeMirror')].map((e) => e.CodeMirror.getValue())`)) as string[];
  expect(editors.join('\n')).toContain('query KeptTab');
  expect(editors.join('\n')).not.toContain(TEST_KEY);
  // Its dialogs insert a style of their own as they open: under the page's nonce, no violation.
  for (const label of ['Open settings dialog', 'Open short keys dialog']) {
    await page.click(`button[aria-label="${label}"]`);
    await until(() => page.$('[role="dialog"]').then((d) => d ?? undefined), `the dialog of "${label}"`);
    expect(await page.$$eval('style[nonce]', (styles) => styles.length)).toBeGreaterThan(0);
    await page.keyboard.press('Escape');
    await until(() => page.$('[role="dialog"]').then((d) => (d ? undefined : true)), `the dialog of "${label}" closed`);
  }
  expect(record.offHost).toEqual([]);
  // GraphiQL asks for the schema before the token is in the headers editor: that one is refused.
  expect(record.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  await page.close();
});

test('an answer that left files out says so above its data: the console shows each warning code', async () => {
  const { page, record } = await tb!.page();
  await page.setViewport({ width: 1400, height: 1000 });
  // A file that cannot be read, in a day folder the console's window reads: a new file moves the
  // folder's time, so nothing kept from the earlier tests stands in for reading it.
  const day = new Date(SAMPLE_END.getTime() - 3_600_000).toISOString().slice(0, 10).split('-');
  const folder = listRecordFiles(ctx.dir).map((f) => path.dirname(f)).find((d) => d.endsWith(path.join(...day)))!;
  const broken = path.join(folder, path.basename(listRecordFiles(folder)[0]!).replace(/_[A-Za-z0-9]+\.json\.gz$/, '_Broken0000000001.json.gz'));
  fs.writeFileSync(broken, 'not gzip at all');
  try {
    await page.goto(`${base()}/ui?end=${SAMPLE_END.toISOString()}&window=24h`);
    await page.type(`${IN_CONSOLE}input[name=token]`, TEST_KEY);
    await page.click(`${IN_CONSOLE}button[type=submit]`);
    expect(await until(() => text(page, `${IN_CONSOLE}trailql-calls >>> .warning code`), 'the warning above the calls')).toBe('FILES_UNREADABLE');
    expect(await until(() => text(page, `${IN_CONSOLE}trailql-activity >>> .warning code`), 'the warning above the chart')).toBe('FILES_UNREADABLE');
    // The rows of the other files are still shown under it.
    expect((await rowIds(page)).length).toBeGreaterThan(0);
    // A download of the table (POSTed with the token) says the same, from its headers.
    const exported = page.waitForResponse((r) => r.url().endsWith('/export/api-calls') && r.request().method() === 'POST');
    await page.click(`${IN_CONSOLE}trailql-calls >>> a.download`);
    expect((await exported).headers()['x-trailql-complete']).toBe('false');
    expect(await until(() => text(page, `${IN_CONSOLE}trailql-calls >>> .download-warning code`), 'the download warning')).toBe('FILES_UNREADABLE');
    await page.screenshot({ path: path.join(SHOTS, 'incomplete-answer.png'), clip: { x: 0, y: 0, width: 1400, height: 420 } });
    expect(record.offHost).toEqual([]);
  } finally {
    fs.rmSync(broken, { force: true });
    await page.close();
  }
});

/**
 * Plants two IoT Events calls with one eventId, the newest of the console's window, in two regions'
 * folders (files named with `tag`); gives the files.
 */
function plantTwins(tag: string, eventId: string): string[] {
  const at = new Date(SAMPLE_END.getTime() - 1_000);
  const day = path.join(...at.toISOString().slice(0, 10).split('-'));
  const folders = [...new Set(listRecordFiles(ctx.dir).filter((f) => f.includes(day)).map((f) => path.dirname(f)))];
  const byRegion = new Map(folders.map((folder) => [readRecords(folder)[0]!.record.awsRegion, folder]));
  expect(byRegion.size).toBeGreaterThan(1);
  return [...byRegion].slice(0, 2).map(([region, folder]) => {
    const like = readRecords(folder).find(({ record: r }) => r.eventSource === 'iotevents.amazonaws.com')!.record;
    const call = { ...like, eventID: eventId, awsRegion: region, eventTime: at.toISOString().replace(/\.\d{3}Z$/, 'Z') };
    const file = path.join(folder, path.basename(listRecordFiles(folder)[0]!).replace(/_[A-Za-z0-9]+\.json\.gz$/, `_${tag}.json.gz`));
    fs.writeFileSync(file, gzipSync(JSON.stringify({ Records: [call] })));
    return file;
  });
}

/**
 * Plants one IoT Events call, the newest of the console's window, in a file of its own named with
 * `tag`: a call of the trail's with `eventId` and the fields `make` gives (from its account). Gives
 * the file (to remove) and the account.
 */
function plantNewestCall(tag: string, eventId: string, make: (account: string) => Record<string, unknown>): { file: string; account: string } {
  const at = new Date(SAMPLE_END.getTime() - 1_000);
  const folder = path.dirname(listRecordFiles(ctx.dir).find((f) => f.includes(path.join(...at.toISOString().slice(0, 10).split('-'))))!);
  const like = readRecords(folder).find(({ record: r }) => r.eventSource === 'iotevents.amazonaws.com')!.record;
  const account = like.recipientAccountId as string;
  const call = { ...like, eventID: eventId, eventTime: at.toISOString().replace(/\.\d{3}Z$/, 'Z'), ...make(account) };
  const file = path.join(folder, path.basename(listRecordFiles(folder)[0]!).replace(/_[A-Za-z0-9]+\.json\.gz$/, `_${tag}.json.gz`));
  fs.writeFileSync(file, gzipSync(JSON.stringify({ Records: [call] })));
  return { file, account };
}

test('in a browser east of UTC the chart draws every hour of the window on UTC hours, as the page says', async () => {
  const { page, record } = await tb!.page();
  await page.emulateTimezone('Asia/Kolkata');
  await page.setViewport({ width: 1400, height: 1000 });
  try {
    // The end typed without a zone is UTC, as the bar says.
    await page.goto(`${base()}/ui?end=${SAMPLE_END.toISOString().slice(0, 16)}&window=24h`);
    await page.type(`${IN_CONSOLE}input[name=token]`, TEST_KEY);
    await page.click(`${IN_CONSOLE}button[type=submit]`);
    const filter = await page.$eval('trailql-console', (el) => (el as unknown as { filter: Record<string, unknown> }).filter);
    expect(filter).toEqual({ from: new Date(SAMPLE_END.getTime() - 24 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() });
    const drawn = await until(() => page.$eval(`${IN_CONSOLE}trailql-activity`, (el) => (el as unknown as { chartData?: number[][] }).chartData), 'the chart');
    const first = (SAMPLE_END.getTime() - 24 * 3_600_000) / 1000;
    expect(drawn[0]).toEqual(Array.from({ length: 24 }, (_, i) => first + i * 3600));
    // The legend names the hour under the cursor in UTC: on the hour, not at half past (India's).
    const plot = await page.$(`${IN_CONSOLE}trailql-activity >>> .u-over`);
    const box = (await plot!.boundingBox())!;
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2);
    const time = await until(async () => {
      const t = await text(page, `${IN_CONSOLE}trailql-activity >>> .u-legend .u-series:first-child .u-value`);
      return /\d/.test(t) ? t : undefined;
    }, 'the legend time');
    const last = new Date((first + 23 * 3600) * 1000);
    expect(time).toBe(`${last.toISOString().slice(0, 10)} ${last.getUTCHours() % 12 || 12}:00${last.getUTCHours() < 12 ? 'am' : 'pm'}`);
    // Only the first asks, before the token was typed, were refused.
    expect(record.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  } finally {
    await page.close();
  }
});

test('two calls with one eventId in two regions are two rows, each opening on its own', async () => {
  const { page, record } = await tb!.page();
  await page.setViewport({ width: 1400, height: 1000 });
  const eventId = '0d1a7c55-2b1e-4f4e-9a61-00000000e1d2';
  const planted = plantTwins('Twins00000000001', eventId);
  try {
    await page.goto(`${base()}/ui?end=${SAMPLE_END.toISOString()}&window=24h`);
    await page.type(`${IN_CONSOLE}input[name=token]`, TEST_KEY);
    await page.click(`${IN_CONSOLE}button[type=submit]`);
    const rows = `${IN_CONSOLE}trailql-calls >>> tr.call[data-event-id="${eventId}"]`;
    await until(async () => ((await page.$$(rows)).length === 2 ? true : undefined), 'both calls');
    await clickSettled(page, `${rows} button.toggle`);
    const states = () => page.$$eval(rows, (rs) => rs.map((r) => r.querySelector('button.toggle')!.getAttribute('aria-expanded')));
    expect(await until(async () => ((await states()).includes('true') ? states() : undefined), 'one opened')).toEqual(['true', 'false']);
    expect(await page.$$(`${IN_CONSOLE}trailql-calls >>> tr.detail`)).toHaveLength(1);
    const controls = await page.$$eval(rows, (rs) => rs.map((r) => r.querySelector('button.toggle')!.getAttribute('aria-controls')));
    expect(new Set(controls).size).toBe(2);
    expect(record.offHost).toEqual([]);
  } finally {
    for (const f of planted) fs.rmSync(f, { force: true });
    await page.close();
  }
});

test('direction controls in a trail\'s text are shown by name, and the caller is still asked for as it is', async () => {
  const { page, record } = await tb!.page();
  await page.setViewport({ width: 1400, height: 1000 });
  // A call whose caller ARN ends in a right-to-left override: shown as it is, `user/\u202Enimda`
  // reads `user/admin`.
  const eventId = '0d1a7c55-2b1e-4f4e-9a61-000000b1d1b1';
  let arn = '';
  const { file, account } = plantNewestCall('Bidi00000000001', eventId, (acct) => {
    arn = `arn:aws:iam::${acct}:user/\u202Enimda`;
    return { userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLEBIDI0001', arn, accountId: acct, userName: '\u202Enimda' } };
  });
  const rawControls = (selector: string) =>
    page.$eval(selector, (host) => {
      const root = host.shadowRoot!;
      const attrs = [...root.querySelectorAll('*')].flatMap((el) => [...el.attributes].filter((a) => a.name !== 'data-event-id').map((a) => a.value));
      return [root.textContent ?? '', ...attrs].filter((t) => /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/.test(t));
    });
  try {
    await page.goto(`${base()}/ui?end=${SAMPLE_END.toISOString()}&window=24h`);
    await page.type(`${IN_CONSOLE}input[name=token]`, TEST_KEY);
    await page.click(`${IN_CONSOLE}button[type=submit]`);
    const row = `${IN_CONSOLE}trailql-calls >>> tr.call[data-event-id="${eventId}"]`;
    expect(await until(() => text(page, `${row} .who`), 'the call with the override')).toBe(`${account} user/\u27e8U+202E\u27e9nimda`);
    await clickSettled(page, `${row} button.toggle`);
    // Opened, by this click or (were the table asked again after it) by one more.
    const opened = () => page.$eval(`${row} button.toggle`, (b) => b.getAttribute('aria-expanded') === 'true');
    await until(async () => {
      if (!(await opened())) await page.$eval(`${row} button.toggle`, (b) => (b as unknown as { click(): void }).click());
      return (await opened()) && (await page.$(`${IN_CONSOLE}trailql-calls >>> tr.detail`)) ? true : undefined;
    }, 'the details');
    expect(await rawControls(`${IN_CONSOLE}trailql-calls`)).toEqual([]);
    expect(await page.$eval(`${row} .who button`, (b) => b.getAttribute('title'))).toBe(`Show arn:aws:iam::${account}:user/\u27e8U+202E\u27e9nimda`);
    // The caller is asked for by its key as the trail has it: its one call is found.
    await clickSettled(page, `${row} .who button`);
    expect(await until(() => text(page, `${IN_CONSOLE}trailql-caller >>> .key`), 'the caller')).toBe(`arn:aws:iam::${account}:user/\u27e8U+202E\u27e9nimda`);
    expect(await text(page, `${IN_CONSOLE}trailql-caller >>> .calls`)).toBe('1');
    expect(await rawControls(`${IN_CONSOLE}trailql-caller`)).toEqual([]);
    // Its calls over time, one series named by the caller: the chart's legend and table name it too.
    await page.$eval(`${IN_CONSOLE}input[name=caller]`, (input, key) => void ((input as unknown as { value: string }).value = key as string), arn);
    await page.select(`${IN_CONSOLE}select[name=group]`, 'CALLER');
    await page.click(`${IN_CONSOLE}button[type=submit]`);
    const legend = `${IN_CONSOLE}trailql-activity >>> .u-legend`;
    expect(await until(async () => ((await text(page, legend)).includes('nimda') ? text(page, legend) : undefined), 'the legend')).toContain(`user/\u27e8U+202E\u27e9nimda`);
    expect(await rawControls(`${IN_CONSOLE}trailql-activity`)).toEqual([]);
    expect(record.offHost).toEqual([]);
  } finally {
    fs.rmSync(file, { force: true });
    await page.close();
  }
});

test('a value of any length stays in a box of its own: a 200,000-character user agent scrolls, the page does not grow', async () => {
  const { page, record } = await tb!.page();
  await page.setViewport({ width: 1400, height: 1000 });
  const eventId = '0d1a7c55-2b1e-4f4e-9a61-0000000010ee';
  const userAgent = `agent/${'x'.repeat(200_000)}`;
  const { file } = plantNewestCall('LongAgent0000001', eventId, () => ({ userAgent }));
  try {
    await page.goto(`${base()}/ui?end=${SAMPLE_END.toISOString()}&window=24h`);
    await page.type(`${IN_CONSOLE}input[name=token]`, TEST_KEY);
    await page.click(`${IN_CONSOLE}button[type=submit]`);
    const row = `${IN_CONSOLE}trailql-calls >>> tr.call[data-event-id="${eventId}"]`;
    await until(() => text(page, `${row} .who`), 'the call with the long user agent');
    await clickSettled(page, `${row} button.toggle`);
    const detail = await detailOf(page, eventId);
    await until(() => text(page, detail), 'its details');
    const box = await page.$eval(detail, (tr) => {
      const dd = [...tr.querySelectorAll('dd')].find((d) => (d.textContent ?? '').startsWith('agent/'))!;
      return { row: tr.getBoundingClientRect().height, shown: dd.clientHeight, whole: dd.scrollHeight, text: dd.textContent!.length };
    });
    // All of it is there, to scroll through or copy; the row stays a few lines high.
    expect(box.text).toBe(userAgent.length);
    expect(box.whole).toBeGreaterThan(box.shown * 10);
    expect(box.row).toBeLessThan(1000);
    expect(record.offHost).toEqual([]);
  } finally {
    fs.rmSync(file, { force: true });
    await page.close();
  }
});
