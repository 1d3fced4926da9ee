/**
 * Downloads over HTTP on a generated sample trail: every call of a filter, newest first, in CSV and
 * NDJSON, the same as walking `apiCalls`; the same refusals, scope and payload withholding as
 * GraphQL; formula injection neutralised; engine work stops when the client goes away.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { hashKey } from '../src/auth/authenticate';
import { CSV_COLUMNS, EXPORT_PAGE_QUERY, FORMULA_START, csvRow, ndjsonLine, neutraliseFormula } from '../src/export/columns';
import { IOT_SOURCES, RawRecord, byTimeDesc, dedupe, inWindow, readRecords } from './support/records';
import { RecordingEngine, TEST_KEY, TEST_KEYS, startServer, testConfig } from './support/server';
import { createEngine } from '../src/engines';
import { CompiledQuery, Engine, EngineResult, ExecuteOptions } from '../src/query/engine';
import { SAMPLE_END } from './support/trails';
import { useSampleServer } from './support/sample-server';

const FROM = new Date(SAMPLE_END.getTime() - 20 * 3_600_000);
const W = { from: FROM.toISOString(), to: SAMPLE_END.toISOString() };
const A = '111122223333';
const KEY_A = 'export-key-for-account-a-0123456789';
const KEY_NONE = 'export-key-with-no-scope-0123456789';
const keys = [...TEST_KEYS, { id: 'a', sha256: hashKey(KEY_A), accounts: [A], regions: [], payloads: false, admin: false }];

const FORMULA_ID = 'aaaaaaaa-0000-4000-8000-f0f0f0f0f0f0';
/** A record whose text fields a spreadsheet would run as formulas. */
const FORMULA_RECORD = {
  eventVersion: '1.08',
  userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::111122223333:user/@admin', accountId: A, accessKeyId: 'AKIAEXAMPLE', userName: '@admin' },
  eventTime: new Date(SAMPLE_END.getTime() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  eventSource: 'iotevents.amazonaws.com',
  eventName: 'DeleteDetectorModel',
  awsRegion: 'us-east-1',
  sourceIPAddress: '203.0.113.9',
  userAgent: '=HYPERLINK("http://203.0.113.9/x","click")',
  errorCode: '+ValidationException',
  errorMessage: '-1+2',
  requestParameters: { detectorModelName: 'model' },
  responseElements: null,
  requestID: '\tcafe',
  eventID: FORMULA_ID,
  readOnly: false,
  eventType: 'AwsApiCall',
  managementEvent: true,
  recipientAccountId: A,
  eventCategory: 'Management',
};

/** A call whose record holds empty texts where others hold values (and no errorCode at all). */
const EMPTY_ID = 'aaaaaaaa-0000-4000-8000-e0e0e0e0e0e0';
const EMPTY_RECORD = { ...FORMULA_RECORD, eventID: EMPTY_ID, userAgent: 'aws-cli/2.13.0', sourceIPAddress: '', errorCode: undefined, errorMessage: '', requestID: 'req-empty' };

const sample = useSampleServer(
  1,
  { iotEventsPerDay: 120, otherEventsPerIotEvent: 1, deliveryMinutes: 30 },
  {
    env: { API_KEYS: JSON.stringify(keys), MAX_PAGE_SIZE: '25', DEFAULT_PAGE_SIZE: '25', CORS_ORIGINS: 'https://portal.example.com' },
    prepare: (dir) => {
      const folder = path.join(dir, 'AWSLogs', A, 'CloudTrail', 'us-east-1', '2026', '03', '15');
      fs.mkdirSync(folder, { recursive: true });
      fs.writeFileSync(path.join(folder, `${A}_CloudTrail_us-east-1_20260315T1105Z_FormulaInjection1.json.gz`), gzipSync(JSON.stringify({ Records: [FORMULA_RECORD, EMPTY_RECORD] })));
    },
  },
);

let all: RawRecord[];
/** The whole window downloaded once in each format with the full-scope key (several tests read them). */
const full = {} as { csv: Response; csvText: string; ndjson: Response; ndjsonText: string };
beforeAll(async () => {
  all = dedupe(readRecords(sample.dir)).filter((r) => IOT_SOURCES.includes(r.eventSource) && inWindow(r, FROM, SAMPLE_END)).sort(byTimeDesc);
  expect(all.length).toBeGreaterThan(75);
  full.csv = await fetch(exportUrl('csv', W), { headers: auth() });
  full.csvText = await full.csv.text();
  full.ndjson = await fetch(exportUrl('ndjson', W), { headers: auth() });
  full.ndjsonText = await full.ndjson.text();
});

const base = () => sample.server.url.replace(/\/graphql$/, '');
const auth = (key = TEST_KEY) => ({ authorization: `Bearer ${key}` });

function exportUrl(format: string, filter: unknown): string {
  return `${base()}/export/api-calls?format=${format}&filter=${encodeURIComponent(JSON.stringify(filter))}`;
}

/** RFC 4180 rows (quoted cells may hold commas, quotes and line breaks); an empty cell not quoted is null. */
function parseCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let cell = '';
  let quoted = false;
  let wasQuoted = false;
  const end = () => {
    row.push(cell === '' && !wasQuoted ? null : cell);
    cell = '';
    wasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') (quoted = true), (wasQuoted = true);
    else if (ch === ',') end();
    else if (ch === '\n') end(), rows.push(row), (row = []);
    else if (ch !== '\r') cell += ch;
  }
  return rows;
}

/** A download read with node:http, which gives the trailers fetch does not: headers, body and trailers. */
function rawDownload(pathAndQuery: string, key = TEST_KEY): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string; trailers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base()}${pathAndQuery}`, { headers: auth(key) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, trailers: { ...res.trailers } as Record<string, string> }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function ndjson(text: string): Record<string, any>[] { // eslint-disable-line @typescript-eslint/no-explicit-any
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('every call of a filter, newest first', () => {
  test('CSV: header, one row per call in the service order, a file name with the window', async () => {
    const res = full.csv;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="api-calls_20260314T1600Z_20260315T1200Z.csv"');
    const rows = parseCsv(full.csvText);
    expect(rows[0]).toEqual(CSV_COLUMNS.map((c) => c.header));
    const id = rows[0].indexOf('eventId');
    expect(rows.slice(1).map((r) => r[id])).toEqual(all.map((r) => r.eventID));
    // RFC 4180: every record ends in CRLF; a bare line break is only ever inside a quoted cell.
    const outsideQuotes = full.csvText.replace(/"(?:[^"]|"")*"/g, '""');
    expect(outsideQuotes.endsWith('\r\n')).toBe(true);
    expect(outsideQuotes.split('\r\n')).toHaveLength(rows.length + 1);
    expect(/[^\r]\n|^\n/.test(outsideQuotes)).toBe(false);
  });

  test('the headers say how many calls the window holds and that none was left out; the trailers, the rows written', async () => {
    for (const format of ['csv', 'ndjson']) {
      const { headers, text, trailers } = await rawDownload(`/export/api-calls?format=${format}&filter=${encodeURIComponent(JSON.stringify(W))}`);
      expect(headers['x-trailql-total-count']).toBe(String(all.length));
      expect(headers['x-trailql-complete']).toBe('true');
      expect(headers['x-trailql-unreadable-files']).toBe('0');
      expect(trailers).toEqual({ 'x-trailql-rows': String(all.length), 'x-trailql-complete': 'true' });
      expect(format === 'csv' ? parseCsv(text).length - 1 : ndjson(text).length).toBe(all.length);
    }
  });

  test('every CSV cell is the NDJSON value of the same call: times in ISO text, as GraphQL gives them', async () => {
    const rows = parseCsv(full.csvText);
    const lines = ndjson(full.ndjsonText);
    expect(rows.length - 1).toBe(lines.length);
    const time = rows[0].indexOf('eventTime');
    lines.forEach((line, i) => {
      expect(rows[i + 1][time]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/);
      expect(rows[i + 1][time]).toBe(line.eventTime);
      expect(rows[i + 1]).toEqual(csvRow(line));
    });
  });

  test('NDJSON: the GraphQL nodes, line for line, across pages', async () => {
    const res = full.ndjson;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="api-calls_.*\.ndjson"$/);
    const lines = ndjson(full.ndjsonText);
    expect(lines.map((l) => l.eventId)).toEqual(all.map((r) => r.eventID));
    const gql = await sample.server.gql(EXPORT_PAGE_QUERY, { filter: W, first: 25, withTotal: false });
    expect(gql.errors).toBeUndefined();
    expect(lines.slice(0, 25)).toEqual(gql.data.apiCalls.edges.map((e: { node: unknown }) => e.node));
  });

  test('POST with a JSON body answers the same as GET', async () => {
    const filter = { ...W, actions: ['DescribeDetectorModel', 'ListDetectorModels'] };
    const get = await (await fetch(exportUrl('ndjson', filter), { headers: auth() })).text();
    const post = await fetch(`${base()}/export/api-calls`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ format: 'ndjson', filter }) });
    expect(post.status).toBe(200);
    const body = await post.text();
    expect(body).toBe(get);
    expect(ndjson(body).map((l) => l.eventId)).toEqual(all.filter((r) => filter.actions.includes(r.eventName)).map((r) => r.eventID));
  });

  test('the downloadUrl of a connection downloads that connection, window pinned', async () => {
    const filter = { ...W, errorsOnly: true };
    const gql = await sample.server.gql('query($f: ApiCallFilter) { apiCalls(filter: $f) { downloadUrl(format: NDJSON) caller: edges { node { eventId } } } }', { f: filter });
    const url: string = gql.data.apiCalls.downloadUrl;
    expect(url).toMatch(/^\/export\/api-calls\?format=ndjson&filter=/);
    const lines = ndjson(await (await fetch(`${base()}${url}`, { headers: auth() })).text());
    expect(lines.map((l) => l.eventId)).toEqual(all.filter((r) => r.errorCode).map((r) => r.eventID));
  });

  test('an HTTP/1.0 client (no chunks, so no trailers) gets the whole file; HEAD gets the headers after one page', async () => {
    const url = new URL(`${base()}/export/api-calls?format=ndjson&filter=${encodeURIComponent(JSON.stringify(W))}`);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname, () => {
        socket.write(`GET ${url.pathname}${url.search} HTTP/1.0\r\nHost: ${url.host}\r\nAuthorization: Bearer ${TEST_KEY}\r\n\r\n`);
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    const [head, body] = [raw.slice(0, raw.indexOf('\r\n\r\n')), raw.slice(raw.indexOf('\r\n\r\n') + 4)];
    expect(head).toMatch(/^HTTP\/1\.[01] 200 /);
    expect(head.toLowerCase()).not.toContain('trailer:');
    expect(head.toLowerCase()).toContain(`x-trailql-total-count: ${all.length}`);
    expect(ndjson(body).map((l) => l.eventId)).toEqual(all.map((r) => r.eventID));

    sample.server.engine.reset();
    const res = await fetch(url, { method: 'HEAD', headers: auth() });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-trailql-total-count')).toBe(String(all.length));
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="api-calls_.*\.ndjson"$/);
    // One page read (the rows and the count), not the whole file.
    expect(sample.server.engine.executed.filter((q) => q.label === 'apiCalls')).toHaveLength(1);
  });

  test('a filter too long for a link offers none (servers would refuse the request line), and POSTs the same', async () => {
    const arns = Array.from({ length: 100 }, (_, i) => `arn:aws:sts::${A}:assumed-role/${'r'.repeat(60)}/session-${i}`);
    const filter = { ...W, callerArns: arns };
    const gql = await sample.server.gql('query($f: ApiCallFilter) { apiCalls(filter: $f, first: 1) { downloadUrl totalCount } }', { f: filter });
    expect(gql.errors).toBeUndefined();
    expect(gql.data.apiCalls.downloadUrl).toBeNull();
    const post = await fetch(`${base()}/export/api-calls`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ format: 'ndjson', filter }) });
    expect(post.status).toBe(200);
    expect(ndjson(await post.text())).toHaveLength(gql.data.apiCalls.totalCount);
  });

  test('nested connections offer no download link', async () => {
    const gql = await sample.server.gql('query($f: CallerFilter) { callers(filter: $f, first: 1) { nodes { calls(first: 1) { downloadUrl } } } }', { f: W });
    if (gql.errors) expect(gql.errors[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    else expect(gql.data.callers.nodes[0].calls.downloadUrl).toBeNull();
  });
});

describe('same refusals as GraphQL, before any engine query', () => {
  const cases: [string, string, string][] = [
    ['invalid JSON', `${'format=csv&filter='}${encodeURIComponent('{from:')}`, 'BAD_USER_INPUT'],
    ['unknown format', `format=xlsx&filter=${encodeURIComponent(JSON.stringify(W))}`, 'BAD_USER_INPUT'],
    ['unknown filter field', `format=csv&filter=${encodeURIComponent(JSON.stringify({ ...W, nope: 1 }))}`, 'BAD_USER_INPUT'],
    ['bad enum value', `format=csv&filter=${encodeURIComponent(JSON.stringify({ ...W, identityTypes: ['ADMIN'] }))}`, 'BAD_USER_INPUT'],
    ['window too long', `format=csv&filter=${encodeURIComponent(JSON.stringify({ from: '2025-01-01T00:00:00Z', to: W.to }))}`, 'BAD_USER_INPUT'],
    ['bad CIDR', `format=csv&filter=${encodeURIComponent(JSON.stringify({ ...W, sourceCidrs: ['10.0.0.0/99'] }))}`, 'BAD_USER_INPUT'],
    ['filter not an object', `format=csv&filter=${encodeURIComponent('[1]')}`, 'BAD_USER_INPUT'],
    // A misspelt parameter would otherwise download every call of the default window.
    ['unknown parameter', `format=csv&filters=${encodeURIComponent(JSON.stringify({ ...W, errorsOnly: true }))}`, 'BAD_USER_INPUT'],
    ['a filter field given as a parameter', `format=csv&errorsOnly=true`, 'BAD_USER_INPUT'],
  ];
  test.each(cases)('%s', async (_name, query, code) => {
    sample.server.engine.reset();
    const res = await fetch(`${base()}/export/api-calls?${query}`, { headers: auth() });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0].extensions.code).toBe(code);
    expect(sample.server.engine.executed).toHaveLength(0);
  });

  // A page's coercion recurses once per level: a filter thousands deep would overflow the stack.
  test('a filter nested deeper than 16 levels: 400 BAD_USER_INPUT, by GET or POST', async () => {
    sample.server.engine.reset();
    const deep = (levels: number) => `${'{"not":'.repeat(levels)}{}${'}'.repeat(levels)}`;
    const post = await fetch(`${base()}/export/api-calls`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: `{"format":"csv","filter":${deep(3000)}}` });
    const get = await fetch(`${base()}/export/api-calls?format=csv&filter=${encodeURIComponent(deep(40))}`, { headers: auth() });
    for (const res of [post, get]) {
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] }).errors).toEqual([
        { message: 'filter: nested deeper than 16 levels of objects and lists', extensions: { code: 'BAD_USER_INPUT', field: 'filter' } },
      ]);
    }
    expect(sample.server.engine.executed).toHaveLength(0);
  });

  test('a POST body that is not JSON is refused, not read as no filter', async () => {
    sample.server.engine.reset();
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', JSON.stringify({ format: 'ndjson', filter: { ...W, errorsOnly: true } })],
      ['text/plain', JSON.stringify({ format: 'ndjson', filter: W })],
    ]) {
      const res = await fetch(`${base()}/export/api-calls`, { method: 'POST', headers: { ...auth(), 'content-type': type }, body });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errors: { extensions: { code: string; field: string } }[] }).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'body' });
    }
    const unknown = await fetch(`${base()}/export/api-calls`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ format: 'csv', filters: W }) });
    expect(unknown.status).toBe(400);
    expect(sample.server.engine.executed).toHaveLength(0);
  });

  test('a method other than GET, HEAD or POST: 405 in JSON, with the methods allowed', async () => {
    sample.server.engine.reset();
    for (const method of ['PUT', 'DELETE', 'PATCH']) {
      const res = await fetch(exportUrl('csv', W), { method, headers: auth() });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_REQUEST');
    }
    expect(sample.server.engine.executed).toHaveLength(0);
  });

  test('a preview header is refused: a download runs its statements', async () => {
    sample.server.engine.reset();
    const res = await fetch(exportUrl('csv', W), { headers: { ...auth(), 'x-trailql-explain': '1' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(sample.server.engine.executed).toHaveLength(0);
  });

  test('no credentials: 401; an unknown key: 401; whatever the rest of the request', async () => {
    sample.server.engine.reset();
    for (const headers of [{}, auth(KEY_NONE)]) {
      for (const url of [exportUrl('csv', W), `${base()}/export/api-calls?format=csv&filters=x`, exportUrl('xlsx', W)]) {
        const res = await fetch(url, { headers: { ...headers, 'x-trailql-explain': '1' } });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        // As /graphql formats it: the code, nothing of the HTTP answer it rides on.
        expect(((await res.json()) as { errors: { extensions: object }[] }).errors[0]).toEqual({ message: expect.any(String), extensions: { code: 'UNAUTHENTICATED' } });
      }
    }
    expect(sample.server.engine.executed).toHaveLength(0);
  });

  test('an account outside the key\'s scope: 403', async () => {
    const res = await fetch(exportUrl('csv', { ...W, accounts: ['444455556666'] }), { headers: auth(KEY_A) });
    expect(res.status).toBe(403);
    // Nothing points into the page query the client never sent, nor repeats the HTTP answer.
    const [error] = ((await res.json()) as { errors: Record<string, any>[] }).errors; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(error!.extensions.code).toBe('FORBIDDEN');
    expect(error).not.toHaveProperty('locations');
    expect(error).not.toHaveProperty('path');
    expect(error!.extensions).not.toHaveProperty('http');
  });
});

/**
 * A whole-window NDJSON download in pages of 25 through the engine `make` wraps around the real
 * one: its headers said complete, and its body is cut off (reading it fails). Over HTTP/1.0 (no
 * chunks: the body ends with the connection) the connection is reset, not closed as at the end of
 * a whole file. Gives the engine.
 */
async function cutDownload<E extends RecordingEngine>(make: (real: Engine) => E, via: 'HTTP/1.1' | 'HTTP/1.0' = 'HTTP/1.1', extraEnv: Record<string, string> = {}): Promise<E> {
  const env = { API_KEYS: JSON.stringify(keys), MAX_PAGE_SIZE: '25', DEFAULT_PAGE_SIZE: '25', ...extraEnv };
  const real = await createEngine(testConfig(sample.dir, env), sample.dir);
  const engine = make(real.engine);
  const server = await startServer(sample.dir, env, { now: () => SAMPLE_END, engine: { engine, dialect: real.dialect } });
  try {
    const url = new URL(`${server.url.replace(/\/graphql$/, '')}/export/api-calls?format=ndjson&filter=${encodeURIComponent(JSON.stringify(W))}`);
    if (via === 'HTTP/1.1') {
      const res = await fetch(url, { headers: auth() });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-trailql-complete')).toBe('true');
      await expect(res.text()).rejects.toThrow();
    } else {
      const ending = await new Promise<{ how: 'end' | 'error'; text: string; code?: string }>((resolve) => {
        const socket = net.connect(Number(url.port), url.hostname, () => {
          socket.write(`GET ${url.pathname}${url.search} HTTP/1.0\r\nHost: ${url.host}\r\nAuthorization: Bearer ${TEST_KEY}\r\n\r\n`);
        });
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (text += chunk));
        socket.on('end', () => resolve({ how: 'end', text }));
        socket.on('error', (err: NodeJS.ErrnoException) => resolve({ how: 'error', text, code: err.code }));
      });
      expect(ending.text).toMatch(/^HTTP\/1\.[01] 200 /);
      expect(ending.text.toLowerCase()).toContain('x-trailql-complete: true');
      expect(ending).toMatchObject({ how: 'error', code: 'ECONNRESET' });
    }
    return engine;
  } finally {
    await server.close();
  }
}

describe('a file found unreadable after the headers were sent', () => {
  test('cuts the download: headers that said complete would otherwise stand over a partial file', async () => {
    /** The engine as it is, until the second page: from then on a file is reported unreadable. */
    class TurnsBad extends RecordingEngine {
      pages = 0;
      override async execute(query: CompiledQuery, options?: ExecuteOptions): Promise<EngineResult> {
        const result = await super.execute(query, options);
        if (query.label === 'apiCalls' && ++this.pages > 1) {
          return { ...result, stats: { ...result.stats, unreadable: [{ path: `AWSLogs/${A}/CloudTrail/us-east-1/2026/03/15/late.json.gz`, reason: 'truncated JSON' }] } };
        }
        return result;
      }
    }
    for (const via of ['HTTP/1.1', 'HTTP/1.0'] as const) {
      const engine = await cutDownload((real) => new TurnsBad(real), via);
      expect(engine.pages).toBe(2);
    }
  });
});

describe('one download, one request', () => {
  /** The real engine, each page of calls taking `ms` more. */
  const slowPages = (ms: number) =>
    class SlowPages extends RecordingEngine {
      pages = 0;
      override async execute(query: CompiledQuery, options?: ExecuteOptions): Promise<EngineResult> {
        if (query.label === 'apiCalls') {
          this.pages += 1;
          await new Promise((r) => setTimeout(r, ms));
        }
        return super.execute(query, options);
      }
    };

  test('its pages spend one engine-time budget: spent midway, the download is cut', async () => {
    // Each page alone fits REQUEST_ENGINE_BUDGET_MS (while its own engine time is under 2 s, on a
    // machine as busy as it may be); the pages of the window together do not: by the third page at
    // the latest what is left is spent, whatever the engine's own time.
    expect(Math.ceil(all.length / 25)).toBeGreaterThan(4);
    const Slow = slowPages(1200);
    const engine = await cutDownload((real) => new Slow(real), 'HTTP/1.1', { REQUEST_ENGINE_BUDGET_MS: '3200' });
    expect(engine.pages).toBeGreaterThanOrEqual(2);
    expect(engine.pages).toBeLessThanOrEqual(3);
  });

  test('a first page over the budget is refused before anything is sent: 422 ENGINE_BUDGET_EXHAUSTED', async () => {
    const env = { API_KEYS: JSON.stringify(keys), MAX_PAGE_SIZE: '25', DEFAULT_PAGE_SIZE: '25', REQUEST_ENGINE_BUDGET_MS: '100' };
    const real = await createEngine(testConfig(sample.dir, env), sample.dir);
    const Slow = slowPages(400);
    const server = await startServer(sample.dir, env, { now: () => SAMPLE_END, engine: { engine: new Slow(real.engine), dialect: real.dialect } });
    try {
      const res = await fetch(`${server.url.replace(/\/graphql$/, '')}/export/api-calls?format=csv&filter=${encodeURIComponent(JSON.stringify(W))}`, { headers: auth() });
      expect(res.status).toBe(422);
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('ENGINE_BUDGET_EXHAUSTED');
    } finally {
      await server.close();
    }
  });
});

describe('trail files that go away after the headers were sent', () => {
  test('cut the download: fewer calls than the headers counted must not end as a whole file', async () => {
    // The day folder holding the window's oldest call: read by the last pages, moved away after the first.
    const oldest = readRecords(sample.dir).filter(({ record }) => IOT_SOURCES.includes(record.eventSource) && inWindow(record, new Date(W.from), new Date(W.to))).sort((a, b) => byTimeDesc(b.record, a.record))[0]!;
    const folder = path.dirname(oldest.file);
    class FolderGoes extends RecordingEngine {
      pages = 0;
      override async execute(query: CompiledQuery, options?: ExecuteOptions): Promise<EngineResult> {
        if (query.label === 'apiCalls' && ++this.pages === 2) fs.renameSync(folder, `${folder}.away`);
        return super.execute(query, options);
      }
    }
    try {
      const engine = await cutDownload((real) => new FolderGoes(real));
      expect(engine.pages).toBeGreaterThan(2);
    } finally {
      if (fs.existsSync(`${folder}.away`)) fs.renameSync(`${folder}.away`, folder);
    }
  });
});

describe('browsers', () => {
  test('CORS as for /graphql: the allowed portal may read the file name; others get no grant', async () => {
    const pre = (origin: string) =>
      fetch(`${base()}/export/api-calls`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    const allowed = await pre('https://portal.example.com');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://portal.example.com');
    // Only the methods it answers.
    expect(allowed.headers.get('access-control-allow-methods')).toBe('GET,HEAD,POST');
    expect((await pre('https://evil.example.com')).headers.get('access-control-allow-origin')).toBeNull();
    const res = await fetch(exportUrl('csv', { ...W, actions: ['NoSuchAction'] }), { headers: { ...auth(), origin: 'https://portal.example.com' } });
    expect(res.headers.get('access-control-expose-headers')).toMatch(/content-disposition/);
  });
});

describe('scope and payloads', () => {
  test('a key for one account downloads that account only, payloads withheld', async () => {
    const lines = ndjson(await (await fetch(exportUrl('ndjson', W), { headers: auth(KEY_A) })).text());
    expect(lines.map((l) => l.eventId)).toEqual(all.filter((r) => r.recipientAccountId === A).map((r) => r.eventID));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.requestParameters === null && l.responseElements === null)).toBe(true);
    expect(ndjson(full.ndjsonText).some((l) => l.requestParameters !== null)).toBe(true);
  });
});

describe('formula injection', () => {
  test('cells a spreadsheet would run start with a quote; the rest is untouched', async () => {
    const rows = parseCsv(full.csvText);
    const header = rows[0];
    const row = rows.find((r) => r[header.indexOf('eventId')] === FORMULA_ID)!;
    const cell = (name: string) => row[header.indexOf(name)];
    expect(cell('userAgent')).toBe(`'${FORMULA_RECORD.userAgent}`);
    expect(cell('errorCode')).toBe("'+ValidationException");
    expect(cell('errorMessage')).toBe("'-1+2");
    expect(cell('callerUserName')).toBe("'@admin");
    expect(cell('requestId')).toBe("'\tcafe");
    expect(cell('callerArn')).toBe(FORMULA_RECORD.userIdentity.arn);
    expect(cell('action')).toBe('DeleteDetectorModel');
  });

  test.each(['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1', '\n=1', ' =1', '\u00a0=1', '\u200b=1', '|cmd', ' \u200b @x', '\u0085=1'])('%j is neutralised', (value) => {
    expect(neutraliseFormula(value)).toBe(`'${value}`);
    expect(csvRow({ userAgent: value }).find((c) => c?.endsWith(value))).toBe(`'${value}`);
  });

  test('property: no cell starts a formula, and a neutralised cell is the value behind one quote', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const out = neutraliseFormula(s);
        expect(FORMULA_START.test(out)).toBe(false);
        // Kept as it is only when no blank a spreadsheet may skip leads to a formula sign.
        if (out === s) expect(/^[=+\-@|]/.test(s.replace(/^[\s\u0085\u00a0\u200b-\u200d\u2060\ufeff]+/, ''))).toBe(false);
        expect(out === s || out === `'${s}`).toBe(true);
      }),
    );
  });

  test('property: an NDJSON line is the value, one line for any reader, whatever its text holds', () => {
    fc.assert(
      fc.property(fc.record({ userAgent: fc.string({ unit: fc.constantFrom('a', '\u2028', '\u2029', '\u0085', '\n', '\r', '"', '\\') }) }), (call) => {
        const line = ndjsonLine(call);
        expect(line.endsWith('\n')).toBe(true);
        expect(line.slice(0, -1)).not.toMatch(/[\n\r\u2028\u2029\u0085]/);
        expect(JSON.parse(line)).toEqual(call);
      }),
    );
  });

  test('null is an empty cell, never the text "null"', () => {
    const cells = csvRow({ eventId: 'x', errorCode: null });
    expect(cells[CSV_COLUMNS.findIndex((c) => c.header === 'errorCode')]).toBeNull();
    expect(cells).not.toContain('null');
  });

  test('an empty text is a quoted empty cell, a missing value an empty one: the two stay apart', () => {
    const rows = parseCsv(full.csvText);
    const header = rows[0];
    const row = rows.find((r) => r[header.indexOf('eventId')] === EMPTY_ID)!;
    const cell = (name: string) => row[header.indexOf(name)];
    expect(cell('sourceIpAddress')).toBe('');
    expect(cell('errorMessage')).toBe('');
    expect(cell('errorCode')).toBeNull();
    expect(full.csvText.split('\r\n').find((l) => l.includes(EMPTY_ID))).toMatch(/,"",/);
  });
});

describe('a client that goes away', () => {
  test('stops the walk: fewer pages read than the whole download needs', async () => {
    const pages = Math.ceil(all.length / 25);
    expect(pages).toBeGreaterThan(3);
    sample.server.engine.reset();
    let running = 0;
    const engine = sample.server.engine;
    const execute = engine.execute.bind(engine);
    jest.spyOn(engine, 'execute').mockImplementation(async (...args) => {
      running += 1;
      try {
        return await execute(...args);
      } finally {
        running -= 1;
      }
    });
    const abort = new AbortController();
    const res = await fetch(exportUrl('ndjson', W), { headers: auth(), signal: abort.signal });
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    await reader.read().catch(() => undefined);
    for (let i = 0; i < 200 && sample.server.app.ops.drainer.inFlight > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(sample.server.app.ops.drainer.inFlight).toBe(0);
    // The response closes before the handler notices: wait until no engine query has been running
    // for a while (the walk starts its next page within milliseconds of the previous one).
    for (let i = 0, idle = 0; i < 600 && idle < 5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      idle = running === 0 ? idle + 1 : 0;
    }
    expect(running).toBe(0);
    expect(sample.server.engine.executed.length).toBeLessThan(pages);
  });
});

/** Node's own record of the signals a composite signal (`AbortSignal.any`) was made from. */
function sourcesOf(signal: AbortSignal): AbortSignal[] {
  const key = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kSourceSignals');
  if (!key) throw new Error('this Node keeps no kSourceSignals on a composite signal: the test cannot see what a query signal hangs on');
  const refs = (signal as unknown as Record<symbol, Set<WeakRef<AbortSignal>> | undefined>)[key];
  return [...(refs ?? [])].map((r) => r.deref()).filter((s): s is AbortSignal => s !== undefined);
}

describe('what a download holds', () => {
  test('no signal lives through several pages: what each page derives from one is let go with the page', async () => {
    const pages = Math.ceil(all.length / 25);
    expect(pages).toBeGreaterThan(3);
    // The spy of an earlier test would be taken over (and call itself): start from the engine's own.
    jest.restoreAllMocks();
    const engine = sample.server.engine;
    engine.reset();
    const execute = engine.execute.bind(engine);
    const signals: AbortSignal[] = [];
    jest.spyOn(engine, 'execute').mockImplementation(async (query, options) => {
      if (options?.signal) signals.push(options.signal);
      return execute(query, options);
    });
    try {
      const res = await fetch(exportUrl('ndjson', W), { headers: auth() });
      expect(ndjson(await res.text())).toHaveLength(all.length);
    } finally {
      jest.restoreAllMocks();
    }
    expect(signals.length).toBeGreaterThanOrEqual(pages);
    // Each engine query's signal is derived from the signals it hangs on. A signal held for the
    // whole download and handed to every page would be a source of every query (and keep a record
    // of each of them until the download ends); a page's own sources serve that page's queries only.
    const queriesBySource = new Map<AbortSignal, number>();
    for (const s of signals) for (const source of sourcesOf(s)) queriesBySource.set(source, (queriesBySource.get(source) ?? 0) + 1);
    expect(queriesBySource.size).toBeGreaterThan(0);
    const perPage = Math.ceil(signals.length / pages);
    expect(Math.max(...queriesBySource.values())).toBeLessThanOrEqual(perPage);
  });
});
