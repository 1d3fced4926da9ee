/**
 * `npm run bench:athena-bytes`: bytes scanned per GraphQL question on the Athena dialect, measured
 * on the Athena-on-DuckDB shim (each statement counts the stored size of every file in the
 * partitions it reads, as Athena reads JSON whole) and rows the statements return. Prints a
 * Markdown table for athena/README.md.
 * Cache off, so every statement is counted.
 */
import * as fs from 'node:fs';
import { athenaDialect } from '../src/engines/athena/dialect';
import { AthenaSqlOnDuckDb } from '../test/support/athena-on-duckdb';
import { startServer } from '../test/support/server';
import { SAMPLE_END, sampleTrail } from '../test/support/trails';

const FROM = new Date(SAMPLE_END.getTime() - 24 * 3_600_000).toISOString();
const TO = SAMPLE_END.toISOString();
const F = `filter: { from: "${FROM}", to: "${TO}" }`;
/** Longer than two days: a newest-first page without its count reads the newest day first. */
const LONG = `filter: { from: "${new Date(SAMPLE_END.getTime() - 60 * 3_600_000).toISOString()}", to: "${TO}" }`;

const QUESTIONS: ReadonlyArray<readonly [string, string]> = [
  ['apiCalls: first page (50) and totalCount', `{ apiCalls(${F}) { totalCount edges { node { eventId } } } }`],
  ['apiCalls: first page (50) only', `{ apiCalls(${F}) { edges { node { eventId } } } }`],
  ['apiCalls over 60 hours: first page (50) and totalCount', `{ apiCalls(${LONG}) { totalCount edges { node { eventId } } } }`],
  ['apiCalls over 60 hours, oldest first: first page (50) and totalCount', `{ apiCalls(${LONG}, orderBy: OLDEST_FIRST) { totalCount edges { node { eventId } } } }`],
  ['apiCalls over 60 hours: first page (50) only', `{ apiCalls(${LONG}) { edges { node { eventId } } } }`],
  ['apiCalls: 2 IPv6 blocks, totalCount', `{ apiCalls(filter: { from: "${FROM}", to: "${TO}", sourceCidrs: ["2600:1f18::/32", "2001:db8::/32"] }) { totalCount } }`],
  ['callers: first 10 with stats', `{ callers(${F}, first: 10) { pageInfo { hasNextPage } nodes { key stats { calls errors } } } }`],
  ['sourceIps: first 10 with their callers (2 each)', `{ sourceIps(${F}, first: 10) { nodes { address callers(first: 2) { nodes { calls } } } } }`],
  ['actions', `{ actions(${F}) { action calls } }`],
  ['activity by hour', `{ activity(${F}, interval: HOUR) { buckets { start calls } } }`],
  ['callers: first 10 and totalCount', `{ callers(${F}, first: 10) { totalCount nodes { key } } }`],
  ['sourceIps: first 10 and totalCount', `{ sourceIps(${F}, first: 10) { totalCount nodes { address } } }`],
  ['callers: first 10 with their top 3 actions and count of actions', `{ callers(${F}, first: 10) { nodes { key actions(first: 3) { totalCount nodes { action calls } } } } }`],
  ['sourceIps: first 10 with their calls (5 each) and count of calls', `{ sourceIps(${F}, first: 10) { nodes { address calls(first: 5) { totalCount edges { node { eventId } } } } } }`],
  ['apiCalls page of 20 with nested caller stats', `{ apiCalls(${F}, first: 20) { edges { node { eventId caller { stats { calls } } } } } }`],
];

async function main(): Promise<void> {
  const dir = await sampleTrail(2, { iotEventsPerDay: 60 });
  const shim = await AthenaSqlOnDuckDb.create(dir, 'trailql', 'cloudtrail_logs');
  const dialect = athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true });
  const server = await startServer(dir, { CACHE_ENABLED: 'false' }, { now: () => SAMPLE_END, engine: { engine: shim, dialect } });
  try {
    const lines = ['| question | statements | rows returned | bytes scanned | billed (10 MB min.) |', '| --- | ---: | ---: | ---: | ---: |'];
    for (const [name, query] of QUESTIONS) {
      const res = await server.gql(query);
      if (res.errors) throw new Error(`${name}: ${JSON.stringify(res.errors)}`);
      const cost = res.extensions!.cost;
      lines.push(`| ${name} | ${cost.totals.engineQueries} | ${cost.totals.rows} | ${cost.totals.bytesScanned} | ${cost.estimate.billedBytes} |`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
