import { DuckDBInstance } from '@duckdb/node-api';
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`CREATE TABLE x AS SELECT range AS a, range % 7 AS b FROM range(1000000)`);
  const r = await c.runAndReadAll(`EXPLAIN WITH t AS (SELECT a, b FROM x WHERE a > 5) SELECT * FROM (SELECT b, count(*) FROM t WHERE b = 1 GROUP BY b) UNION ALL SELECT * FROM (SELECT b, count(*) FROM t WHERE b=2 GROUP BY b)`);
  console.log(r.getRows().map((x) => x[1]).join('\n'));
  const v = await c.runAndReadAll(`SELECT version()`); console.log(v.getRows());
})();
