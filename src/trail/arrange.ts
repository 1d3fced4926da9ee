/**
 * Brings loose CloudTrail files into the S3 delivery layout the engines read: delivered files
 * (`<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<id>.json[.gz]`) are copied to their folder
 * unchanged; any other JSON file holding `{"Records":[...]}` or a single record is split by
 * account, region and day of its records and written as new delivery files.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ACCOUNT_ID } from '../domain/aws';
import { REGION_FOLDER, dayFolderKey, dayPath, deliveryKey, parseDeliveryFileName } from './layout';


export interface ArrangeResult {
  /** Layout-relative paths written. */
  readonly files: string[];
  readonly records: number;
}

type CloudTrailRecord = Record<string, unknown>;

async function readJson(file: string): Promise<unknown> {
  const raw = await fs.readFile(file);
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  return JSON.parse(text);
}

function recordsOf(doc: unknown, file: string): CloudTrailRecord[] {
  if (doc && typeof doc === 'object' && Array.isArray((doc as { Records?: unknown }).Records)) {
    return (doc as { Records: CloudTrailRecord[] }).Records;
  }
  if (doc && typeof doc === 'object' && 'eventID' in doc) return [doc as CloudTrailRecord];
  throw new Error(`${file}: neither {"Records":[...]} nor a CloudTrail record`);
}

export async function arrangeTrail(fromDir: string, outDir: string): Promise<ArrangeResult> {
  const written: string[] = [];
  let records = 0;
  const loose = new Map<string, CloudTrailRecord[]>();
  for (const name of (await fs.readdir(fromDir)).sort()) {
    if (!/\.json(\.gz)?$/.test(name)) continue;
    const file = path.join(fromDir, name);
    const delivered = parseDeliveryFileName(name);
    const recs = recordsOf(await readJson(file), file);
    records += recs.length;
    if (delivered) {
      const rel = path.join(...dayFolderKey(delivered.account, delivered.region, delivered.day).split('/'), name);
      await fs.mkdir(path.join(outDir, path.dirname(rel)), { recursive: true });
      await fs.copyFile(file, path.join(outDir, rel));
      written.push(rel);
      continue;
    }
    for (const r of recs) {
      const account = String(r.recipientAccountId ?? (r.userIdentity as { accountId?: string } | undefined)?.accountId ?? '000000000000');
      const region = String(r.awsRegion ?? 'us-east-1');
      const time = new Date(String(r.eventTime));
      if (!ACCOUNT_ID.test(account) || !REGION_FOLDER.test(region) || Number.isNaN(time.getTime())) {
        throw new Error(`${file}: record ${String(r.eventID)} has no usable account, region or eventTime`);
      }
      const key = `${account}|${region}|${dayPath(time)}`;
      loose.set(key, [...(loose.get(key) ?? []), r]);
    }
  }
  for (const [key, recs] of loose) {
    const [account, region] = key.split('|');
    const last = new Date(Math.max(...recs.map((r) => new Date(String(r.eventTime)).getTime())));
    const unique = createHash('sha256').update(JSON.stringify(recs)).digest('hex').slice(0, 16);
    const rel = deliveryKey({ account, region, time: last, unique });
    await fs.mkdir(path.join(outDir, path.dirname(rel)), { recursive: true });
    await fs.writeFile(path.join(outDir, rel), gzipSync(Buffer.from(JSON.stringify({ Records: recs }))));
    written.push(rel);
  }
  return { files: written, records };
}
