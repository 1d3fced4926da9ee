/**
 * Deterministic sample CloudTrail trail: gzipped `{"Records":[...]}` files in the S3 delivery
 * layout, with digests and one Insights file beside them, for local engines, tests and demos.
 *
 * Same options (seed, end, ...) give byte-identical files: every random choice comes from a seeded
 * generator; nothing reads the clock or Math.random.
 */
import * as fs from 'node:fs';
import { ACCOUNT_ID, ORG_ID, REGION } from '../domain/aws';
import { DEFAULT_SLOT, Writer, generateStream } from './sample/delivery';
import {
  SAMPLE_DEFAULT_ACCOUNTS,
  SAMPLE_DEFAULT_IOT_EVENTS_PER_DAY,
  SAMPLE_DEFAULT_ORG,
  SAMPLE_DEFAULT_OTHER_EVENTS_PER_IOT_EVENT,
  SAMPLE_DEFAULT_REGIONS,
  SampleTrailOptions,
  SampleTrailResult,
} from './sample/options';
import { AccountCtx, buildAccount } from './sample/personas';

export * from './sample/options';

export async function generateSampleTrail(options: SampleTrailOptions): Promise<SampleTrailResult> {
  const days = options.days;
  if (!(days > 0) || !Number.isFinite(days)) throw new Error(`days must be a positive number, got ${days}`);
  const endMs = options.end.getTime();
  if (!Number.isFinite(endMs)) throw new Error('end must be a valid date');
  if (!Number.isInteger(options.seed)) throw new Error(`seed must be an integer, got ${options.seed}`);
  const accounts = options.accounts ?? [...SAMPLE_DEFAULT_ACCOUNTS];
  const org = options.orgAccount === undefined ? SAMPLE_DEFAULT_ORG : options.orgAccount;
  const regions = options.regions ?? [...SAMPLE_DEFAULT_REGIONS];
  const iotPerDay = options.iotEventsPerDay ?? SAMPLE_DEFAULT_IOT_EVENTS_PER_DAY;
  const otherPerIot = options.otherEventsPerIotEvent ?? SAMPLE_DEFAULT_OTHER_EVENTS_PER_IOT_EVENT;
  for (const a of [...accounts, ...(org ? [org.account] : [])]) {
    if (!ACCOUNT_ID.test(a)) throw new Error(`account must be 12 digits, got ${a}`);
  }
  if (org && !ORG_ID.test(org.orgId)) throw new Error(`orgId must look like o-xxxxxxxxxx, got ${org.orgId}`);
  for (const r of regions) if (!REGION.test(r)) throw new Error(`not a region: ${r}`);
  if (regions.length === 0) throw new Error('at least one region is needed');
  if (!(iotPerDay >= 0) || !(otherPerIot >= 0)) throw new Error('rates must be non-negative');
  const allAccounts = [...accounts, ...(org ? [org.account] : [])];
  if (new Set(allAccounts).size !== allAccounts.length) throw new Error('accounts must be distinct');

  const endSec = Math.floor(endMs / 1000);
  const startSec = endSec - Math.round(days * 86400);
  const homeRegion = regions[0]!;
  const ctxs: AccountCtx[] = accounts.map((a, i) => buildAccount(options.seed, a, i, allAccounts, undefined, homeRegion));
  if (org) ctxs.push(buildAccount(options.seed, org.account, accounts.length, allAccounts, org.orgId, homeRegion));

  fs.mkdirSync(options.outDir, { recursive: true });
  const w = new Writer(options.outDir);
  const SLOT = Math.round((options.deliveryMinutes ?? DEFAULT_SLOT / 60) * 60);
  if (!(SLOT >= 60 && SLOT <= 86400)) throw new Error('deliveryMinutes must be from 1 to 1440');
  const slotsPerStream = Math.ceil((endSec - startSec) / SLOT);
  const totalFiles = slotsPerStream * ctxs.length * regions.length;
  const progress = options.onProgress
    ? (): void => {
        if (w.files % 200 === 0) options.onProgress!({ files: w.files, records: w.records, totalFiles: Math.max(totalFiles, w.files) });
      }
    : (): void => {};

  let first = true;
  for (const ctx of ctxs) {
    for (const region of regions) {
      await generateStream(
        { ctx, region, homeRegion, first },
        {
          seed: options.seed,
          startSec,
          endSec,
          iotPerSlot: (iotPerDay * SLOT) / 86400,
          otherPerSlot: (iotPerDay * otherPerIot * SLOT) / 86400,
          slot: SLOT,
        },
        w,
        progress,
      );
      first = false;
    }
  }
  await w.drain();
  options.onProgress?.({ files: w.files, records: w.records, totalFiles: w.files });
  return {
    files: w.files,
    records: w.records,
    iotEventsRecords: w.iotRecords,
    duplicateRecords: w.duplicates,
    digestFiles: w.digests,
    insightFiles: w.insights,
    start: new Date(startSec * 1000),
    end: new Date(endSec * 1000),
  };
}
