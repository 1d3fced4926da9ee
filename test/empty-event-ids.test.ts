/**
 * Records whose eventID is empty (test/fixtures/empty-event-ids) are calls without an id, as a
 * record without the key is: each gets its synthetic id, so two different calls are never taken
 * for one delivered twice, and a repeated delivery is still counted once, alike on DuckDB over
 * JSON, DuckDB over the Parquet store and the Athena dialect's SQL.
 */
import * as path from 'node:path';
import { FixtureServers, serveFixture } from './support/fixture-engines';
import { followPages } from './support/api-calls';

const FIXTURE = path.resolve(__dirname, 'fixtures/empty-event-ids');
const ENV = { EVENT_SOURCES: '*', CURSOR_SECRET: 'empty-event-ids-cursor-secret' };
const NOW = () => new Date('2021-10-20T00:00:00Z');
const DAY14 = { from: '2021-10-14T00:00:00Z', to: '2021-10-15T00:00:00Z' };

let fixture: FixtureServers;

beforeAll(async () => {
  fixture = await serveFixture(FIXTURE, ENV, NOW);
  expect(fixture.compacted.length).toBe(1);
}, 120_000);

afterAll(() => fixture.close());

const PAGE = `query($filter: ApiCallFilter, $first: Int, $after: String) {
  apiCalls(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { eventId action } }
  }
}`;

const ACTIONS = `query($filter: ApiCallFilter) { actions(filter: $filter) { action calls } }`;

test.each(['json', 'parquet', 'athena'] as const)('%s: three calls with empty eventIDs are three calls, one delivered twice counted once', async (name) => {
  const server = fixture.servers[name];
  type Page = { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: { eventId: string; action: string } }[] };
  const pages = await followPages<Page>(async (after) => (await server.gql(PAGE, { filter: DAY14, first: 2, after })).data.apiCalls as Page);
  const nodes = pages.flatMap((p) => p.edges.map((e) => e.node));
  expect(nodes.map((n) => n.action).sort()).toEqual(['DeleteDetectorModel', 'DeleteInput', 'ListInputs']);
  for (const n of nodes) expect(n.eventId).toMatch(/^synthetic-[0-9a-f]{64}$/);
  expect(new Set(nodes.map((n) => n.eventId)).size).toBe(3);
  const total = await server.gql(PAGE, { filter: DAY14, first: 1 });
  expect(total.data.apiCalls.totalCount).toBe(3);
  const actions = await server.gql(ACTIONS, { filter: DAY14 });
  expect(actions.data.actions.map((a: { action: string; calls: number }) => [a.action, a.calls]).sort()).toEqual([['DeleteDetectorModel', 1], ['DeleteInput', 1], ['ListInputs', 1]]);
});

test('the synthetic ids are the same on every engine and store', async () => {
  const ids = await Promise.all(
    (['json', 'parquet', 'athena'] as const).map(async (name) => {
      const r = await fixture.servers[name].gql(PAGE, { filter: DAY14, first: 10 });
      return r.data.apiCalls.edges.map((e: { node: { eventId: string } }) => e.node.eventId).sort();
    }),
  );
  expect(ids[1]).toEqual(ids[0]);
  expect(ids[2]).toEqual(ids[0]);
});
