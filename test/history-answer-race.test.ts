/**
 * An answer over a folder Event history fills says what the sync had not reached when the answer
 * began reading, not when it is sent: the sync writes a slot's files before the state that says it
 * reached them, so a state read after the files were listed could claim time whose files came later.
 * Here the sync's next run lands between the engine's read and the answer: the answer, which read
 * none of the run's calls, still says it lacks that time.
 */
import * as fs from 'node:fs';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { createEngine } from '../src/engines';
import type { Engine } from '../src/query/engine';
import { syncEventHistory } from '../src/history/sync';
import { FakeEventHistory, eventOf, iotEventsRecord } from './support/event-history';
import { TEST_KEY, startServer, testConfig } from './support/server';
import { tempDir } from './support/trails';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const SOURCE = 'iotevents.amazonaws.com';
const NOW = new Date('2026-03-15T12:00:00Z');
const HOUR = 3_600_000;
const COUNT = 'query($f: ApiCallFilter) { apiCalls(filter: $f, first: 5) { totalCount } }';
const EXPORT_PATH = '/export/api-calls';

test("the sync's run landing between the read and the answer leaves the answer incomplete, over GraphQL and downloads", async () => {
  const dir = tempDir();
  // 200 calls six minutes apart: 20 hours, four pages of Event history.
  const records = Array.from({ length: 200 }, (_, i) => iotEventsRecord(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, new Date(NOW.getTime() - 60_000 - i * 6 * 60_000), ACCOUNT, REGION));
  const history = new FakeEventHistory(records.map(eventOf));
  let pages = 0;
  let failing = true;
  const client = new CloudTrailClient({ region: REGION });
  mockClient(client)
    .on(LookupEventsCommand)
    .callsFake((input) => {
      pages += 1;
      if (failing && pages === 2) throw Object.assign(new Error('connection reset'), { name: 'NetworkingError' });
      return history.answer(input);
    });
  const sync = { trailDir: dir, regions: [REGION], account: ACCOUNT, eventSources: [SOURCE], days: 90, overlapMinutes: 30, client: () => client, now: () => NOW };
  // The first run stops after one page: about five hours back from now are synced.
  await expect(syncEventHistory(sync)).rejects.toThrow();
  const env = { EVENT_HISTORY_REGIONS: REGION, EVENT_SOURCES: SOURCE, EVENT_HISTORY_SYNC_INTERVAL_MINUTES: '0', CACHE_ENABLED: 'false' };
  let armed = false;
  /** A server whose engine, once armed, lets the sync's next run finish right after its next read. */
  const serve = async () => {
    const setup = await createEngine(testConfig(dir, env), dir);
    const inner = setup.engine;
    const engine: Engine = Object.create(inner);
    engine.execute = async (query, options) => {
      const result = await inner.execute(query, options);
      if (armed) {
        armed = false;
        failing = false;
        await syncEventHistory(sync);
      }
      return result;
    };
    return startServer(dir, env, { now: () => NOW, engine: { ...setup, engine } });
  };
  const server = await serve();
  const f = { from: new Date(NOW.getTime() - 12 * HOUR).toISOString(), to: new Date(NOW.getTime() - 10 * HOUR).toISOString() };
  try {
    const before = await server.gql(COUNT, { f });
    expect(before.data.apiCalls.totalCount).toBe(0);
    expect(before.extensions?.complete).toBe(false);

    armed = true;
    const raced = await server.gql(COUNT, { f });
    expect(raced.data.apiCalls.totalCount).toBe(0);
    expect(raced.extensions?.complete).toBe(false);
    expect((raced.extensions?.warnings as { code: string }[]).map((w) => w.code)).toEqual(['HISTORY_NOT_SYNCED']);

    const after = await server.gql(COUNT, { f });
    expect(after.data.apiCalls.totalCount).toBe(20);
    expect(after.extensions?.complete).toBe(true);
  } finally {
    await server.close();
  }

  // A download the same way: a fresh folder whose first run stopped early.
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  pages = 0;
  failing = true;
  await expect(syncEventHistory(sync)).rejects.toThrow();
  const again = await serve();
  try {
    armed = true;
    const res = await fetch(again.url.replace('/graphql', `${EXPORT_PATH}?format=ndjson&filter=${encodeURIComponent(JSON.stringify(f))}`), {
      headers: { authorization: `Bearer ${TEST_KEY}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-trailql-complete')).toBe('false');
    expect(await res.text()).toBe('');
  } finally {
    await again.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
