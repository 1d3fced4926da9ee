/**
 * A record without an eventName (test/fixtures/no-event-name) is a call whose action is unknown:
 * per-action summaries give it a group of its own whose action is null, never the text "null",
 * its id gives that summary back, and the time series by action keys it null too, alike on DuckDB
 * over JSON, DuckDB over the Parquet store and the Athena dialect's SQL.
 */
import * as path from 'node:path';
import { FixtureServers, serveFixture } from './support/fixture-engines';

const FIXTURE = path.resolve(__dirname, 'fixtures/no-event-name');
const ENV = { EVENT_SOURCES: '*', CURSOR_SECRET: 'no-event-name-cursor-secret' };
const NOW = () => new Date('2021-10-20T00:00:00Z');
const DAY14 = { from: '2021-10-14T00:00:00Z', to: '2021-10-15T00:00:00Z' };

let fixture: FixtureServers;

beforeAll(async () => {
  fixture = await serveFixture(FIXTURE, ENV, NOW);
}, 120_000);

afterAll(() => fixture.close());

const ACTIONS = `query($filter: ApiCallFilter) { actions(filter: $filter) { id action eventSource calls errorsByCode { code } } }`;
const NODE = `query($id: ID!) { node(id: $id) { ... on ActionSummary { action eventSource calls } } }`;
const ACTIVITY = `query($filter: ApiCallFilter) { activity(filter: $filter, interval: DAY, groupBy: ACTION) { buckets { key calls } } }`;

test.each(['json', 'parquet', 'athena'] as const)('%s: the calls without an action are one summary whose action is null', async (name) => {
  const server = fixture.servers[name];
  const res = await server.gql(ACTIONS, { filter: DAY14 });
  expect(res.errors).toBeUndefined();
  const actions = res.data.actions as { id: string; action: string | null; eventSource: string; calls: number }[];
  expect(actions.map((a) => [a.action, a.eventSource, a.calls])).toEqual([
    ['ListInputs', 'iotevents.amazonaws.com', 1],
    [null, 'iotevents.amazonaws.com', 1],
  ]);
  const unnamed = actions.find((a) => a.action === null)!;
  const again = await server.gql(NODE, { id: unnamed.id });
  expect(again.errors).toBeUndefined();
  expect(again.data.node).toEqual({ action: null, eventSource: 'iotevents.amazonaws.com', calls: 1 });
  const activity = await server.gql(ACTIVITY, { filter: DAY14 });
  expect(activity.errors).toBeUndefined();
  expect(activity.data.activity.buckets.map((b: { key: string | null; calls: number }) => [b.key, b.calls]).sort()).toEqual([['ListInputs', 1], [null, 1]].sort());
});
