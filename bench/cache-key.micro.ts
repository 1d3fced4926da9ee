/**
 * What a cache hit spends before the store is asked: compiling a newest-first page's plan and
 * deriving its cache key, in microseconds per call (mean over 20,000 after 2,000 untimed).
 *
 *   npx ts-node --transpile-only bench/cache-key.micro.ts
 */
import { cacheKey } from '../src/cache/cache';
import { duckdbDialect } from '../src/engines/duckdb/dialect';
import { compile } from '../src/query/compiler';
import { EVENT_COLUMNS } from '../src/query/fields';
import { EventsQuery } from '../src/query/plan';

const plan: EventsQuery = {
  kind: 'events',
  label: 'apiCalls',
  scan: { from: new Date('2026-03-14T00:00:00Z'), to: new Date('2026-03-15T00:00:00Z'), eventSources: ['iotevents.amazonaws.com', 'ioteventsdata.amazonaws.com'], regions: [], accounts: [] },
  where: [],
  select: EVENT_COLUMNS.slice(0, 20),
  orderBy: [
    { alias: 'event_time', dir: 'desc' },
    { alias: 'event_id', dir: 'desc' },
  ],
  limit: 21,
};
const engine = { name: 'duckdb', sourceId: 'duckdb:/trail' };
let query = compile(duckdbDialect, plan, 1);
const steps: [string, () => void][] = [
  ['compile', () => (query = compile(duckdbDialect, plan, 1))],
  ['cacheKey', () => cacheKey(engine, query, 'salt')],
];
console.log(`SQL text: ${query.sql.length} characters`);
for (const [name, step] of steps) {
  for (let i = 0; i < 2000; i += 1) step();
  const n = 20_000;
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i += 1) step();
  console.log(`${name}: ${(Number(process.hrtime.bigint() - t) / 1000 / n).toFixed(1)} µs`);
}
