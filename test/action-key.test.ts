/**
 * An action's grouping key (`ACTION_KEY`, the event name and source as one text) is computed by
 * the engine and read back by `actionOfKey`. Whatever a record holds there (`/`, `\`, nothing,
 * an empty text), the text read back is the record's own, and two actions never share a key.
 */
import fc from 'fast-check';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { duckdbDialect } from '../src/engines/duckdb/dialect';
import { CompileContext, expr } from '../src/query/compiler';
import { ACTION_KEY, actionOfKey } from '../src/query/fields';

let instance: DuckDBInstance;
let connection: DuckDBConnection;
beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
});
afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

/** The keys DuckDB gives the (name, source) pairs, in order. */
async function keysOf(pairs: readonly (readonly [string | null, string | null])[]): Promise<string[]> {
  const ctx = new CompileContext(duckdbDialect);
  const rows = pairs.map((_, i) => `(${i}, $${2 * i + 1}::VARCHAR, $${2 * i + 2}::VARCHAR)`).join(', ');
  const reader = await connection.runAndReadAll(
    `SELECT ${expr(ctx, ACTION_KEY)} AS k FROM (VALUES ${rows}) AS t(i, "eventname", "eventsource") ORDER BY i`,
    pairs.flatMap(([n, s]) => [n, s]),
  );
  return reader.getRowObjectsJS().map((r) => String(r.k));
}

const part = fc.option(fc.stringMatching(/^[a-z/\\]{0,6}$/), { nil: null });

test('read back as written, and one key per action', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uniqueArray(fc.tuple(part, part), { minLength: 1, maxLength: 12, selector: (p) => JSON.stringify(p) }), async (pairs) => {
      const keys = await keysOf(pairs);
      expect(keys.map(actionOfKey)).toEqual(pairs.map(([action, eventSource]) => ({ action, eventSource })));
      expect(new Set(keys).size).toBe(pairs.length);
    }),
    { numRuns: 200 },
  );
});

test('names that joined plainly would print alike', async () => {
  const pairs: [string | null, string | null][] = [
    ['x/sy', null],
    ['x', 'y/'],
    ['x\\', '/y'],
    ['x', '\\/y'],
  ];
  const keys = await keysOf(pairs);
  expect(new Set(keys).size).toBe(4);
  expect(keys.map(actionOfKey)).toEqual(pairs.map(([action, eventSource]) => ({ action, eventSource })));
});
