/**
 * Which operations ask for what one statement answers (src/graphql/statements.ts): a lone
 * statement reads its JSON files itself, so an operation that asks for more must never be taken
 * for one (its statements would each read the files), and the common single questions must be.
 */
import * as fs from 'node:fs';
import { OperationDefinitionNode, parse } from 'graphql';
import { FieldArguments, operationFields } from '../src/graphql/prevalidate';
import { schema } from '../src/graphql/schema';
import { asksOneStatement } from '../src/graphql/statements';
import { RequestScope } from '../src/query/engine';
import { QueryReport } from '../src/query/runner';
import { TestServer, startServer } from './support/server';
import { SAMPLE_END, sampleTrail } from './support/trails';

const F = { from: new Date(SAMPLE_END.getTime() - 20 * 3_600_000).toISOString(), to: SAMPLE_END.toISOString() };

function asksOne(query: string, variables: Record<string, unknown> = {}): boolean {
  const doc = parse(query);
  const operation = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
  const fields: FieldArguments[] = operationFields(schema(), doc, operation, variables)!;
  return asksOneStatement(fields, doc);
}

const ONE: [string, string][] = [
  ['a page of calls', `{ apiCalls(first: 50) { edges { cursor node { eventId action caller { arn identityType } } } pageInfo { hasNextPage } } }`],
  ['a count of calls alone', `{ apiCalls(first: 1) { totalCount } }`],
  ['calls per action', `{ actions { action eventSource calls errors } }`],
  ['a page of callers with the statistics the list carries', `{ callers(first: 50) { pageInfo { endCursor } edges { node { key stats { calls errors } } } } }`],
  ['callers with their first calls, read with the list', `{ callers(first: 10) { edges { node { key calls(first: 5) { totalCount edges { node { eventId } } } } } } }`],
  ['a caller looked up, with its statistics', `query($f: ApiCallFilter) { caller(key: "arn:aws:iam::111122223333:user/a", filter: $f) { key stats { calls } } }`],
  ['activity', `{ activity(interval: DAY) { buckets { start calls } } }`],
  ['with the service\'s health beside it', `{ trailHealth { available } actions { action calls } }`],
];

const SEVERAL: [string, string][] = [
  ['two root fields', `{ actions { action calls } callers(first: 5) { nodes { key } } }`],
  ['a page with its total', `{ apiCalls(first: 50) { totalCount edges { node { eventId } } } }`],
  ['each call\'s caller statistics', `{ apiCalls(first: 50) { edges { node { eventId caller { stats { calls } } } } } }`],
  ['statistics under a filter of their own', `query($f: ApiCallFilter) { callers(first: 5) { nodes { key stats(filter: $f) { calls } } } }`],
  ['callers\' calls under a filter of their own', `query($f: ApiCallFilter) { callers(first: 5) { nodes { key calls(filter: $f, first: 3) { nodes { eventId } } } } }`],
  ['a looked-up caller\'s calls', `{ caller(key: "arn:aws:iam::111122223333:user/a") { calls(first: 3) { nodes { eventId } } } }`],
  ['two nested calls fields', `{ callers(first: 5) { nodes { a: calls(first: 1) { nodes { eventId } } b: calls(first: 2) { nodes { eventId } } } } }`],
  ['a caller\'s actions', `{ callers(first: 5) { nodes { actions(first: 3) { nodes { action } } } } }`],
  ['errors by code', `{ actions { action errorsByCode { code calls } } }`],
  ['untimed records beside a page', `{ apiCalls(first: 5) { untimedRecords edges { node { eventId } } } }`],
  ['insights', `{ insights(first: 5) { nodes { kind } } }`],
  ['addresses looked up for a country filter first', `query($f: ApiCallFilter) { actions(filter: { from: "${F.from}", to: "${F.to}", countries: ["DE"] }) { action calls } }`],
  ['... or for one it negates', `{ apiCalls(first: 5, filter: { not: { asns: [64500] } }) { nodes { eventId } } }`],
  ['untimed records with their total', `{ untimedRecords(first: 5) { totalCount nodes { eventId } } }`],
  ['callers under a filter beyond the window, with their calls', `{ callers(first: 5, filter: { errorsOnly: true }) { nodes { key calls(first: 3) { nodes { eventId } } } } }`],
  ['a directive (the read-ahead of nested calls stands aside)', `query($x: Boolean!) { callers(first: 5) { nodes { key calls(first: 3) @include(if: $x) { nodes { eventId } } } } }`],
  ['nodes by id', `{ node(id: "x") { id } }`],
];

let dir: string;
/** Without an answer cache (grouped lists by keyset), and with one (grouped lists read whole). */
const servers: TestServer[] = [];

beforeAll(async () => {
  dir = await sampleTrail(1, { iotEventsPerDay: 40, deliveryMinutes: 60 });
  for (const cache of ['false', 'true']) servers.push(await startServer(dir, { CACHE_ENABLED: cache, PARQUET_ENABLED: 'false' }, { now: () => SAMPLE_END }));
}, 60_000);

afterAll(async () => {
  for (const server of servers) await server.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('asksOneStatement', () => {
  test.each(ONE)('one statement: %s', async (_name, query) => {
    expect(asksOne(query, { f: F })).toBe(true);
    // And one statement it is, kept answers or not.
    for (const server of servers) {
      const res = await server.gql(query, { f: F });
      expect(res.errors).toBeUndefined();
      expect(((res.extensions?.cost as { queries: QueryReport[] }).queries ?? []).length).toBe(1);
    }
  });
  test.each(SEVERAL)('more than one: %s', (_name, query) => {
    expect(asksOne(query, { f: F, x: true })).toBe(false);
  });
});

test('a statement is alone while no other statement of its request is under way, and only when the operation asks for one', () => {
  const scope = new RequestScope();
  const first = scope.statementStarted();
  expect(scope.alone).toBe(false);
  scope.expectOneStatement();
  expect(scope.alone).toBe(true);
  const second = scope.statementStarted();
  expect(scope.alone).toBe(false);
  second();
  second();
  expect(scope.alone).toBe(true);
  first();
  expect(scope.alone).toBe(true);
});
