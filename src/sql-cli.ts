/**
 * `npm run sql -- --engine athena|duckdb '<GraphQL operation>' [--variables JSON]`: prints the
 * statements and parameters the operation would run, with the partitions each reads. Nothing is
 * run and no AWS call is made. The Athena table comes from the ATHENA_* and TRAIL_* variables when
 * they are complete, otherwise `trailql.cloudtrail_logs` (an organization table when TRAIL_ORG_ID
 * is set). The preview runs as an unrestricted key; limits of the HTTP service are not applied.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { graphql } from 'graphql';
import { type Env, loadConfig, processEnvironment } from './config';
import { athenaDialect } from './engines/athena/dialect';
import { parseAthenaEnv } from './engines/athena/env';
import { isOrganizationTrail } from './engines/athena/settings';
import { duckdbDialect } from './engines/duckdb/dialect';
import { GraphService } from './services/graph.service';
import { NodeService } from './services/node.service';
import { TrailService } from './services/trail.service';
import { schema } from './graphql/schema';
import { Dialect } from './query/compiler';
import { CursorCodec } from './query/cursor';
import { explainEngine, explainStatements } from './query/explain';
import { FULL_SCOPE } from './query/guards';
import { QueryRunner } from './query/runner';

function athenaFromEnv(env: Env): Dialect {
  const parsed = parseAthenaEnv(env);
  if (parsed.ok) {
    const s = parsed.settings;
    return athenaDialect({ database: s.database, table: s.table, orgTrail: isOrganizationTrail(s), accountProjection: s.accountProjection, regions: s.regions, accounts: s.accounts, startDate: s.startDate, ...(s.pathColumn ? { pathColumn: s.pathColumn } : {}) });
  }
  return athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: Boolean(env.TRAIL_ORG_ID) });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { engine: { type: 'string', default: 'athena' }, variables: { type: 'string' } },
  });
  const operation = positionals[0];
  if (!operation || (values.engine !== 'athena' && values.engine !== 'duckdb')) {
    process.stderr.write("usage: npm run sql -- --engine athena|duckdb '<GraphQL operation>' [--variables JSON]\n");
    return 2;
  }
  const env = processEnvironment();
  const config = loadConfig({ ...env, ENGINE: 'duckdb' });
  const dialect = values.engine === 'athena' ? athenaFromEnv(env) : duckdbDialect;
  const engine = explainEngine({ name: values.engine, capabilities: { billedByScan: values.engine === 'athena', cancellable: true }, sourceId: 'preview' });
  const runner = new QueryRunner(engine);
  const service = new TrailService({ config, dialect, cursors: new CursorCodec(config.cursorSecret) }, runner, { ...FULL_SCOPE, principal: 'sql-preview', admin: true });
  const graph = new GraphService(service);
  const result = await graphql({
    schema: schema(),
    source: operation,
    variableValues: values.variables ? (JSON.parse(values.variables) as Record<string, unknown>) : undefined,
    contextValue: { requestId: 'sql-preview', service, graph, nodes: new NodeService(service, graph), runner },
  });
  for (const err of result.errors ?? []) process.stderr.write(`error: ${err.message} (${String(err.extensions?.code ?? 'ERROR')})\n`);
  const statements = explainStatements(runner.compiled);
  statements.forEach((s, i) => {
    const p = s.partitions;
    process.stdout.write(`-- ${i + 1}. ${s.label} (${values.engine})\n`);
    process.stdout.write(`-- partitions: days ${p.days[0] ?? '-'}..${p.days[p.days.length - 1] ?? '-'} (${p.days.length}); regions ${p.regions.join(',') || 'all'}; accounts ${p.accounts.join(',') || 'all'}\n`);
    process.stdout.write(`${s.sql};\n`);
    process.stdout.write(`-- parameters: ${JSON.stringify(s.params)}\n\n`);
  });
  return result.errors?.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  },
);
