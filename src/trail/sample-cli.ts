/**
 * Writes a deterministic sample CloudTrail trail in the S3 layout.
 *
 *   npm run sample -- --out .trail/sample --days 30 --seed 1 --end 2024-03-15T12:00:00Z
 *
 * Same flags give byte-identical files. Without --end the trail ends at the current hour (printed,
 * so the run can be repeated).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import {
  SAMPLE_DEFAULT_ACCOUNTS,
  SAMPLE_DEFAULT_IOT_EVENTS_PER_DAY,
  SAMPLE_DEFAULT_ORG,
  SAMPLE_DEFAULT_OTHER_EVENTS_PER_IOT_EVENT,
  SAMPLE_DEFAULT_REGIONS,
  generateSampleTrail,
  type SampleTrailOptions,
} from './sample';
import { AWS_LOGS } from './layout';
import { ProgressLine } from './progress';

const USAGE = `Usage: npm run sample -- [options]

  --out DIR             output folder (receives AWSLogs/...)          default .trail/sample
  --days N              length of the trail in days                    default 30
  --end ISO             end of the trail (UTC; offsets accepted)       default: the current hour
  --seed S              integer seed                                   default 1
  --regions a,b         regions                                        default ${SAMPLE_DEFAULT_REGIONS.join(',')}
  --accounts x,y        12-digit accounts with their own trail         default ${SAMPLE_DEFAULT_ACCOUNTS.join(',')}
  --org-id o-...        organization id of the organization trail      default ${SAMPLE_DEFAULT_ORG.orgId}
  --org-account N       member account in the organization trail       default ${SAMPLE_DEFAULT_ORG.account}
  --no-org              no organization trail
  --scale F             multiply the event rate                        default 1
  --iot-per-day N       IoT Events calls per account, region and day   default ${SAMPLE_DEFAULT_IOT_EVENTS_PER_DAY}
  --other-per-iot N     other services' events per IoT Events call     default ${SAMPLE_DEFAULT_OTHER_EVENTS_PER_IOT_EVENT}
  --clean               delete DIR/AWSLogs first
  -h, --help            this text
`;

class UsageError extends Error {}

function num(name: string, value: string | undefined, fallback: number, check: (n: number) => boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${name}: invalid value '${value}'`);
  return n;
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError('empty list');
  return items;
}

function currentHour(): Date {
  const now = Date.now();
  return new Date(now - (now % 3_600_000));
}

export interface CliOptions {
  options: SampleTrailOptions;
  clean: boolean;
  endGiven: boolean;
  scale: number;
}

/** Parses the command line (without `node script`) into generator options. */
export function parseCli(argv: string[]): CliOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    strict: true,
    options: {
      out: { type: 'string' },
      days: { type: 'string' },
      end: { type: 'string' },
      seed: { type: 'string' },
      regions: { type: 'string' },
      accounts: { type: 'string' },
      'org-id': { type: 'string' },
      'org-account': { type: 'string' },
      'no-org': { type: 'boolean' },
      scale: { type: 'string' },
      'iot-per-day': { type: 'string' },
      'other-per-iot': { type: 'string' },
      clean: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';

  let end: Date;
  if (values.end !== undefined) {
    end = new Date(values.end);
    if (Number.isNaN(end.getTime())) throw new UsageError(`--end: not a date '${values.end}'`);
  } else {
    end = currentHour();
  }
  const days = num('days', values.days, 30, (n) => n > 0 && n <= 3660);
  const seed = num('seed', values.seed, 1, (n) => Number.isInteger(n));
  const scale = num('scale', values.scale, 1, (n) => n > 0);
  const iotPerDay = num('iot-per-day', values['iot-per-day'], SAMPLE_DEFAULT_IOT_EVENTS_PER_DAY, (n) => n >= 0);
  const otherPerIot = num('other-per-iot', values['other-per-iot'], SAMPLE_DEFAULT_OTHER_EVENTS_PER_IOT_EVENT, (n) => n >= 0);
  if (values['no-org'] && (values['org-id'] !== undefined || values['org-account'] !== undefined)) {
    throw new UsageError('--no-org cannot be combined with --org-id or --org-account');
  }
  const orgAccount = values['no-org']
    ? null
    : {
        orgId: values['org-id'] ?? SAMPLE_DEFAULT_ORG.orgId,
        account: values['org-account'] ?? SAMPLE_DEFAULT_ORG.account,
      };
  return {
    options: {
      outDir: values.out ?? path.join('.trail', 'sample'),
      days,
      end,
      seed,
      accounts: list(values.accounts),
      orgAccount,
      regions: list(values.regions),
      iotEventsPerDay: iotPerDay * scale,
      otherEventsPerIotEvent: otherPerIot,
    },
    clean: values.clean ?? false,
    endGiven: values.end !== undefined,
    scale,
  };
}

async function main(): Promise<number> {
  let parsed: CliOptions | 'help';
  try {
    parsed = parseCli(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const { options, clean } = parsed;
  const logs = path.join(options.outDir, AWS_LOGS);
  if (fs.existsSync(logs)) {
    if (!clean) {
      process.stderr.write(`${logs} already exists; pass --clean to replace it (files of different runs would mix).\n`);
      return 2;
    }
    fs.rmSync(logs, { recursive: true, force: true });
  }

  const line = new ProgressLine('sample');
  const started = process.hrtime.bigint();
  const result = await generateSampleTrail({
    ...options,
    onProgress: process.stderr.isTTY
      ? (p) => line.update(p.files, p.totalFiles, 'files', Number(process.hrtime.bigint() - started) / 1e6, `${p.records.toLocaleString('en-US')} records`)
      : undefined,
  });
  line.done();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;

  const reproduce = [
    'npm run sample --',
    `--out ${options.outDir}`,
    `--days ${options.days}`,
    `--seed ${options.seed}`,
    `--end ${result.end.toISOString()}`,
    options.regions ? `--regions ${options.regions.join(',')}` : '',
    options.accounts ? `--accounts ${options.accounts.join(',')}` : '',
    options.orgAccount === null ? '--no-org' : '',
    parsed.scale !== 1 ? `--scale ${parsed.scale}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  const share = result.records > 0 ? ((100 * result.iotEventsRecords) / result.records).toFixed(1) : '0';
  process.stdout.write(
    [
      `Sample trail written to ${path.resolve(options.outDir)}`,
      `  window        ${result.start.toISOString()} .. ${result.end.toISOString()}${parsed.endGiven ? '' : ' (end = current hour)'}`,
      `  log files     ${result.files}`,
      `  records       ${result.records} (IoT Events ${result.iotEventsRecords}, ${share}%; duplicate deliveries ${result.duplicateRecords})`,
      `  digest files  ${result.digestFiles}, insight files ${result.insightFiles}`,
      `  took          ${(ms / 1000).toFixed(1)} s`,
      `  reproduce     ${reproduce}`,
      '',
    ].join('\n'),
  );
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
