/** Traffic shape over the day and week, and delivery: files, digests and the Insights file. */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import { IOT_EVENTS_DATA_SOURCE } from '../../domain/iotevents-actions';
import { deliveryKey, digestKey, insightKey } from '../layout';
import { scenarioCalls } from '../sample-scenarios';
import { JsonObject, isoSeconds } from './formats';
import { Stream, iotRecord } from './iotevents';
import { otherRecord, otherTable } from './other-services';
import { AccountCtx } from './personas';
import { ALNUM, Rng } from './random';

export function hourlyShape(h: number): number {
  return 0.35 + 1.35 * Math.exp(-((h - 13) * (h - 13)) / (2 * 3.5 * 3.5));
}

/** Mean of hourlyShape over a day, so that activity() averages to 1 over a week. */
export const HOURLY_MEAN = (() => {
  let sum = 0;
  for (let i = 0; i < 288; i++) sum += hourlyShape((i + 0.5) / 12);
  return sum / 288;
})();
export const WEEKDAY = 1.12;
export const WEEKEND = 0.55;
export const WEEKLY_MEAN = (5 * WEEKDAY + 2 * WEEKEND) / 7;

/** Relative activity by UTC hour (busier in working hours) and weekday (quieter at weekends); mean 1. */
export function activity(t: number): number {
  const d = new Date(t * 1000);
  const h = d.getUTCHours() + d.getUTCMinutes() / 60;
  const day = d.getUTCDay();
  return (hourlyShape(h) / HOURLY_MEAN) * ((day === 0 || day === 6 ? WEEKEND : WEEKDAY) / WEEKLY_MEAN);
}

/** Seconds between delivered files of one account and region (CloudTrail delivers about every 5 minutes). */
export const DEFAULT_SLOT = 300;
export const DIGEST_HOURS = [6, 18];

export interface Entry {
  t: number;
  json: string;
  iot: boolean;
}

export interface FileInfo {
  key: string;
  hash: string;
  oldest: number;
  newest: number;
}

export class Writer {
  private readonly dirs = new Set<string>();
  files = 0;
  records = 0;
  iotRecords = 0;
  digests = 0;
  insights = 0;
  duplicates = 0;

  private readonly inflight = new Set<Promise<void>>();
  private failure: Error | undefined;

  constructor(private readonly outDir: string) {}

  write(key: string, content: string): Buffer {
    const gz = zlib.gzipSync(Buffer.from(content, 'utf8'));
    // gzip header OS byte: fixed, so output does not depend on the platform.
    gz[9] = 3;
    const full = path.join(this.outDir, key);
    const dir = path.dirname(full);
    if (!this.dirs.has(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      this.dirs.add(dir);
    }
    // Writes overlap with generation; backpressure() bounds how many are in flight.
    const pending: Promise<void> = fs.promises.writeFile(full, gz).then(
      () => {
        this.inflight.delete(pending);
      },
      (e: unknown) => {
        this.inflight.delete(pending);
        this.failure ??= e instanceof Error ? e : new Error(String(e));
      },
    );
    this.inflight.add(pending);
    return gz;
  }

  /** Waits while too many writes are in flight; rethrows the first write error. */
  async backpressure(limit = 64): Promise<void> {
    while (this.inflight.size >= limit) await Promise.race(this.inflight);
    if (this.failure) throw this.failure;
  }

  async drain(): Promise<void> {
    await this.backpressure(1);
  }
}

export function sha256(buf: Buffer): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

export interface StreamPlan {
  ctx: AccountCtx;
  region: string;
  homeRegion: string;
  first: boolean;
}

export async function generateStream(
  plan: StreamPlan,
  opts: { seed: number; startSec: number; endSec: number; iotPerSlot: number; otherPerSlot: number; slot: number },
  w: Writer,
  progress: () => void,
): Promise<void> {
  const SLOT = opts.slot;
  const { ctx, region } = plan;
  const { startSec, endSec } = opts;
  const rng = new Rng(`${opts.seed}|stream|${ctx.orgId ?? ''}|${ctx.account}|${region}`);
  const st: Stream = { rng, ctx, region, versions: new Map(), analyses: [] };
  const table = otherTable(region);
  const pending = new Map<number, Entry[]>();
  const digestFiles = new Map<number, FileInfo[]>();

  const push = (d: number, e: Entry): void => {
    let list = pending.get(d);
    if (!list) pending.set(d, (list = []));
    list.push(e);
  };

  const flush = (d: number): void => {
    const entries = pending.get(d);
    if (!entries) return;
    pending.delete(d);
    if (d > endSec) return;
    // Delivery order within a file is not strictly chronological.
    for (let i = 1; i < entries.length; i++) {
      if (rng.chance(0.1)) {
        const tmp = entries[i - 1]!;
        entries[i - 1] = entries[i]!;
        entries[i] = tmp;
      }
    }
    let nFiles = 1 + Math.floor(entries.length / 150);
    if (entries.length >= 2 && rng.chance(0.12)) nFiles++;
    const buckets: Entry[][] = Array.from({ length: nFiles }, () => []);
    for (const e of entries) buckets[nFiles === 1 ? 0 : rng.int(nFiles)]!.push(e);
    const time = new Date(d * 1000);
    const hour = time.getUTCHours();
    const digestHour = DIGEST_HOURS.find((h) => h === hour + 1);
    for (const bucket of buckets) {
      if (bucket.length === 0) continue;
      const key = deliveryKey({ account: ctx.account, region, orgId: ctx.orgId, time, unique: rng.chars(ALNUM, 16) });
      let content = '{"Records":[';
      let oldest = Infinity;
      let newest = -Infinity;
      for (let i = 0; i < bucket.length; i++) {
        const e = bucket[i]!;
        if (i) content += ',';
        content += e.json;
        if (e.t < oldest) oldest = e.t;
        if (e.t > newest) newest = e.t;
        if (e.iot) w.iotRecords++;
      }
      content += ']}';
      const gz = w.write(key, content);
      w.files++;
      w.records += bucket.length;
      if (digestHour !== undefined) {
        const h = Math.floor(d / 3600) * 3600 + 3600;
        let list = digestFiles.get(h);
        if (!list) digestFiles.set(h, (list = []));
        list.push({ key, hash: sha256(gz), oldest, newest });
      }
      progress();
    }
  };

  // The planted insight scenarios (first account, home region), delivered two minutes after each call.
  if (plan.first) {
    for (const c of scenarioCalls(ctx.account, region, startSec, endSec)) {
      const d = Math.ceil((c.t + 120) / SLOT) * SLOT;
      if (d <= endSec) push(d, { t: c.t, json: c.json, iot: true });
    }
  }

  const firstBlock = Math.floor(startSec / SLOT);
  const lastBlock = Math.ceil(endSec / SLOT);
  let yieldCounter = 0;
  for (let b = firstBlock; b < lastBlock; b++) {
    const from = Math.max(b * SLOT, startSec);
    const to = Math.min((b + 1) * SLOT, endSec);
    if (to > from) {
      const frac = (to - from) / SLOT;
      const act = activity(b * SLOT + SLOT / 2);
      const nIot = rng.poisson(opts.iotPerSlot * act * frac);
      const nOther = rng.poisson(opts.otherPerSlot * act * frac);
      const n = nIot + nOther;
      if (n > 0) {
        const times: number[] = [];
        for (let i = 0; i < n; i++) times.push(from + rng.int(to - from));
        times.sort((x, y) => x - y);
        let iotLeft = nIot;
        let left = n;
        for (const t of times) {
          const isIot = rng.next() * left < iotLeft;
          left--;
          if (isIot) iotLeft--;
          const built = isIot ? iotRecord(st, t) : otherRecord(st, table, t);
          // Delivery: usually 1-15 minutes after the event, rarely hours later.
          const lag = rng.chance(0.002) ? rng.range(3600, 6 * 3600) : rng.range(60, 900);
          const d = Math.ceil((t + lag) / SLOT) * SLOT;
          if (d > endSec) continue;
          const entry: Entry = { t, json: built.json, iot: built.iot };
          push(d, entry);
          if (rng.chance(0.001)) {
            const d2 = d + SLOT * rng.range(1, 3);
            if (d2 <= endSec) {
              push(d2, entry);
              w.duplicates++;
            }
          }
        }
      }
    }
    // Every event from here on is at or after (b+1)*SLOT and is delivered after it: that slot is complete.
    flush((b + 1) * SLOT);
    await w.backpressure();
    if (++yieldCounter % 64 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  for (const d of [...pending.keys()].sort((x, y) => x - y)) flush(d);

  writeDigests(plan, digestFiles, startSec, endSec, rng, w);
  if (plan.first) writeInsight(plan, startSec, endSec, rng, w, SLOT);
  await w.backpressure();
}

export function writeDigests(plan: StreamPlan, files: Map<number, FileInfo[]>, startSec: number, endSec: number, rng: Rng, w: Writer): void {
  const { ctx, region } = plan;
  const fingerprint = rng.hex(32);
  let prev: { key: string; hash: string; signature: string } | null = null;
  const firstDay = Math.floor(startSec / 86400);
  const lastDay = Math.floor(endSec / 86400);
  for (let day = firstDay; day <= lastDay; day++) {
    for (const hour of DIGEST_HOURS) {
      const h = day * 86400 + hour * 3600;
      if (h - 3600 < startSec || h > endSec) continue;
      const stamp = h + 31;
      const time = new Date(stamp * 1000);
      const key = digestKey({ account: ctx.account, region, orgId: ctx.orgId, trailName: ctx.trailName, homeRegion: plan.homeRegion, time });
      const logFiles = files.get(h) ?? [];
      const oldest = logFiles.length ? Math.min(...logFiles.map((f) => f.oldest)) : null;
      const newest = logFiles.length ? Math.max(...logFiles.map((f) => f.newest)) : null;
      const digest: JsonObject = {
        awsAccountId: ctx.account,
        digestStartTime: isoSeconds(h - 3600 + 31),
        digestEndTime: isoSeconds(stamp),
        digestS3Bucket: ctx.bucket,
        digestS3Object: key,
        digestPublicKeyFingerprint: fingerprint,
        digestSignatureAlgorithm: 'SHA256withRSA',
        newestEventTime: newest === null ? null : isoSeconds(newest),
        oldestEventTime: oldest === null ? null : isoSeconds(oldest),
        previousDigestS3Bucket: prev ? ctx.bucket : null,
        previousDigestS3Object: prev ? prev.key : null,
        previousDigestHashValue: prev ? prev.hash : null,
        previousDigestHashAlgorithm: prev ? 'SHA-256' : null,
        previousDigestSignature: prev ? prev.signature : null,
        logFiles: logFiles.map((f) => ({
          s3Bucket: ctx.bucket,
          s3Object: f.key,
          hashValue: f.hash,
          hashAlgorithm: 'SHA-256',
          newestEventTime: isoSeconds(f.newest),
          oldestEventTime: isoSeconds(f.oldest),
        })),
      };
      const gz = w.write(key, JSON.stringify(digest));
      w.digests++;
      prev = { key, hash: sha256(gz), signature: rng.hex(128) };
    }
  }
}

/** One CloudTrail Insights file (an API call rate insight on BatchPutMessage): not API calls. */
export function writeInsight(plan: StreamPlan, startSec: number, endSec: number, rng: Rng, w: Writer, SLOT: number): void {
  const { ctx, region } = plan;
  const mid = Math.floor((startSec + endSec) / 2 / SLOT) * SLOT;
  const startT = mid - 1800;
  if (startT < startSec || mid + SLOT > endSec) return;
  const shared = rng.uuid();
  const base = (state: 'Start' | 'End', t: number, extra: JsonObject): JsonObject => ({
    eventVersion: '1.08',
    eventTime: isoSeconds(t),
    awsRegion: region,
    eventID: rng.uuid(),
    eventType: 'AwsCloudTrailInsight',
    recipientAccountId: ctx.account,
    sharedEventID: shared,
    insightDetails: {
      state,
      eventSource: IOT_EVENTS_DATA_SOURCE,
      eventName: 'BatchPutMessage',
      insightType: 'ApiCallRateInsight',
      insightContext: extra,
    },
    eventCategory: 'Insight',
  });
  const stats = { baseline: { average: 0.2135 }, insight: { average: 4.5 } };
  const records = [
    base('Start', startT, { statistics: stats }),
    base('End', mid, {
      statistics: { ...stats, insightDuration: 30, baselineDuration: 10050 },
      attributions: [
        { attribute: 'userIdentityArn', insight: [{ value: `arn:aws:sts::${ctx.account}:assumed-role/IoTEventsIngestLambdaRole/iot-events-ingest`, average: 4.1 }], baseline: [] },
        { attribute: 'userAgent', insight: [{ value: 'iot.amazonaws.com', average: 0.4 }], baseline: [] },
        { attribute: 'errorCode', insight: [{ value: 'null', average: 4.5 }], baseline: [] },
      ],
    }),
  ];
  const key = insightKey({ account: ctx.account, region, orgId: ctx.orgId, time: new Date((mid + SLOT) * 1000), unique: rng.chars(ALNUM, 16) });
  w.write(key, JSON.stringify({ Records: records }));
  w.insights++;
}

/** Writes a sample trail under `options.outDir` (creating it) and says what it wrote. */
