/**
 * What leaving unreadable files out costs on DuckDB: the clean read (the cache fingerprint of a
 * 31-day query, and the query itself), the first read over a damaged file (fails, finds the file,
 * runs again) and the reads after it (the file set aside up front).
 *
 *   npx ts-node --transpile-only bench/unreadable.bench.ts
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DuckDbEngine } from '../src/engines/duckdb/driver';
import { duckdbDialect } from '../src/engines/duckdb/dialect';
import { compile } from '../src/query/compiler';
import { generateSampleTrail } from '../src/trail/sample';
import { apiCallsCountPlan } from '../test/support/plans';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(n: number, f: () => Promise<unknown>): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    out.push(performance.now() - t);
  }
  return median(out);
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trailql-bench-'));
  const end = new Date('2026-03-15T12:00:00Z');
  await generateSampleTrail({ outDir: dir, days: 32, end, seed: 7 });
  const engine = await DuckDbEngine.create({ trailDir: dir, threads: 2, eventSources: ['iotevents.amazonaws.com', 'ioteventsdata.amazonaws.com'] });
  try {
    const query = compile(duckdbDialect, apiCallsCountPlan({}, { from: new Date(end.getTime() - 31 * 86_400_000), to: end }), 1);
    const files = (await engine.files(query)).length;
    await engine.execute(query);
    const fingerprint = await time(50, () => engine.fingerprint(query));
    const clean = await time(5, () => engine.execute(query));
    const victim = (await engine.files(query))[Math.floor(files / 2)]!;
    fs.writeFileSync(victim, fs.readFileSync(victim).subarray(0, 100));
    let t = performance.now();
    const first = await engine.execute(query);
    const firstMs = performance.now() - t;
    const after = await time(5, () => engine.execute(query));
    t = performance.now();
    const lines = [
      `31-day count over ${files} JSON files (2 threads), medians:`,
      `  fingerprint (cache key part)      ${fingerprint.toFixed(2)} ms`,
      `  clean query                       ${clean.toFixed(0)} ms`,
      `  first query over a damaged file   ${firstMs.toFixed(0)} ms (left out: ${first.stats.unreadable?.length ?? 0})`,
      `  later queries (file set aside)    ${after.toFixed(0)} ms`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
