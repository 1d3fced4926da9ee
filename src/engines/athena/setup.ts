import type { TableMetadata } from '@aws-sdk/client-athena';
import { AthenaEngine, type StatementOptions, type StatementResult } from './driver';
import { expectedTable, renderDatabaseDdl, renderDropTableDdl, renderTableDdl, tableDifferences, tableLocation } from './ddl';
import { athenaSettingsFromEnv, type Env } from './env';
import { isOrganizationTrail, type AthenaSettings } from './settings';
import { processEnvironment } from '../../config/vars';

/** The part of {@link AthenaEngine} setup needs (so tests can substitute it). */
export type SetupEngine = Pick<AthenaEngine, 'runStatement' | 'getTableMetadata'>;

/** What setup did with the table. */
export type SetupAction = 'created' | 'unchanged' | 'drifted' | 'recreated' | 'printed';

export interface SetupOptions {
  /** Drop and re-create the table when its definition differs (the S3 objects are never touched). */
  readonly recreate?: boolean;
  /** Only print the statements; run nothing. */
  readonly print?: boolean;
  /** Where progress lines go (default: console.log). */
  readonly log?: (line: string) => void;
}

export interface SetupReport {
  readonly action: SetupAction;
  /** How the existing table differs from the rendered DDL (empty unless drifted or recreated). */
  readonly differences: readonly string[];
  /** Query ids of the statements run, in order. */
  readonly queryIds: readonly string[];
}

/**
 * Creates the database and the trail table, idempotently: `CREATE DATABASE IF NOT EXISTS`, then
 * the table DDL unless the table exists. An existing table is compared with the DDL (columns,
 * partition keys, projection properties); when it differs, setup reports the differences and how
 * to re-create it, or re-creates it with `recreate`.
 */
export async function runAthenaSetup(settings: AthenaSettings, engine: SetupEngine, options: SetupOptions = {}): Promise<SetupReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const databaseDdl = renderDatabaseDdl(settings);
  const tableDdl = renderTableDdl(settings);
  const name = `${settings.database}.${settings.table}`;

  if (options.print) {
    log(`${databaseDdl};\n\n${tableDdl};`);
    return { action: 'printed', differences: [], queryIds: [] };
  }

  const queryIds: string[] = [];
  const run = async (sql: string, what: string, statementOptions: StatementOptions = {}): Promise<StatementResult> => {
    log(`${what} ...`);
    const result = await engine.runStatement(sql, statementOptions);
    queryIds.push(result.queryId);
    log(`${what}: done (query ${result.queryId})`);
    return result;
  };

  await run(databaseDdl, `database ${settings.database}`, { database: null });

  const kind = isOrganizationTrail(settings) ? `organization trail ${settings.orgId}` : `account ${settings.accounts[0]}`;
  const existing: TableMetadata | undefined = await engine.getTableMetadata();
  if (existing === undefined) {
    await run(tableDdl, `table ${name} over ${tableLocation(settings)} (${kind})`);
    return { action: 'created', differences: [], queryIds };
  }

  const differences = tableDifferences(expectedTable(settings, tableDdl), existing);
  if (differences.length === 0) {
    log(`table ${name} already exists and matches the trailql definition`);
    return { action: 'unchanged', differences, queryIds };
  }

  log(`table ${name} exists but differs from the trailql definition:`);
  for (const d of differences) log(`  - ${d}`);
  if (!options.recreate) {
    log(
      [
        '',
        'The table was left as it is. To re-create it (only the table definition is dropped; the',
        'CloudTrail files in S3 are not touched), run:',
        '',
        '  npm run athena:setup -- --recreate',
        '',
        'or run these statements yourself in the Athena console:',
        '',
        `  ${renderDropTableDdl(settings)};`,
        '  -- then the statement printed by: npm run athena:setup -- --print',
      ].join('\n'),
    );
    return { action: 'drifted', differences, queryIds };
  }
  await run(renderDropTableDdl(settings), `drop table ${name} (definition only)`);
  await run(tableDdl, `table ${name} over ${tableLocation(settings)} (${kind})`);
  return { action: 'recreated', differences, queryIds };
}

const USAGE = `usage: npm run athena:setup [-- --print | --recreate]

Creates the Athena database and CloudTrail table trailql queries, from the ATHENA_* and TRAIL_*
environment variables (see athena/README.md).

  --print     print the statements instead of running them
  --recreate  drop and re-create the table when its definition differs (S3 data is untouched)`;

/**
 * Command-line entry: parses flags, reads the settings from `env`, runs setup. Resolves to the
 * exit code: 0 done, 1 failed, 2 the existing table differs and was left alone.
 */
export async function main(
  argv: readonly string[],
  env: Env,
  makeEngine: (settings: AthenaSettings) => SetupEngine & { close(): Promise<void> } = (s) => new AthenaEngine(s),
  out: { log: (line: string) => void; error: (line: string) => void } = console,
): Promise<number> {
  const flags = new Set(argv);
  const unknown = argv.filter((a) => !['--print', '--dry-run', '--recreate', '--help', '-h'].includes(a));
  if (flags.has('--help') || flags.has('-h') || unknown.length > 0) {
    if (unknown.length > 0) out.error(`unknown argument(s): ${unknown.join(' ')}`);
    (unknown.length > 0 ? out.error : out.log)(USAGE);
    return unknown.length > 0 ? 1 : 0;
  }
  let settings: AthenaSettings;
  try {
    settings = athenaSettingsFromEnv(env);
  } catch (err) {
    out.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
  const print = flags.has('--print') || flags.has('--dry-run');
  if (print) {
    const report = await runAthenaSetup(settings, { runStatement: unreachable, getTableMetadata: unreachable }, { print, log: out.log });
    return report.action === 'printed' ? 0 : 1;
  }
  const engine = makeEngine(settings);
  try {
    const report = await runAthenaSetup(settings, engine, { recreate: flags.has('--recreate'), log: out.log });
    return report.action === 'drifted' ? 2 : 0;
  } catch (err) {
    out.error(`athena setup failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await engine.close();
  }
}

function unreachable(): never {
  throw new Error('nothing is run in --print mode');
}

if (require.main === module) {
  void main(process.argv.slice(2), processEnvironment()).then((code) => {
    process.exitCode = code;
  });
}
