/**
 * Every walk of a connection returns exactly what its totalCount counts, whatever the delivery lag
 * of the files within the day folders the window reads: records land in folders up to three days
 * after their event (more than the one-day margin), and a call may have a twin in another region
 * with the same eventID and eventTime (another call: the dedup key is account, region and eventID);
 * windows and page sizes are random, on the JSON trail and on the Parquet store made from it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { loadConfig } from '../src/config';
import { createEngine } from '../src/engines';
import { Engine } from '../src/query/engine';
import { CursorCodec } from '../src/query/cursor';
import { FULL_SCOPE } from '../src/query/guards';
import { QueryRunner } from '../src/query/runner';
import { TrailService } from '../src/services/trail.service';
import { compactTrail } from '../src/engines/duckdb/compact';
import { dayPath } from '../src/trail/layout';
import { TEST_KEYS } from './support/server';
import { tempDir } from './support/trails';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const TWIN_REGION = 'us-east-1';
const START = Date.parse('2026-01-10T00:00:00Z');
const DAY = 86_400_000;
const MARGIN = 1;

interface Rec {
  /** Seconds after START, within four days. */
  readonly at: number;
  /** Days after its event's day the file holding it was delivered. */
  readonly lag: number;
  /** Also a call of TWIN_REGION with the same eventID and eventTime. */
  readonly twin: boolean;
}

function writeTrail(dir: string, recs: readonly Rec[]): void {
  const byFolder = new Map<string, { region: string; day: string; records: object[] }>();
  recs.forEach((r, i) => {
    const t = START + r.at * 1000;
    const day = dayPath(new Date(Math.floor(t / DAY) * DAY + r.lag * DAY));
    for (const region of r.twin ? [REGION, TWIN_REGION] : [REGION]) {
      const record = {
        eventVersion: '1.09',
        eventTime: new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        eventSource: 'iotevents.amazonaws.com',
        eventName: 'DescribeDetectorModel',
        awsRegion: region,
        eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        eventType: 'AwsApiCall',
        recipientAccountId: ACCOUNT,
        userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/u`, accountId: ACCOUNT },
      };
      const at = byFolder.get(`${region}/${day}`) ?? { region, day, records: [] };
      at.records.push(record);
      byFolder.set(`${region}/${day}`, at);
    }
  });
  for (const { region, day, records } of byFolder.values()) {
    const folder = path.join(dir, 'AWSLogs', ACCOUNT, 'CloudTrail', region, ...day.split('/'));
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, `${ACCOUNT}_CloudTrail_${region}_${day.replace(/\//g, '')}T0000Z_x.json`), JSON.stringify({ Records: records }));
  }
}

async function service(dir: string, parquet: boolean): Promise<{ svc: TrailService; engine: Engine }> {
  const config = loadConfig({ TRAIL_DIR: dir, LOG_LEVEL: 'silent', DUCKDB_THREADS: '1', DELIVERY_MARGIN_DAYS: String(MARGIN), PARQUET_ENABLED: String(parquet), API_KEYS: JSON.stringify(TEST_KEYS) });
  const { engine, dialect } = await createEngine(config, dir);
  const svc = new TrailService({ config, dialect, cursors: new CursorCodec('paging-late-delivery') }, new QueryRunner(engine), FULL_SCOPE);
  return { svc, engine };
}

async function walk(svc: TrailService, filter: { from: Date; to: Date }, first: number): Promise<{ ids: string[]; total: number }> {
  const ids: string[] = [];
  let after: string | null = null;
  let total = -1;
  for (let i = 0; i < 100; i++) {
    const page = await svc.apiCalls(filter, first, after);
    if (total < 0) total = await page.totalCount();
    ids.push(...page.edges.map((e) => `${e.node.eventId}@${e.node.region}`));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return { ids, total };
}

/** What the window holds: its events, delivered up to its last day plus the margin. */
function expected(recs: readonly Rec[], from: Date, to: Date): number {
  const lastFolder = Math.floor((to.getTime() - 1) / DAY) + MARGIN;
  return recs.filter((r) => {
    const t = START + r.at * 1000;
    return t >= from.getTime() && t < to.getTime() && Math.floor(t / DAY) + r.lag <= lastFolder;
  }).reduce((n, r) => n + (r.twin ? 2 : 1), 0);
}

test('walks return exactly totalCount distinct calls, on JSON and on Parquet', async () => {
  const recs = fc.array(fc.record({ at: fc.integer({ min: 0, max: 4 * 86_400 - 1 }), lag: fc.integer({ min: 0, max: 3 }), twin: fc.boolean() }), { minLength: 1, maxLength: 12 });
  const windows = fc.tuple(fc.integer({ min: 0, max: 95 }), fc.integer({ min: 1, max: 96 })).map(([start, hours]) => ({
    from: new Date(START + start * 3_600_000),
    to: new Date(START + Math.min(96, start + hours) * 3_600_000 + 1000),
  }));
  await fc.assert(
    fc.asyncProperty(recs, fc.array(fc.tuple(windows, fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 3 }), async (records, asks) => {
      const dir = tempDir('trailql-lag-');
      try {
        writeTrail(dir, records);
        await compactTrail({ trailDir: dir, eventSources: ['iotevents.amazonaws.com', 'ioteventsdata.amazonaws.com'] });
        for (const parquet of [false, true]) {
          const { svc, engine } = await service(dir, parquet);
          try {
            for (const [window, first] of asks) {
              const { ids, total } = await walk(svc, window, first);
              expect(new Set(ids).size).toBe(ids.length);
              expect(ids.length).toBe(total);
              expect(total).toBe(expected(records, window.from, window.to));
            }
          } finally {
            await engine.close();
          }
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }),
    {
      numRuns: 6,
      // A page after the newest call (day 1) must still reach the day 3 folder, where a day 0 call landed.
      examples: [
        [[{ at: 3600, lag: 3, twin: false }, { at: 86_400 + 3600, lag: 0, twin: false }], [[{ from: new Date(START), to: new Date(START + 3 * DAY + 1000) }, 1]]],
        // Twins in one second, a page apiece: the cursor must tell them apart.
        [[{ at: 3600, lag: 0, twin: true }, { at: 3600, lag: 1, twin: true }], [[{ from: new Date(START), to: new Date(START + DAY) }, 1]]],
      ],
    },
  );
}, 180_000);
