/**
 * trailql at trail scale: one command that generates a large sample trail, compacts it to the
 * Parquet store, starts the HTTP servers, each in a process of its own (bench/cache-server.ts),
 * and measures, side by side:
 *
 *   1. GraphQL questions through the HTTP server (calls per action, totalCount, a newest-first
 *      page, calls by caller over every page, the top callers with their newest calls) versus
 *      hand-written DuckDB SQL reading the same days and giving the same answer (checked), on the
 *      same files (JSON and Parquet), and the ratio;
 *   2. pruning: 1-, 7- and 30-day windows, time and files opened, JSON versus Parquet;
 *   3. answer cache hit versus miss (latency p50/p99, requests per second, autocannon in a process
 *      of its own), the hit against bare Apollo Server 5 returning the same rows in the same run;
 *   4. engine queries per request for nested queries at page sizes 10, 100 and 500;
 *   5. peak memory (RSS) of each server process, its own (/proc/<pid>/status).
 *
 * Results go to bench/RESULTS.md with the machine, the parameters and the commands.
 *
 *   npm run bench
 *   npm run bench -- --days 7 --iot-per-day 100 --keep
 *
 * The trail is generated into bench/.data (gitignored) and reused by the next run when it was kept
 * (--keep) with the same parameters. Progress is shown on a terminal only.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { CacheStats, NO_CACHE_HEADER } from '../src/cache';
import { defaultStoreDir } from '../src/engines/duckdb/parquet-store';
import { IOT_EVENTS_SOURCES } from '../src/domain/iotevents-actions';
import { CATEGORY_RAW_TYPES, CallerCategory } from '../src/domain/identity';
import { DESTRUCTIVE_ACTIONS } from '../src/insights/rules';
import { literal } from '../src/query/compiler';
import { compactTrail, CompactResult } from '../src/engines/duckdb/compact';
import { ProgressLine } from '../src/trail/progress';
import { SampleTrailResult, generateSampleTrail } from '../src/trail/sample';
import { CompactVsCopy, compactAgainstCopy } from './compact-copy';
import { LoadRun, autocannonProcess, cpuUs } from './load-gen';
import { median } from './measure';
import { BenchServer, keepCallerPages, startBareServer, startBenchServer } from './servers';

// ---------------------------------------------------------------------------------------------
// Parameters

const USAGE = `Usage: npm run bench -- [options]

  --days N             length of the trail in days                        default 30
  --regions N          regions (us-east-1, eu-west-1, ...)                default 3
  --accounts N         accounts, the last through an organization trail  default 2
  --iot-per-day N      IoT Events calls per account, region and day       default 300
  --other-per-iot N    other services' records per IoT Events call        default 18
  --seed N             generator seed                                     default 1
  --reps N             timed runs per measurement (median)                default 3
                       (also the rounds of compaction against COPY and of
                       the cache hit against bare Apollo)
  --duration S         seconds per autocannon run                         default 10
  --connections N      autocannon connections                             default 10
  --out DIR            data folder (trail and store)                      default bench/.data
  --keep               keep the data folder; a later run with the same size reuses the trail
  --results FILE       where the report goes ("-": standard output only)  default bench/RESULTS.md
  -h, --help           this text
`;

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-west-2', 'eu-central-1', 'ap-northeast-1', 'sa-east-1', 'ca-central-1'];
const ACCOUNTS = ['111122223333', '444455556666', '123456789012', '210987654321', '333344445555', '666677778888'];
const ORG = { orgId: 'o-a1b2c3d4e5', account: '777788889999' };
/** The service's default event sources: the store is compacted for them, and the SQL filters on them. */
const IOT_SOURCES = IOT_EVENTS_SOURCES;
/** A fixed end: the same flags give the same trail, and every window is in the past (cacheable). */
const END = new Date('2026-03-15T00:00:00Z');
const DAY = 86_400_000;
const WINDOW_DAYS = [1, 7, 30] as const;

interface Params {
  days: number;
  regions: number;
  accounts: number;
  iotPerDay: number;
  otherPerIot: number;
  seed: number;
}

interface Options {
  params: Params;
  reps: number;
  duration: number;
  connections: number;
  out: string;
  keep: boolean;
  results: string;
}

function parseOptions(argv: string[]): Options | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      days: { type: 'string' },
      regions: { type: 'string' },
      accounts: { type: 'string' },
      'iot-per-day': { type: 'string' },
      'other-per-iot': { type: 'string' },
      seed: { type: 'string' },
      reps: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean' },
      results: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const int = (name: string, v: string | undefined, fallback: number, min: number, max: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: expected a whole number from ${min} to ${max}, got "${v}"`);
    return n;
  };
  return {
    params: {
      days: int('days', values.days, 30, 1, 400),
      regions: int('regions', values.regions, 3, 1, REGIONS.length),
      accounts: int('accounts', values.accounts, 2, 1, ACCOUNTS.length + 1),
      iotPerDay: int('iot-per-day', values['iot-per-day'], 300, 1, 100_000),
      otherPerIot: int('other-per-iot', values['other-per-iot'], 18, 0, 1000),
      seed: int('seed', values.seed, 1, 0, 2 ** 31 - 1),
    },
    reps: int('reps', values.reps, 3, 1, 100),
    duration: int('duration', values.duration, 10, 1, 600),
    connections: int('connections', values.connections, 10, 1, 1000),
    out: path.resolve(values.out ?? path.join(__dirname, '.data')),
    keep: values.keep ?? false,
    results: values.results ?? path.join(__dirname, 'RESULTS.md'),
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (n: number) => (n >= 100 ? fmt(n) : fmt(n, 1));
const mib = (bytes: number) => fmt(bytes / 2 ** 20, 1);
const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');
const windowOf = (days: number) => ({ from: iso(END.getTime() - days * DAY), to: iso(END.getTime()) });

/** A process's resident set (`VmRSS`) or its peak so far (`VmHWM`), from the kernel, in bytes. */
function procMemory(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Peak RSS of the server process `pid` while `run` is in flight, sampled every 10 ms. */
async function withPeakRss<T>(pid: number | undefined, run: () => Promise<T>): Promise<{ value: T; peakRss: number; rssBefore: number }> {
  const rssBefore = procMemory(pid, 'VmRSS');
  let peak = rssBefore;
  const timer = setInterval(() => {
    peak = Math.max(peak, procMemory(pid, 'VmRSS'));
  }, 10);
  try {
    const value = await run();
    peak = Math.max(peak, procMemory(pid, 'VmRSS'));
    return { value, peakRss: peak, rssBefore };
  } finally {
    clearInterval(timer);
  }
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t = performance.now();
  const value = await run();
  return { value, ms: performance.now() - t };
}

// ---------------------------------------------------------------------------------------------
// The trail

interface TrailInfo {
  dir: string;
  params: Params;
  regions: string[];
  accounts: string[];
  generated: SampleTrailResult | undefined;
  reused: boolean;
  generateMs: number;
  files: number;
  bytes: number;
  records: number;
  iotRecords: number;
}

function trailLayout(p: Params) {
  const regions = REGIONS.slice(0, p.regions);
  const plain = ACCOUNTS.slice(0, p.accounts >= 2 ? p.accounts - 1 : 1);
  const org = p.accounts >= 2 ? ORG : null;
  return { regions, plain, org, accounts: [...plain, ...(org ? [org.account] : [])] };
}

function countFiles(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'CloudTrail-Digest' && e.name !== 'CloudTrail-Insight') walk(p);
      } else if (/\.json(\.gz)?$/.test(e.name)) {
        files++;
        bytes += fs.statSync(p).size;
      }
    }
  };
  walk(path.join(dir, 'AWSLogs'));
  return { files, bytes };
}

async function ensureTrail(o: Options): Promise<TrailInfo> {
  const dir = path.join(o.out, 'trail');
  const marker = path.join(o.out, 'params.json');
  const layout = trailLayout(o.params);
  const wanted = JSON.stringify({ ...o.params, end: END.toISOString() });
  let saved: { params: string; records: number; iotRecords: number } | undefined;
  try {
    saved = JSON.parse(fs.readFileSync(marker, 'utf8')) as typeof saved;
  } catch {
    saved = undefined;
  }
  if (saved && saved.params === wanted && fs.existsSync(path.join(dir, 'AWSLogs'))) {
    return { dir, params: o.params, regions: layout.regions, accounts: layout.accounts, generated: undefined, reused: true, generateMs: 0, ...countFiles(dir), records: saved.records, iotRecords: saved.iotRecords };
  }
  fs.rmSync(o.out, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const line = new ProgressLine('generating the trail');
  const started = performance.now();
  const generated = await generateSampleTrail({
    outDir: dir,
    days: o.params.days,
    end: END,
    seed: o.params.seed,
    regions: layout.regions,
    accounts: layout.plain,
    orgAccount: layout.org,
    iotEventsPerDay: o.params.iotPerDay,
    otherEventsPerIotEvent: o.params.otherPerIot,
    onProgress: (p) => line.update(p.files, p.totalFiles, 'files', performance.now() - started, `${fmt(p.records)} records`),
  });
  line.done();
  const generateMs = performance.now() - started;
  fs.writeFileSync(marker, JSON.stringify({ params: wanted, records: generated.records, iotRecords: generated.iotEventsRecords }));
  return { dir, params: o.params, regions: layout.regions, accounts: layout.accounts, generated, reused: false, generateMs, ...countFiles(dir), records: generated.records, iotRecords: generated.iotEventsRecords };
}

// ---------------------------------------------------------------------------------------------
// Servers and GraphQL

const API_KEY = `bench-${randomBytes(16).toString('hex')}`;

interface Cost {
  queries: { label: string; cached: boolean; rows: number; bytesScanned: number; engineMs: number; files?: number }[];
  totals: { queries: number; engineQueries: number; cacheHits: number; rows: number; bytesScanned: number; engineMs: number };
}

interface Server {
  url: string;
  /** The server's own process: its memory is read from /proc. */
  pid: number | undefined;
  /** The answer cache's counters (servers started with a cache). */
  stats(): Promise<CacheStats>;
  close(): Promise<void>;
}

/**
 * The HTTP server in a process of its own (bench/servers.ts). Its clock is an hour after the end
 * of the trail: every window ending at END is complete (cacheable long).
 */
async function startServer(trailDir: string, env: Record<string, string>, withCache: boolean): Promise<Server> {
  const server = await startBenchServer(trailDir, API_KEY, {
    MAX_PAGE_SIZE: '500',
    CACHE_ENABLED: withCache ? 'true' : 'false',
    BENCH_NOW: new Date(END.getTime() + 3_600_000).toISOString(),
    ...env,
  });
  const { child } = server;
  return {
    url: server.url,
    pid: server.pid,
    stats: () =>
      new Promise<CacheStats>((res) => {
        // Statement hits plus whole answers given again (the response cache answers a repeated request before any statement is looked up).
        child.once('message', (r: { stats: CacheStats; responses?: { hits: number } }) => res({ ...r.stats, hits: r.stats.hits + (r.responses?.hits ?? 0) }));
        child.send('stats');
      }),
    close: () => server.close(),
  };
}

const HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };

async function gql<T = Record<string, unknown>>(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { ...HEADERS, ...headers }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: unknown[]; extensions?: { cost?: Cost } };
  if (res.status !== 200 || body.errors || !body.data) throw new Error(`GraphQL failed (${res.status}): ${JSON.stringify(body.errors ?? body).slice(0, 500)}`);
  return { data: body.data, cost: body.extensions?.cost };
}

/** The 50 newest IoT Events calls of a window, with who, from where, what and the outcome. */
const RECENT = `query($filter: ApiCallFilter, $first: Int) {
  apiCalls(filter: $filter, first: $first) {
    edges { node { eventId eventTime action eventSource region account sourceIpAddress errorCode
      caller { arn identityType userName } } }
  }
}`;

/** Changes to detector models: a question the newest day alone rarely answers. */
const MODEL_CHANGES = ['CreateDetectorModel', 'UpdateDetectorModel', 'DeleteDetectorModel'];

/** How many calls a window holds (the connection's totalCount alone). */
const TOTAL = `query($filter: ApiCallFilter) { apiCalls(filter: $filter, first: 1) { totalCount } }`;

/** Calls and errors per action over a window. */
const ACTIONS = `query($filter: ApiCallFilter) { actions(filter: $filter) { action eventSource calls errors } }`;

/** Callers with their calls and errors, most calls first (ties by key): one page of `$first`. */
const CALLERS = `query($filter: ApiCallFilter, $first: Int, $after: String) {
  callers(filter: $filter, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { key stats { calls errors } } }
  }
}`;
/** Page size of the by-caller question: every page is read, so a trail with more callers takes more pages. */
const CALLERS_PAGE = 50;
/** The largest page a server gives by default (MAX_PAGE_SIZE): what a client that wants every caller asks. */
const CALLERS_LARGEST_PAGE = 500;

/** The callers with most calls, each with its newest calls: a grouped list with a nested list per entry. */
const CALLER_CALLS = `query($filter: ApiCallFilter) {
  callers(filter: $filter, first: 10) {
    edges { node { key calls(first: 5) { edges { node { eventId } } } } }
  }
}`;

/** Two insight rules over the window (no baseline): root credentials used, and successful destructive changes. */
const INSIGHT_KINDS = ['ROOT_ACTIVITY', 'DESTRUCTIVE_CHANGE'] as const;
const INSIGHTS = `query($filter: ApiCallFilter, $kinds: [InsightKind!]) {
  insights(filter: $filter, kinds: $kinds, first: 500) {
    totalCount
    edges { node { kind action sourceIp { address } count firstSeen lastSeen } }
  }
}`;

/** A page of calls with, for each, its caller's and source address's statistics and a few of the caller's calls. */
const NESTED = `query($filter: ApiCallFilter, $first: Int) {
  apiCalls(filter: $filter, first: $first) {
    edges { node { eventId action
      caller { key identityType stats { calls errors lastSeen } calls(first: 3) { edges { node { eventId action } } } }
      sourceIp { address kind stats { calls distinctCallers } }
      iotEventsResources { kind name } } }
  }
}`;

// ---------------------------------------------------------------------------------------------
// Hand-written SQL: what a user would run in DuckDB over the same files

interface HandSql {
  label: string;
  sql: string;
  /** A newest-first page: the statement over the newest day alone, run first (as the service does). */
  newestDay?: string;
}

/** Day folders `yyyy/mm/dd` from the window's first day to its last plus the one-day delivery margin. */
function dayList(days: number): string[] {
  const out: string[] = [];
  for (let t = END.getTime() - days * DAY; t <= END.getTime(); t += DAY) out.push(new Date(t).toISOString().slice(0, 10).replace(/-/g, '/'));
  return out;
}

const USER_COLUMNS =
  `{'Records': 'STRUCT(eventTime VARCHAR, eventID VARCHAR, eventName VARCHAR, eventSource VARCHAR, awsRegion VARCHAR, recipientAccountId VARCHAR, ` +
  `sourceIPAddress VARCHAR, errorCode VARCHAR, userIdentity STRUCT("type" VARCHAR, arn VARCHAR, userName VARCHAR, invokedBy VARCHAR, principalId VARCHAR, accountId VARCHAR, ` +
  `onBehalfOf STRUCT(userId VARCHAR, identityStoreArn VARCHAR)))[]'}`;

/**
 * The record fields the insights question reads (the identity with its session issuer's ARN, and
 * the request and response a batch delete's entries are in).
 */
const INSIGHT_COLUMNS =
  `{'Records': 'STRUCT(eventTime VARCHAR, eventID VARCHAR, eventName VARCHAR, eventSource VARCHAR, sourceIPAddress VARCHAR, errorCode VARCHAR, requestParameters JSON, responseElements JSON, ` +
  `userIdentity STRUCT("type" VARCHAR, arn VARCHAR, invokedBy VARCHAR, principalId VARCHAR, accountId VARCHAR, sessionContext STRUCT(sessionIssuer STRUCT(arn VARCHAR)), ` +
  `onBehalfOf STRUCT(userId VARCHAR, identityStoreArn VARCHAR)))[]'}`;

/** Whether some folder matches `<AWSLogs>/<one or two levels>/CloudTrail/<region>/<day>` (DuckDB rejects a glob matching nothing). */
function hasDayFolder(logs: string, org: boolean, day: string): boolean {
  const sub = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(d, e.name)) : []);
  const accounts = org ? sub(logs).filter((d) => path.basename(d).startsWith('o-')).flatMap(sub) : sub(logs).filter((d) => /^\d{12}$/.test(path.basename(d)));
  return accounts.some((a) => sub(path.join(a, 'CloudTrail')).some((r) => fs.existsSync(path.join(r, ...day.split('/')))));
}

/**
 * The by-caller questions: `callers` reads every page of 50, `callersLargest` every page of 500,
 * `callersFirst` only the first page of 50. `...Kept`: asked of a server that keeps answers, its
 * first page fresh (`x-trailql-no-cache: 1`).
 */
const CALLER_WALKS = {
  callers: { page: CALLERS_PAGE, every: true, kept: false },
  callersKept: { page: CALLERS_PAGE, every: true, kept: true },
  callersFirst: { page: CALLERS_PAGE, every: false, kept: false },
  callersLargest: { page: CALLERS_LARGEST_PAGE, every: true, kept: false },
  callersLargestKept: { page: CALLERS_LARGEST_PAGE, every: true, kept: true },
} as const;
type CallerWalk = keyof typeof CALLER_WALKS;
const isCallerWalk = (q: Question): q is CallerWalk => q in CALLER_WALKS;
type Question = 'recent' | 'actions' | 'total' | CallerWalk | 'nested' | 'insights';
/** The hand-written SQL of a question: answers kept or not, the same SQL answers it. */
type SqlQuestion = Exclude<Question, 'callersKept' | 'callersLargest' | 'callersLargestKept'>;
/** Every page of any size gives every caller: one SQL answers them all. */
const sqlQuestion = (q: Question): SqlQuestion => (isCallerWalk(q) && CALLER_WALKS[q].every ? 'callers' : (q as SqlQuestion));
/** `floor`: the fields asked, no deduplication. `same`: the service's answer (the fields asked, one row per eventID). */
type Variant = 'floor' | 'same';

/**
 * A destructive change did something: a BatchDeleteDetector whose every entry failed (as many
 * error entries in its response as detectors in its request) deleted nothing (src/insights/rules.ts).
 */
const BATCH_DELETED_SOMETHING =
  `(eventName <> 'BatchDeleteDetector' OR coalesce(json_array_length(responseElements, '$.batchDeleteDetectorErrorEntries') < json_array_length(requestParameters, '$.detectors'), true))`;

const WHERE_SOURCES = `eventSource IN (${IOT_SOURCES.map(literal).join(', ')})`;
/**
 * The deduplication the service does over JSON, as a user would write it over the rows of files
 * read with `filename = true`: one row per eventID, the copy from the first delivery file, the
 * window tested on that copy after it (README "Duplicates").
 */
const FIRST_COPY = 'QUALIFY row_number() OVER (PARTITION BY eventID ORDER BY filename) = 1';

/**
 * The questions over a FROM item and a WHERE clause, written as a user would. `who` names the
 * identity fields as the FROM item has them (flat over JSON, `userIdentity.` over the store). For
 * the same-answer SQL over JSON the FROM item holds each call once (`FIRST_COPY`).
 */
function handQuestion(question: Question, variant: Variant, from: string, where: string, fields: string, who: (f: string) => string): HandSql {
  const label = `${question}, ${variant}`;
  // The caller key as the service makes it (src/query/fields.ts).
  const identityCenterUser = `'identity-center-user:' || ${who('onBehalfOf.identityStoreArn')} || '/' || ${who('onBehalfOf.userId')}`;
  const key = `coalesce(${who('arn')}, ${who('invokedBy')}, ${who('principalId')}, ${identityCenterUser}, 'account:' || ${who('accountId')}, 'unknown')`;
  if (question === 'recent') {
    return { label, sql: `SELECT ${fields}\nFROM ${from}\nWHERE ${where}\nORDER BY eventTime DESC, eventID DESC\nLIMIT 50` };
  }
  if (question === 'total') {
    return { label, sql: `SELECT count(*) AS calls\nFROM ${from}\nWHERE ${where}` };
  }
  if (question === 'callers' || question === 'callersFirst') {
    return {
      label,
      sql:
        `SELECT key, count(*) AS calls, count(errorCode) AS errors\nFROM (SELECT ${key} AS key, errorCode FROM ${from}\n  WHERE ${where})\nGROUP BY key\nORDER BY calls DESC, key` +
        (question === 'callersFirst' ? `\nLIMIT ${CALLERS_PAGE}` : ''),
    };
  }
  if (question === 'insights') {
    // The principal as the service makes it (src/query/fields.ts): a session's role, else the caller key.
    const issuer = who('sessionContext.sessionIssuer.arn');
    const sessions = CATEGORY_RAW_TYPES[CallerCategory.ROLE_OR_FEDERATED_SESSION].map(literal).join(', ');
    const principal = `CASE WHEN ${who('"type"')} IN (${sessions}) AND ${issuer} IS NOT NULL THEN ${issuer} ELSE ${key} END`;
    return {
      label,
      sql:
        `WITH c AS (SELECT ${principal} AS principal, ${who('"type"')} AS identityType, sourceIPAddress, eventName, errorCode, eventTime,\n` +
        `  ${BATCH_DELETED_SOMETHING} AS deletedSomething FROM ${from}\n  WHERE ${where})\n` +
        `SELECT 'ROOT_ACTIVITY' AS kind, principal, sourceIPAddress AS item, count(*) AS calls, min(eventTime) AS first_seen, max(eventTime) AS last_seen\n` +
        `FROM c WHERE identityType = 'Root' GROUP BY principal, sourceIPAddress\nUNION ALL\n` +
        `SELECT 'DESTRUCTIVE_CHANGE', principal, eventName, count(*), min(eventTime), max(eventTime)\n` +
        `FROM c WHERE errorCode IS NULL AND eventName IN (${DESTRUCTIVE_ACTIONS.map(literal).join(', ')}) AND deletedSomething GROUP BY principal, eventName`,
    };
  }
  if (question === 'nested') {
    return {
      label,
      sql:
        `WITH c AS (SELECT ${key} AS key, eventID, eventTime FROM ${from}\n  WHERE ${where}),\n` +
        `top AS (SELECT key, count(*) AS calls FROM c GROUP BY key ORDER BY calls DESC, key LIMIT 10)\n` +
        `SELECT top.key, top.calls, c.eventID\nFROM top JOIN c USING (key)\n` +
        `QUALIFY row_number() OVER (PARTITION BY top.key ORDER BY c.eventTime DESC, c.eventID DESC) <= 5\n` +
        `ORDER BY top.calls DESC, top.key, c.eventTime DESC, c.eventID DESC`,
    };
  }
  return {
    label,
    sql: `SELECT eventName, eventSource, count(*) AS calls, count(errorCode) AS errors\nFROM ${from}\nWHERE ${where}\nGROUP BY eventName, eventSource\nORDER BY calls DESC`,
  };
}

/** A newest-first page over more than two days: the service asks the newest day first, and so does the SQL. */
function withNewestDay(question: Question, days: number, make: (days: number) => HandSql): HandSql {
  const whole = make(days);
  return question === 'recent' && days > 2 ? { ...whole, newestDay: make(1).sql } : whole;
}

function handJsonSql(trailDir: string, days: number, question: Question, variant: Variant): HandSql {
  return withNewestDay(question, days, (d) => handJsonSqlOver(trailDir, d, question, variant));
}

function handJsonSqlOver(trailDir: string, days: number, question: Question, variant: Variant): HandSql {
  const logs = path.join(trailDir, 'AWSLogs');
  const globs = dayList(days).flatMap((d) => [
    ...(hasDayFolder(logs, false, d) ? [`${logs}/*/CloudTrail/*/${d}/*.json.gz`] : []),
    ...(hasDayFolder(logs, true, d) ? [`${logs}/o-*/*/CloudTrail/*/${d}/*.json.gz`] : []),
  ]);
  const w = windowOf(days);
  const window = `eventTime >= ${literal(w.from)} AND eventTime < ${literal(w.to)}`;
  const same = variant === 'same';
  const where = same ? window : `${WHERE_SOURCES}\n  AND ${window}`;
  const files = `[${globs.map(literal).join(', ')}]`;
  const read = (columns: string) => `read_json(${files},\n        columns = ${columns}, format = 'unstructured'${same ? ', filename = true' : ''})`;
  // The served sources' records, each call once (its first delivery file's copy): the window is tested after.
  const calls = (rows: string) => (same ? `(SELECT * FROM ${rows}\n  WHERE ${WHERE_SOURCES}\n  ${FIRST_COPY})` : rows);
  const fields = 'eventID, eventTime, eventName, eventSource, awsRegion, recipientAccountId, sourceIPAddress, errorCode, arn, "type", userName';
  if (question === 'insights') {
    // The session issuer's ARN is a second `arn`: the record's fields are named one by one.
    const from =
      `(SELECT r.eventID AS eventID, r.eventTime AS eventTime, r.eventName AS eventName, r.eventSource AS eventSource, r.sourceIPAddress AS sourceIPAddress, r.errorCode AS errorCode,\n` +
      `    r.requestParameters AS requestParameters, r.responseElements AS responseElements,\n` +
      `    r.userIdentity.arn AS arn, r.userIdentity."type" AS "type", r.userIdentity.invokedBy AS invokedBy, r.userIdentity.principalId AS principalId, r.userIdentity.accountId AS accountId,\n` +
      `    r.userIdentity.sessionContext.sessionIssuer.arn AS issuerArn, r.userIdentity.onBehalfOf.userId AS userId, r.userIdentity.onBehalfOf.identityStoreArn AS identityStoreArn${same ? ', filename' : ''}\n` +
      `  FROM (SELECT unnest(Records) AS r${same ? ', filename' : ''} FROM ${read(INSIGHT_COLUMNS)}))`;
    return handQuestion(question, variant, calls(from), where, fields, (f) => (f === 'sessionContext.sessionIssuer.arn' ? 'issuerArn' : f.split('.').at(-1)!));
  }
  // The asked fields are one flat struct: it unnests in one go.
  const from = `(SELECT unnest(Records, recursive := true)${same ? ', filename' : ''} FROM ${read(USER_COLUMNS)})`;
  return handQuestion(question, variant, calls(from), where, fields, (f) => f.split('.').at(-1)!);
}

/** Over the store the floor is the same answer: compaction kept each call once, so nothing is deduplicated. */
function handParquetSql(storeDir: string, days: number, question: Question): HandSql {
  return withNewestDay(question, days, (d) => handParquetSqlOver(storeDir, d, question));
}

function handParquetSqlOver(storeDir: string, days: number, question: Question): HandSql {
  const w = windowOf(days);
  const [firstDay, lastDay] = [dayList(days)[0]!.replace(/\//g, '-'), dayList(days).at(-1)!.replace(/\//g, '-')];
  const from = `read_parquet(${literal(`${storeDir}/*/*/*/*.parquet`)}, hive_partitioning = true)`;
  const where = `"day" BETWEEN ${literal(firstDay)} AND ${literal(lastDay)}\n  AND ${WHERE_SOURCES}\n  AND eventTime >= ${literal(w.from)} AND eventTime < ${literal(w.to)}`;
  return handQuestion(
    question,
    'floor',
    from,
    where,
    'eventID, eventTime, eventName, eventSource, awsRegion, recipientAccountId, sourceIPAddress, errorCode,\n  userIdentity.arn, userIdentity."type", userIdentity.userName',
    (f) => `userIdentity.${f}`,
  );
}

const QUESTION_NAMES: Record<Question, string> = {
  recent: 'recent 50 calls',
  actions: 'calls per action',
  total: 'totalCount',
  callers: 'calls by caller, every page',
  callersKept: 'calls by caller, every page, answers kept (first page fresh)',
  callersFirst: `calls by caller, first page of ${CALLERS_PAGE}`,
  callersLargest: `calls by caller, every page of ${CALLERS_LARGEST_PAGE}`,
  callersLargestKept: `calls by caller, every page of ${CALLERS_LARGEST_PAGE}, answers kept (first page fresh)`,
  nested: 'top 10 callers, 5 newest calls each',
  insights: 'insights: root activity and destructive changes',
};

/** An answer reduced to comparable values, in its order. */
type Answer = unknown[][];

interface GraphqlRun {
  answer: Answer;
  /** Rows of the answer (edges, entries or 1). */
  rows: number;
  pages: number;
  engineQueries: number;
  /** A walk's pages after its first: what each was asked with and the `callers` it answered. */
  laterPages?: LaterPage[];
}

interface LaterPage {
  first: number;
  after: string;
  data: unknown;
}

type Edges<T> = { edges: { node: T }[] };

/** Time per way a question's runs may take, which sets how many runs it gets (`--reps` to five times that). */
const RUN_BUDGET_MS = 20_000;

/**
 * A walk's later requests sent to a bare Apollo Server 5 given their pages (`keepCallerPages`),
 * one after another, as the walk sent them to trailql: the same document, variables and answers.
 */
async function askLaterPages(url: string, filter: Record<string, string>, pages: readonly LaterPage[]): Promise<void> {
  for (const { first, after } of pages) {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: CALLERS, variables: { filter, first, after } }) });
    const body = (await res.json()) as { data?: { callers?: unknown } };
    if (res.status !== 200 || !body.data?.callers) throw new Error(`bare Apollo answered ${res.status} without the page after ${after}`);
  }
}

/** One question through the HTTP server; the by-caller question reads every page. */
async function askGraphql(url: string, question: Question, days: number): Promise<GraphqlRun> {
  const filter = windowOf(days);
  if (isCallerWalk(question)) {
    const walk = CALLER_WALKS[question];
    const answer: Answer = [];
    let after: string | null = null;
    let pages = 0;
    let engineQueries = 0;
    const laterPages: LaterPage[] = [];
    do {
      type Page = { callers: Edges<{ key: string; stats: { calls: number; errors: number } }> & { pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
      // Answers kept: the first page is computed afresh (and kept), the next ones may use it.
      const fresh: Record<string, string> = walk.kept && after === null ? { [NO_CACHE_HEADER]: '1' } : {};
      const r: { data: Page; cost: Cost | undefined } = await gql<Page>(url, CALLERS, { filter, first: walk.page, after }, fresh);
      pages += 1;
      engineQueries += r.cost!.totals.engineQueries;
      if (after !== null) laterPages.push({ first: walk.page, after, data: r.data.callers });
      answer.push(...r.data.callers.edges.map((e) => [e.node.key, e.node.stats.calls, e.node.stats.errors]));
      after = walk.every && r.data.callers.pageInfo.hasNextPage ? r.data.callers.pageInfo.endCursor : null;
    } while (after);
    return { answer, rows: answer.length, pages, engineQueries, laterPages };
  }
  if (question === 'insights') {
    type Found = { kind: string; action: string | null; sourceIp: { address: string } | null; count: number; firstSeen: string; lastSeen: string };
    const r = await gql<{ insights: Edges<Found> & { totalCount: number } }>(url, INSIGHTS, { filter, kinds: INSIGHT_KINDS });
    const answer: Answer = r.data.insights.edges.map(({ node: n }) => [n.kind, n.kind === 'ROOT_ACTIVITY' ? (n.sourceIp?.address ?? null) : n.action, n.count, sameTime(n.firstSeen), sameTime(n.lastSeen)]);
    if (r.data.insights.totalCount !== answer.length) throw new Error(`insights: ${r.data.insights.totalCount} found, ${answer.length} on the page`);
    return { answer, rows: answer.length, pages: 1, engineQueries: r.cost!.totals.engineQueries };
  }
  const query = { recent: RECENT, actions: ACTIONS, total: TOTAL, nested: CALLER_CALLS }[question];
  const r = await gql<Record<string, unknown>>(url, query, { filter, first: 50 });
  const d = r.data as {
    apiCalls?: Edges<{ eventId: string }> & { totalCount?: number };
    actions?: { action: string; eventSource: string; calls: number; errors: number }[];
    callers?: Edges<{ key: string; calls: Edges<{ eventId: string }> }>;
  };
  const answer: Answer =
    question === 'recent'
      ? d.apiCalls!.edges.map((e) => [e.node.eventId])
      : question === 'total'
        ? [[d.apiCalls!.totalCount]]
        : question === 'actions'
          ? d.actions!.map((a) => [a.action, a.eventSource, a.calls, a.errors])
          : d.callers!.edges.flatMap((e) => e.node.calls.edges.map((c) => [e.node.key, c.node.eventId]));
  const rows = question === 'nested' ? d.callers!.edges.length : question === 'total' ? 1 : answer.length;
  return { answer, rows, pages: 1, engineQueries: r.cost!.totals.engineQueries };
}

/** Hand-written SQL; a newest-first page reads the newest day first and the window only when that day cannot fill it. */
async function runHand(hand: DuckDBConnection, q: HandSql): Promise<unknown[][]> {
  if (q.newestDay) {
    const newest = (await hand.runAndReadAll(q.newestDay)).getRows();
    if (newest.length >= 50) return newest;
  }
  return (await hand.runAndReadAll(q.sql)).getRows();
}

/** A time as one text, however it was written. */
const sameTime = (t: string) => new Date(t).toISOString();

/** Whether GraphQL gave what the same-answer SQL gives. */
function sameAnswer(question: Question, answer: Answer, handRows: unknown[][]): boolean {
  const plain = (v: unknown) => (typeof v === 'bigint' ? Number(v) : v);
  const sql: Answer =
    question === 'recent'
      ? handRows.map((r) => [r[0]])
      : question === 'nested'
        ? handRows.map((r) => [r[0], r[2]])
        : question === 'insights'
          ? handRows.map((r) => [r[0], r[2], plain(r[3]), sameTime(String(r[4])), sameTime(String(r[5]))])
          : handRows.map((r) => r.map(plain));
  // Per-action lists and findings have no order to compare (ties, and findings ordered by severity).
  const text = (a: Answer) => (question === 'actions' || question === 'insights' ? a.map((r) => JSON.stringify(r)).sort() : a.map((r) => JSON.stringify(r)));
  return JSON.stringify(text(answer)) === JSON.stringify(text(sql));
}

/** Keeps long glob lists short in the report. */
function shortSql(sql: string, trailDir: string): string {
  return sql
    .replace(/\[('[^']*', ){3,}'[^']*'\]/, (m) => {
      const items = m.slice(1, -1).split(', ');
      return `[${items.slice(0, 2).join(', ')},\n        ... ${items.length - 3} more day-folder globs ...,\n        ${items.at(-1)}]`;
    })
    .split(trailDir)
    .join('<trail>');
}

// ---------------------------------------------------------------------------------------------
// The run

interface Figure1Row {
  store: string;
  question: string;
  window: number;
  graphqlMs: number;
  graphqlRange: [number, number];
  /** Hand-written SQL: needed columns, no deduplication (the floor). */
  handMs: number;
  handRange: [number, number];
  /** Hand-written SQL giving the service's answer: over JSON deduplicated (one row per eventId). */
  sameMs: number;
  runs: number;
  engineQueries: number;
  /** GraphQL requests per answer (the by-caller question reads every page). */
  pages: number;
  /**
   * A walk of more than one page: the requests after the first (`pages - 1`) sent to a bare Apollo
   * Server 5 answering each with the page trailql gave, one after another, median and range of the
   * runs. Added to the same-answer SQL it is the walk's ceiling: what the requests alone cost.
   */
  bareRequestsMs?: number;
  bareRequestsRange?: [number, number];
  /** GraphQL's answer equals the same-answer SQL's, value for value. */
  sameAnswer: boolean;
  /** GraphQL and the floor SQL gave as many rows. */
  sameRows: boolean;
}

interface Figure2Row {
  window: number;
  store: string;
  question: string;
  ms: number;
  runs: number;
  files: number;
  bytes: number;
  engineMs: number;
  peakRss: number;
}

interface Figure3Row {
  scenario: string;
  /** One per run: requests answered, req/s, latency, the server's CPU per request (µs). */
  runs: { requests: number; rps: number; p50: number; p99: number; cpuUs: number }[];
  /** Answered from the cache / engine runs over all runs (the service only). */
  hits?: number;
  engineRuns?: number;
  /** The ceiling: bare Apollo Server 5 returning the same rows. */
  ceiling?: boolean;
}

interface Figure4Row {
  page: number;
  store: string;
  ms: number;
  engineQueries: number;
  labels: string;
  edges: number;
  naive: number;
}

async function main(): Promise<number> {
  let o: Options | 'help';
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const opts = o;
  const started = performance.now();
  const loadStart = os.loadavg();
  const steps = new ProgressLine('bench');
  const note = (text: string) => steps.note(text);

  const trail = await ensureTrail(opts);
  const storeDir = defaultStoreDir(trail.dir);

  // Compaction: from scratch (timed), then an incremental run that finds nothing to do.
  fs.rmSync(storeDir, { recursive: true, force: true });
  const compactLine = new ProgressLine('compacting');
  const compacted: CompactResult = await compactTrail({
    trailDir: trail.dir,
    eventSources: IOT_SOURCES,
    onProgress: (p) => compactLine.update(p.files, p.totalFiles, 'files', p.elapsedMs, `${p.days}/${p.totalDays} days`),
  });
  compactLine.done();
  if (compacted.failed.length) throw new Error(`compaction failed: ${JSON.stringify(compacted.failed.slice(0, 3))}`);
  const incremental = await compactTrail({ trailDir: trail.dir, eventSources: IOT_SOURCES });
  // Its ceiling, in the same run: a hand-written COPY of the same records, in rounds taking turns with compaction from scratch.
  const copyWork = path.join(opts.out, 'compact-vs-copy');
  const vsCopy = await compactAgainstCopy({
    trailDir: trail.dir,
    workDir: copyWork,
    eventSources: IOT_SOURCES,
    rounds: opts.reps,
    onRound: (i) => note(`compaction against a hand COPY: round ${i + 1} of ${opts.reps}`),
  }).finally(() => fs.rmSync(copyWork, { recursive: true, force: true }));
  process.stderr.write(`compaction from scratch ${fmt(median(vsCopy.compactMs))} ms, hand COPY ${fmt(median(vsCopy.copyMs))} ms (medians of ${opts.reps})\n`);

  // Neither keeps answers nor a reading of JSON files between requests (a request still reads its files once for all its
  // statements): each request reads its files, as the hand-written SQL does.
  const json = await startServer(trail.dir, { PARQUET_ENABLED: 'false', SHARED_SCAN_KEEP_SECONDS: '0' }, false);
  const parquet = await startServer(trail.dir, { SHARED_SCAN_KEEP_SECONDS: '0' }, false);
  // The same two keeping answers and readings, as deployed, for the by-caller walk whose later pages may reuse the first's.
  const kept = { JSON: await startServer(trail.dir, { PARQUET_ENABLED: 'false' }, true), Parquet: await startServer(trail.dir, {}, true) };
  // Each server's own memory, read from /proc: the JSON and Parquet servers right after start.
  const baselineRss = { JSON: procMemory(json.pid, 'VmRSS'), Parquet: procMemory(parquet.pid, 'VmRSS') };
  const serverPeaks: { server: string; peak: number }[] = [];
  const handDb = await DuckDBInstance.create(':memory:');
  const hand = await DuckDBConnection.create(handDb);
  const duckdbVersion = String((await hand.runAndReadAll('SELECT version()')).getRows()[0]?.[0]);

  const fig1: Figure1Row[] = [];
  const fig2: Figure2Row[] = [];
  const fig3: Figure3Row[] = [];
  const fig4: Figure4Row[] = [];
  const handSql: { store: string; sql: HandSql }[] = [];

  try {
    // 2 and 5. Pruning and memory: windows of 1, 7 and 30 days, Parquet first, then JSON (each
    // server's memory is its own process's).
    for (const [store, server] of [
      ['Parquet', parquet],
      ['JSON', json],
    ] as const) {
      for (const days of WINDOW_DAYS) {
        if (days > opts.params.days) continue;
        for (const [question, query, vars] of [
          ['recent 50 calls', RECENT, { first: 50 }],
          ['calls per action', ACTIONS, {}],
          // Too few in the newest day to fill the page: the whole window is read.
          ['recent 50 detector-model changes', RECENT, { first: 50, filter: { actions: MODEL_CHANGES } }],
        ] as const) {
          const variables = { ...vars, filter: { ...windowOf(days), ...('filter' in vars ? vars.filter : {}) } };
          const runs = opts.reps;
          const times: number[] = [];
          let files = 0;
          let bytes = 0;
          let engineMs = 0;
          let peakRss = 0;
          // One untimed run first (the OS cache, DuckDB's kept footers); its memory peak still counts.
          note(`pruning: ${days}-day window, ${store}, ${question} (untimed)`);
          peakRss = (await withPeakRss(server.pid, () => gql(server.url, query, variables))).peakRss;
          for (let i = 0; i < runs; i++) {
            note(`pruning: ${days}-day window, ${store}, ${question} (${i + 1}/${runs})`);
            const r = await withPeakRss(server.pid, () => timed(() => gql(server.url, query, variables)));
            times.push(r.value.ms);
            const cost = r.value.value.cost!;
            files = cost.queries.reduce((a, q) => a + (q.files ?? 0), 0);
            bytes = cost.totals.bytesScanned;
            engineMs = cost.totals.engineMs;
            peakRss = Math.max(peakRss, r.peakRss);
          }
          fig2.push({ window: days, store, question, ms: median(times), runs, files, bytes, engineMs, peakRss });
        }
      }
    }

    // 1. GraphQL over HTTP versus hand-written SQL on the same files: 7- and 30-day windows. Each
    // way runs its timed runs in one block after an untimed one (the three read the same files;
    // whichever ran first would pay for the OS cache, and a heavy neighbour must not slow the next).
    const f1days = Math.min(7, opts.params.days);
    const fig1Windows = [...new Set([f1days, Math.min(30, opts.params.days)])];
    // A walk's ceiling: its later requests, answered by a bare Apollo Server 5 with the pages
    // trailql gave (sent to it before the walk is timed); it answers nothing else here.
    const nothingFile = path.join(opts.out, 'bare-nothing.json');
    fs.writeFileSync(nothingFile, JSON.stringify({ apiCalls: null }));
    const bareCeiling = await startBareServer(nothingFile);
    try {
      for (const [store, server] of [
        ['Parquet', parquet],
        ['JSON', json],
      ] as const) {
        for (const days of fig1Windows) {
          const questions = ['recent', 'actions', 'total', 'callersFirst', 'callers', 'callersKept', 'callersLargest', 'callersLargestKept', 'nested', 'insights'] as const;
          for (const question of questions) {
            const q = sqlQuestion(question);
            const floor = store === 'JSON' ? handJsonSql(trail.dir, days, q, 'floor') : handParquetSql(storeDir, days, q);
            const same = store === 'JSON' ? handJsonSql(trail.dir, days, q, 'same') : floor;
            if (days === f1days && q === question) handSql.push(...(store === 'JSON' ? [{ store, sql: floor }, { store, sql: same }] : [{ store, sql: floor }]));
            const label = `GraphQL vs SQL: ${store}, ${days} d, ${question}`;
            // A server answers for a long time: its first requests also compile the service's
            // JavaScript. Untimed runs first measure the steady state (one for the SQL: DuckDB is native).
            // Then the ways run in rounds, each round in another order (GraphQL first, then the floor
            // SQL first, ...), so that every way sees the machine alike.
            type Timed = { ms: number; range: [number, number]; last: unknown };
            const measure = async (ways: readonly (() => Promise<unknown>)[], runs: number): Promise<Timed[]> => {
              const times: number[][] = ways.map(() => []);
              const last: unknown[] = [];
              for (let i = 0; i < runs; i++) {
                note(`${label} (${i + 1}/${runs})`);
                for (let k = 0; k < ways.length; k++) {
                  const w = (i + k) % ways.length;
                  const r = await timed(ways[w]!);
                  times[w]!.push(r.ms);
                  last[w] = r.value;
                }
              }
              return times.map((xs, w) => ({ ms: median(xs), range: [Math.min(...xs), Math.max(...xs)], last: last[w] }));
            };
            const graphql = () => askGraphql(isCallerWalk(question) && CALLER_WALKS[question].kept ? kept[store].url : server.url, question, days);
            const floorRun = () => runHand(hand, floor);
            const sameRun = () => runHand(hand, same);
            let untimed: { ms: number; pages: number; laterPages: readonly LaterPage[] } = { ms: 0, pages: 1, laterPages: [] };
            for (let i = 0; i < (store === 'Parquet' ? 5 : 1); i++) {
              const r = await timed(graphql);
              untimed = { ms: r.ms, pages: r.value.pages, laterPages: r.value.laterPages ?? [] };
            }
            await floorRun();
            await sameRun();
            // As many runs as fit a budget of time per way, from `--reps` (a question of seconds)
            // to five times that (of milliseconds): the cheap questions' medians are steadied at
            // little cost.
            const runs = Math.min(opts.reps * 5, Math.max(opts.reps, Math.round(RUN_BUDGET_MS / Math.max(1, untimed.ms))));
            // The requests of a walk after its first, to a bare Apollo answering them as trailql did: its ceiling.
            const later = untimed.laterPages.length;
            if (later > 0) await keepCallerPages(bareCeiling, untimed.laterPages);
            const bareRun = () => askLaterPages(bareCeiling.url, windowOf(days), untimed.laterPages);
            const ways: (() => Promise<unknown>)[] = [graphql, floorRun, ...(same === floor ? [] : [sameRun]), ...(later > 0 ? [bareRun] : [])];
            const timedWays = await measure(ways, runs);
            const at = (way: () => Promise<unknown>) => timedWays[ways.indexOf(way)];
            const g = { ...at(graphql)!, last: at(graphql)!.last as GraphqlRun };
            const f = { ...at(floorRun)!, last: at(floorRun)!.last as unknown[][] };
            const sm = same === floor ? f : { ...at(sameRun)!, last: at(sameRun)!.last as unknown[][] };
            const bareRequests = later > 0 ? at(bareRun) : undefined;
            fig1.push({
              store,
              question: QUESTION_NAMES[question],
              window: days,
              graphqlMs: g.ms,
              graphqlRange: g.range,
              handMs: f.ms,
              handRange: f.range,
              sameMs: sm.ms,
              runs,
              engineQueries: g.last.engineQueries,
              pages: g.last.pages,
              ...(bareRequests ? { bareRequestsMs: bareRequests.ms, bareRequestsRange: bareRequests.range } : {}),
              // Over the store the floor is the same answer; over JSON the floor may count a call delivered twice twice.
              sameAnswer: sameAnswer(q, g.last.answer, sm.last),
              sameRows: g.last.rows === f.last.length,
            });
          }
        }
      }
    } finally {
      serverPeaks.push({ server: 'bare Apollo Server 5, the ceiling of section 1\'s walks', peak: procMemory(bareCeiling.pid, 'VmHWM') });
      await bareCeiling.close();
      fs.rmSync(nothingFile, { force: true });
    }

    // 4. Engine queries per request for nested queries (Parquet, 7-day window, no cache).
    for (const n of [10, 100, 500]) {
      note(`nested queries: page of ${n}`);
      const r = await timed(() => gql<{ apiCalls: { edges: unknown[] } }>(parquet.url, NESTED, { filter: windowOf(f1days), first: n }));
      const cost = r.value.cost!;
      const labels = [...new Set(cost.queries.map((q) => q.label))].sort().join(', ');
      const edges = r.value.data.apiCalls.edges.length;
      fig4.push({ page: n, store: 'Parquet', ms: r.ms, engineQueries: cost.totals.engineQueries, labels, edges, naive: 1 + edges * 3 });
    }

    // 3. Answer cache: a hit against its ceiling (bare Apollo Server 5 returning the same rows), in
    // rounds taking turns, then a miss; autocannon in a process of its own.
    const cached = await startServer(trail.dir, {}, true);
    const answerFile = path.join(opts.out, 'cache-answer.json');
    let bare: BenchServer | undefined;
    try {
      const variables = { filter: windowOf(1), first: 50 };
      const body = JSON.stringify({ query: RECENT, variables });
      const hitCheck = await gql(cached.url, RECENT, variables);
      fs.writeFileSync(answerFile, JSON.stringify(hitCheck.data));
      bare = await startBareServer(answerFile);
      const bareServer = bare;
      const hit: Figure3Row = { scenario: 'cache hit (whole answer kept in the process)', runs: [], hits: 0, engineRuns: 0 };
      const ceiling: Figure3Row = { scenario: 'bare Apollo Server 5 (standalone) returning the same rows: the ceiling', runs: [], ceiling: true };
      const miss: Figure3Row = { scenario: 'cache miss (`x-trailql-no-cache: 1`, engine every time)', runs: [], hits: 0, engineRuns: 0 };
      // Both answer the same data, and the service's check request is a hit (its miss, a miss); then both warm up.
      for (let i = 0; i < 200; i += 1) {
        const [mine, theirs] = [await gql(cached.url, RECENT, variables), await gql(bareServer.url, RECENT, variables, {})];
        if (JSON.stringify(mine.data) !== JSON.stringify(theirs.data)) throw new Error('the bare server answers differently');
        if (mine.cost!.totals.cacheHits !== 1) throw new Error('cache hit: the check request was not a cache hit');
      }
      if ((await gql(cached.url, RECENT, variables, { [NO_CACHE_HEADER]: '1' })).cost!.totals.cacheHits !== 0) throw new Error('cache miss: the check request was a cache hit');
      const run = async (row: Figure3Row, url: string, pid: number | undefined, headers: Record<string, string>, stats?: () => Promise<CacheStats>) => {
        note(`cache: ${row.scenario}, ${opts.duration} s`);
        const before = await stats?.();
        const cpuBefore = cpuUs(pid);
        const r: LoadRun = await autocannonProcess({ url, headers: { ...HEADERS, ...headers }, body, connections: opts.connections, duration: opts.duration });
        const cpu = cpuUs(pid) - cpuBefore;
        const after = await stats?.();
        row.runs.push({ requests: r.requests.total, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpuUs: cpu / Math.max(1, r.requests.total) });
        if (before && after) {
          row.hits! += after.hits - before.hits + (after.coalesced - before.coalesced);
          row.engineRuns! += after.misses - before.misses + (after.bypassed - before.bypassed);
        }
      };
      for (let round = 0; round < opts.reps; round += 1) {
        const pair = [() => run(hit, cached.url, cached.pid, {}, cached.stats), () => run(ceiling, bareServer.url, bareServer.pid, {})];
        for (const go of round % 2 === 0 ? pair : pair.reverse()) await go();
      }
      await run(miss, cached.url, cached.pid, { [NO_CACHE_HEADER]: '1' }, cached.stats);
      fig3.push(hit, ceiling, miss);
    } finally {
      serverPeaks.push({ server: 'with the in-process cache (section 3)', peak: procMemory(cached.pid, 'VmHWM') });
      if (bare) serverPeaks.push({ server: 'bare Apollo Server 5, the ceiling of section 3', peak: procMemory(bare.pid, 'VmHWM') });
      await cached.close();
      await bare?.close();
      fs.rmSync(answerFile, { force: true });
    }
  } finally {
    serverPeaks.push({ server: 'JSON (no store)', peak: procMemory(json.pid, 'VmHWM') }, { server: 'Parquet store', peak: procMemory(parquet.pid, 'VmHWM') });
    steps.done();
    hand.closeSync();
    handDb.closeSync();
    await json.close();
    await parquet.close();
    await kept.JSON.close();
    await kept.Parquet.close();
  }

  const totalMs = performance.now() - started;
  const report = render({ opts, trail, compacted, incremental, vsCopy, duckdbVersion, fig1, fig2, fig3, fig4, handSql, baselineRss, serverPeaks, totalMs, loadStart, loadEnd: os.loadavg() });
  if (opts.results !== '-') {
    fs.writeFileSync(opts.results, report);
    process.stderr.write(`results written to ${path.relative(process.cwd(), opts.results) || opts.results}\n`);
  }
  process.stdout.write(report);
  if (!opts.keep) fs.rmSync(opts.out, { recursive: true, force: true });
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The report

interface ReportInput {
  opts: Options;
  trail: TrailInfo;
  compacted: CompactResult;
  incremental: CompactResult;
  vsCopy: CompactVsCopy;
  duckdbVersion: string;
  fig1: Figure1Row[];
  fig2: Figure2Row[];
  fig3: Figure3Row[];
  fig4: Figure4Row[];
  handSql: { store: string; sql: HandSql }[];
  baselineRss: { JSON: number; Parquet: number };
  serverPeaks: { server: string; peak: number }[];
  totalMs: number;
  loadStart: number[];
  loadEnd: number[];
}

/** The command that reproduces the run: the size and timing flags that differ from the defaults. */
function commandLine(o: Options): string {
  const d = parseOptions([]) as Options;
  const flags: string[] = [];
  const add = (name: string, v: number, dv: number) => {
    if (v !== dv) flags.push(`--${name} ${v}`);
  };
  add('days', o.params.days, d.params.days);
  add('regions', o.params.regions, d.params.regions);
  add('accounts', o.params.accounts, d.params.accounts);
  add('iot-per-day', o.params.iotPerDay, d.params.iotPerDay);
  add('other-per-iot', o.params.otherPerIot, d.params.otherPerIot);
  add('seed', o.params.seed, d.params.seed);
  add('reps', o.reps, d.reps);
  add('duration', o.duration, d.duration);
  add('connections', o.connections, d.connections);
  return `npm run bench${flags.length ? ` -- ${flags.join(' ')}` : ''}`;
}

function table(head: string[], rows: (string | number)[][]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

const compactRatio = (v: CompactVsCopy) => median(v.compactMs) / median(v.copyMs);

function render(r: ReportInput): string {
  const { opts, trail, compacted, incremental } = r;
  const p = opts.params;
  const command = commandLine(opts);
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  const out: string[] = [];
  const line = (s = '') => out.push(s);

  line('# trailql benchmark results');
  line();
  line(`Produced by \`${command}\` (bench/run.ts) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; the whole run took ${fmt(r.totalMs / 60000, 1)} min.`);
  line('Every figure below comes from that one run; run the same command to reproduce it.');
  line();
  line('## Machine');
  line();
  line(`- CPU: ${cpu}; \`nproc\` = ${os.availableParallelism()}; memory ${fmt(os.totalmem() / 2 ** 30, 1)} GiB`);
  line(`- ${os.type()} ${os.release()}; Node ${process.version}; DuckDB ${r.duckdbVersion} (@duckdb/node-api); DuckDB threads: all cores`);
  line(`- Load average (1, 5, 15 min) at the start: ${r.loadStart.map((l) => fmt(l, 2)).join(', ')}; at the end: ${r.loadEnd.map((l) => fmt(l, 2)).join(', ')}`);
  line();
  line('## Trail');
  line();
  line(
    `${p.days} days ending ${END.toISOString()}, ${p.regions} regions (${trail.regions.join(', ')}), ${p.accounts} accounts ` +
      `(${trail.accounts.join(', ')}${p.accounts >= 2 ? `; ${ORG.account} through organization trail ${ORG.orgId}` : ''}), ` +
      `${p.iotPerDay} IoT Events calls per account, region and day, ${p.otherPerIot} other records per IoT Events call, seed ${p.seed}.`,
  );
  line();
  out.push(
    ...table(
      ['log files (json.gz)', 'size on disk', 'records', 'IoT Events records', 'IoT Events share', 'generated in'],
      [
        [
          fmt(trail.files),
          `${mib(trail.bytes)} MiB`,
          fmt(trail.records),
          fmt(trail.iotRecords),
          `${fmt((100 * trail.iotRecords) / Math.max(1, trail.records), 1)} %`,
          trail.reused ? 'reused from bench/.data' : `${fmt(trail.generateMs / 1000, 1)} s`,
        ],
      ],
    ),
  );
  line();
  line('Equivalent generator command: `npm run sample -- --out bench/.data/trail --days ' +
    `${p.days} --end ${END.toISOString()} --seed ${p.seed} --regions ${trail.regions.join(',')} --accounts ${trail.accounts.slice(0, p.accounts >= 2 ? -1 : undefined).join(',')}` +
    `${p.accounts >= 2 ? ` --org-id ${ORG.orgId} --org-account ${ORG.account}` : ' --no-org'} --iot-per-day ${p.iotPerDay} --other-per-iot ${p.otherPerIot}\`.`);
  line();
  line('## Columnar store (`npm run compact`)');
  line();
  out.push(
    ...table(
      ['run', 'days (account/region/day)', 'written', 'JSON files compacted', 'records written', 'repeated deliveries left out', 'Parquet size', 'time'],
      [
        ['from scratch', fmt(compacted.days), fmt(compacted.compacted.length), fmt(compacted.sourceFiles), fmt(compacted.records), fmt(compacted.duplicates), `${mib(compacted.parquetBytes)} MiB`, `${fmt(compacted.ms / 1000, 1)} s`],
        ['again, nothing changed', fmt(incremental.days), fmt(incremental.compacted.length), fmt(incremental.sourceFiles), fmt(incremental.records), fmt(incremental.duplicates), '-', `${fmt(incremental.ms / 1000, 1)} s`],
      ],
    ),
  );
  line();
  line(`Command: \`TRAIL_DIR=bench/.data/trail npm run compact\` (only the configured event sources: ${IOT_SOURCES.join(', ')}).`);
  line();
  const { vsCopy } = r;
  line(
    `Against its ceiling, in this run: compaction from scratch (\`force\`: every day rewritten, repeated deliveries left out, manifests written; ${fmt(vsCopy.partitions)} partitions, ${fmt(vsCopy.records)} records) ` +
      `and one hand-written \`COPY (SELECT ... FROM <the service's JSON reader over the ${fmt(vsCopy.files)} record files>) TO ... (FORMAT parquet, PARTITION_BY (account, region, day))\` ` +
      `of the same event sources and columns, without deduplication (${fmt(vsCopy.copied)} records), each into a scratch folder, ${vsCopy.compactMs.length} rounds taking turns to go first; seconds, median (min–max). ` +
      'The same over a smaller trail alone: `npx ts-node --transpile-only bench/compact-copy.bench.ts` (bench/results/compact-copy.md).',
  );
  line();
  const secs = (xs: number[]) => `${fmt(median(xs) / 1000, 2)} (${fmt(Math.min(...xs) / 1000, 2)}–${fmt(Math.max(...xs) / 1000, 2)})`;
  out.push(
    ...table(
      ['way', 'seconds', 'vs COPY'],
      [
        ['compaction from scratch', secs(vsCopy.compactMs), `${fmt(compactRatio(vsCopy), 2)}×`],
        ['hand COPY', secs(vsCopy.copyMs), '1.00×'],
      ],
    ),
  );
  line();

  // Figure 1
  line('## 1. GraphQL over HTTP versus hand-written DuckDB SQL');
  line();
  line(
    'The same question, same window, same files, three ways: through the HTTP server (GraphQL, a server process of its own); as the SQL a user would type into ' +
      'DuckDB for the fields asked, without deduplication (the floor for this engine); and as that SQL with the deduplication the ' +
      'service does over JSON (the files read with `filename = true`, the served sources\' records, `QUALIFY row_number() OVER (PARTITION BY eventID ORDER BY filename) = 1`, ' +
      'then the window: CloudTrail delivers at least once, and the service counts a call delivered twice once, as its copy from the first delivery file, ' +
      'testing its filters on that copy), which gives the service\'s answer: "same answer" says whether GraphQL\'s answer equals it value for value. ' +
      'Over the store the floor SQL already gives the same answer (compaction kept each call once), so it is not deduplicated there. ' +
      'For a newest-first page over more than two days the SQL, like the service, reads the newest day first and the whole window only when that day cannot fill the page. ' +
      '`totalCount` is asked alone (`first: 1`); "calls by caller" reads every page of ' + `${CALLERS_PAGE}` + ' (one request per page, the SQL answers all at once), ' +
      `or of ${CALLERS_LARGEST_PAGE}, the largest page a server gives by default (what a client that wants every caller asks), or only the first page of ${CALLERS_PAGE} (its SQL ends in \`LIMIT ${CALLERS_PAGE}\`); ` +
      '"top 10 callers" is a grouped list with a nested list of each caller\'s 5 newest calls (the service answers both with one statement, as the SQL does); "insights" asks two rules over the window (root credentials used, successful destructive changes; the service answers both with one statement, as the SQL does), ' +
      'and the findings are compared by kind, address or action, count, first and last call. Each way runs untimed first (GraphQL over Parquet five times: a server ' +
      'answers for a long time, and its first requests also compile its JavaScript; the rest once). Then the ways run in rounds, ' +
      'one run of each per round, each round in another order (GraphQL first, then the floor SQL first, and so on), so that all see the machine alike; ' +
      'medians with (min–max). Each question gets as many runs as fit ' + `${RUN_BUDGET_MS / 1000} s per way (from its untimed run), at least ${'`--reps`'} and at most five times that. ` +
      'The target (≤ 1.2×) is against the SQL giving the same answer. A walk of more than one page also has a ceiling, run in the same run: ' +
      'the same-answer SQL plus the walk\'s later requests (the same document and variables) sent, one after another, to a bare Apollo Server 5 (its standalone server, a process of its own) ' +
      'whose resolver returns the page the service gave for each (the same rows and cursors, so the same bytes): what the requests alone cost, whatever a service does for them. ' +
      'The SQL runs in a DuckDB instance in the bench process, using all cores, as the server\'s does. ' +
      'The servers keep no answer and no reading of JSON files between requests (`CACHE_ENABLED=false`, `SHARED_SCAN_KEEP_SECONDS=0`): each request reads its files, as each SQL run does ' +
      '(the statements of one request share one reading, docs/operations.md), except that the later pages of a walk of callers are cut from the list its first page read, which a server keeps for the walk whether it keeps answers or not (`WALK_KEEP_SECONDS`, README "Ask it something": a late file must not make a walk meet a caller twice or never); ' +
      'the "answers kept" rows ask servers as deployed (answers and readings kept), their first page fresh (`x-trailql-no-cache: 1`).',
  );
  line();
  out.push(
    ...table(
      ['store', 'window', 'question', 'GraphQL (ms)', 'SQL, floor (ms)', 'GraphQL / floor', 'SQL, same answer (ms)', 'GraphQL / same answer', 'requests', 'ceiling: same-answer SQL + later requests on bare Apollo (ms)', 'GraphQL / ceiling', 'engine queries', 'runs', 'same answer'],
      r.fig1.map((x) => [
        x.store,
        `${x.window} d`,
        x.question,
        `${ms(x.graphqlMs)} (${ms(x.graphqlRange[0])}–${ms(x.graphqlRange[1])})`,
        `${ms(x.handMs)} (${ms(x.handRange[0])}–${ms(x.handRange[1])})`,
        `${fmt(x.graphqlMs / x.handMs, 2)}×`,
        ms(x.sameMs),
        `${fmt(x.graphqlMs / x.sameMs, 2)}×`,
        x.pages,
        x.bareRequestsMs === undefined ? '–' : `${ms(x.sameMs + x.bareRequestsMs)} (requests ${ms(x.bareRequestsMs)}, ${ms(x.bareRequestsRange![0])}–${ms(x.bareRequestsRange![1])})`,
        x.bareRequestsMs === undefined ? '–' : `${fmt(x.graphqlMs / (x.sameMs + x.bareRequestsMs), 2)}×`,
        x.engineQueries,
        x.runs,
        x.sameAnswer ? 'yes' : x.sameRows ? 'no (same row count)' : 'no',
      ]),
    ),
  );
  line();
  line('<details><summary>The hand-written SQL</summary>');
  line();
  for (const h of r.handSql) {
    line(`${h.store}, ${h.sql.label}:`);
    line();
    if (h.sql.newestDay) {
      line('First over the newest day alone; the statement over the whole window runs only when that day has fewer than 50 rows:');
      line();
      line('```sql');
      line(shortSql(h.sql.newestDay, trail.dir));
      line('```');
      line();
    }
    line('```sql');
    line(shortSql(h.sql.sql, trail.dir));
    line('```');
    line();
  }
  line('</details>');
  line();

  // Figure 2
  line('## 2. Pruning: 1-, 7- and 30-day windows');
  line();
  line(
    `The trail holds ${fmt(trail.files)} JSON files (${mib(trail.bytes)} MiB) and ${fmt(compacted.compacted.length)} Parquet partitions. ` +
      'Each window ends at the end of the trail and opens its day folders plus one day of delivery margin; a newest-first page ' +
      'asks the newest day first and stops there when that day fills it, so its files stay those of one day whatever the window, ' +
      'while the per-action counts read the whole window. Time is the whole HTTP request ' +
      '(median of the runs); files and bytes are what the engine opened, from the response\'s cost report, summed over the ' +
      'request\'s engine queries.',
  );
  line();
  const speedup = (x: Figure2Row) => {
    const other = r.fig2.find((y) => y.window === x.window && y.question === x.question && y.store === 'JSON');
    return x.store === 'Parquet' && other ? `${fmt(other.ms / x.ms, 1)}×` : '';
  };
  out.push(
    ...table(
      ['window', 'store', 'question', 'time (ms)', 'runs', 'files opened', 'MiB read', 'engine ms', 'Parquet speed-up'],
      [...r.fig2].sort((a, b) => a.window - b.window || (a.store === b.store ? 0 : a.store === 'Parquet' ? -1 : 1)).map((x) => [`${x.window} d`, x.store, x.question, ms(x.ms), x.runs, fmt(x.files), mib(x.bytes), ms(x.engineMs), speedup(x)]),
    ),
  );
  line();

  // Figure 3
  line('## 3. Answer cache: hit versus miss, against bare Apollo Server 5');
  line();
  line(
    `autocannon in a process of its own, ${opts.connections} connections for ${opts.duration} s per run, against a server with the in-process cache over the ` +
      'Parquet store; the question is the 50 newest calls of a 1-day window, asked again with the same body, so the response cache answers it whole. ' +
      'The ceiling is a bare Apollo Server 5 (its standalone server, in a process of its own, bench/cache-server.ts) whose only resolver returns the rows the service gave (checked equal before timing). ' +
      `The hit and the ceiling run in ${r.opts.reps} rounds taking turns to go first; medians with (min–max). ` +
      "CPU per request is the server process's user + system time (`/proc/<pid>/stat`) over a run divided by its requests: req/s follows the share of the cores a server gets beside autocannon, CPU per request does not. " +
      'A miss is forced with `x-trailql-no-cache: 1` (the engine runs every time; one run). Redis and more scenarios: `npm run bench:cache` (bench/results/cache.md).',
  );
  line();
  const ceilingRow = r.fig3.find((x) => x.ceiling);
  const spreadOf = (xs: number[], f: (n: number) => string) => (xs.length > 1 ? `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})` : f(xs[0] ?? NaN));
  out.push(
    ...table(
      ['scenario', 'requests', 'req/s', 'vs bare Apollo', 'CPU µs per request', 'p50 (ms)', 'p99 (ms)', 'cache hits', 'engine runs'],
      r.fig3.map((x) => [
        x.scenario,
        fmt(x.runs.reduce((a, y) => a + y.requests, 0)),
        spreadOf(x.runs.map((y) => y.rps), (n) => fmt(n)),
        ceilingRow ? `${fmt(median(x.runs.map((y) => y.rps)) / median(ceilingRow.runs.map((y) => y.rps)), 2)}×` : '-',
        spreadOf(x.runs.map((y) => y.cpuUs), (n) => fmt(n)),
        spreadOf(x.runs.map((y) => y.p50), String),
        spreadOf(x.runs.map((y) => y.p99), String),
        x.hits === undefined ? '-' : fmt(x.hits),
        x.engineRuns === undefined ? '-' : fmt(x.engineRuns),
      ]),
    ),
  );
  line();

  // Figure 4
  line('## 4. Engine queries per request, nested queries');
  line();
  line(
    'A page of calls where each call also asks for its caller (with statistics and 3 of its calls), its source address (with statistics) ' +
      `and its IoT Events resources; Parquet store, ${r.fig1[0]?.window ?? 7}-day window, no cache. One query per field is batched across the page (DataLoader); ` +
      'a resolver per row would run the "naive" count.',
  );
  line();
  out.push(...table(['page size', 'edges', 'engine queries', 'naive (1 + 3 per row)', 'time (ms)', 'queries'], r.fig4.map((x) => [x.page, x.edges, x.engineQueries, fmt(x.naive), ms(x.ms), x.labels])));
  line();

  // Figure 5
  line('## 5. Memory (RSS) of the servers');
  line();
  const largest = [...r.fig2].sort((a, b) => b.files - a.files || b.ms - a.ms)[0];
  line(
    'Each server runs in a process of its own (bench/cache-server.ts); the figures are that process\'s own, from `/proc/<pid>/status`: ' +
      '`VmRSS` after start and sampled every 10 ms during each query of section 2, `VmHWM` (its peak) at the end of the run. ' +
      'The hand-written SQL runs in the bench process and autocannon in a process of its own; neither is counted.',
  );
  line();
  out.push(
    ...table(
      ['moment', 'RSS (MiB)'],
      [
        [`JSON server started, before the first query`, mib(r.baselineRss.JSON)],
        [`Parquet server started, before the first query`, mib(r.baselineRss.Parquet)],
        ...(largest ? [[`peak during the largest query (${largest.window}-day window, ${largest.store}, ${largest.question}, ${fmt(largest.files)} files)`, mib(largest.peakRss)]] : []),
        ...r.fig2.filter((x) => x.store === 'Parquet' && x.window === Math.max(...r.fig2.map((y) => y.window))).map((x) => [`peak during ${x.window}-day Parquet, ${x.question}`, mib(x.peakRss)]),
        ...r.serverPeaks.map((p) => [`peak (VmHWM) of the server, ${p.server}`, mib(p.peak)]),
      ],
    ),
  );
  line();

  // Targets
  line('## Targets');
  line();
  const thirty = r.fig2.filter((x) => x.window === 30 && x.store === 'Parquet');
  for (const x of thirty) {
    const j = r.fig2.find((y) => y.window === 30 && y.store === 'JSON' && y.question === x.question);
    if (!j) continue;
    // A page the newest day fills reads one day in both stores: not a 30-day read.
    const oneDay = x.files === r.fig2.find((y) => y.window === 1 && y.store === 'Parquet' && y.question === x.question)?.files;
    line(
      `- 30-day question "${x.question}" with the columnar store: ${fmt(j.ms / x.ms, 1)}× faster than over json.gz` +
        (oneDay
          ? ` (both read only the newest day, ${fmt(x.files)} Parquet against ${fmt(j.files)} JSON files: a one-day read, outside the 30-day target).`
          : ` (target ≥ 20×): ${j.ms / x.ms >= 20 ? 'met' : 'not met'}.`),
    );
  }
  const hitRow = r.fig3.find((x) => x.hits !== undefined && x.engineRuns === 0);
  if (hitRow && ceilingRow) {
    const ratio = median(hitRow.runs.map((y) => y.rps)) / median(ceilingRow.runs.map((y) => y.rps));
    line(`- Cache hit: ${fmt(ratio, 2)}× the req/s of bare Apollo Server 5 returning the same rows, in the same run (target ≥ 0.6×): ${ratio >= 0.6 ? 'met' : 'not met'}.`);
  }
  line(`- Compaction from scratch: ${fmt(compactRatio(r.vsCopy), 2)}× a hand-written COPY of the same records, in the same run (target ≤ 1.5×): ${compactRatio(r.vsCopy) <= 1.5 ? 'met' : 'not met'}.`);
  for (const x of r.fig1) {
    const floor = x.graphqlMs / x.handMs;
    const same = x.graphqlMs / x.sameMs;
    line(
      `- GraphQL over ${x.store}, ${x.window}-day "${x.question}": ${fmt(same, 2)}× the SQL giving the same answer (target ≤ 1.2×: ${same <= 1.2 ? 'met' : 'not met'}${x.sameAnswer ? '' : '; the answers differ'}); ` +
        `${fmt(floor, 2)}× the floor SQL` +
        (x.bareRequestsMs === undefined
          ? '.'
          : `; ${fmt(x.graphqlMs / (x.sameMs + x.bareRequestsMs), 2)}× its ceiling, the same-answer SQL plus its ${x.pages - 1} later request${x.pages === 2 ? '' : 's'} on bare Apollo Server 5 (that ceiling alone is ${fmt((x.sameMs + x.bareRequestsMs) / x.sameMs, 2)}× the SQL).`),
    );
  }
  line();
  line(
    'What the service does that the hand-written SQL does not: over the store it needs no deduplication, as compaction kept each call once; over JSON it turns only ' +
      'the configured event sources\' records into columns, and only the columns a statement uses; it computes only the measures ' +
      'asked for. What it adds: HTTP and GraphQL work per request (parsing, validation, limits, the cost report), the row-to-object ' +
      'mapping, and over the store the freshness check (a file-system call or two per day folder); a walk of every page pays one HTTP request per page where the SQL ' +
      'is one statement (`npm run bench:paging` sets a kept page beside a request that does nothing, bench/results/paging.md). Over JSON the same-answer ' +
      'SQL pays for deduplication; over the store the service does not.',
  );
  const above = r.fig1.filter((x) => x.graphqlMs / x.sameMs > 1.2);
  if (above.length) {
    line();
    line(
      `Above 1.2× the same-answer SQL here: ${above.map((x) => `${x.store}, ${x.window}-day "${x.question}"`).join('; ')}. Parquet questions take tens of ` +
        'milliseconds, so a few milliseconds per request, or a busy machine, move the ratio; the load average is under Machine.',
    );
  }
  line();
  line('## Commands');
  line();
  line('```sh');
  line(`${command}   # everything above (about ${fmt(Math.max(1, r.totalMs / 60000), 0)} min here)`);
  line(`${command.includes(' -- ') ? command : `${command} --`} --keep   # the same, keeping bench/.data so the next run reuses the trail`);
  line('npm run bench -- --help   # sizes and other flags');
  line('TRAIL_DIR=bench/.data/trail npm run compact   # the store alone (after a run with --keep)');
  line('npx jest test/columnar.test.ts   # identical answers from JSON and from the store, before and after new files land');
  line('```');
  line();
  return `${out.join('\n')}`;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
      // Keep-alive sockets must not hold the process open.
      setTimeout(() => process.exit(code), 200).unref();
    },
    (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
