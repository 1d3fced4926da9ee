/**
 * Event history records written in CloudTrail's S3 delivery layout: one file per account, region
 * and five-minute delivery slot (named after the slot's end, when CloudTrail would have delivered
 * it), `{"Records":[...]}` gzipped, one record per line, each record the `CloudTrailEvent` text
 * as LookupEvents returned it. A slot's file name is the same on every run, so records of a slot
 * met again are merged into its one file by eventID: a record is never written twice. Files are
 * replaced atomically and durably (durable.ts), so an interrupted run, or a crash of the machine,
 * never leaves half a file, and
 * under a lock between processes (file-lock.ts), so two syncs never drop each other's records.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { deliveryKey } from '../trail/layout';
import { asideName, replaceDurably } from './durable';
import { withFileLock } from './file-lock';

export const SLOT_MS = 5 * 60_000;

/** A record ready to be written: its text and what places it. */
export interface SlotRecord {
  /** `recordKey` of the record. */
  readonly eventId: string;
  readonly account: string;
  readonly time: Date;
  /** The CloudTrailEvent JSON text. */
  readonly text: string;
}

export function slotStart(time: Date): number {
  return Math.floor(time.getTime() / SLOT_MS) * SLOT_MS;
}

/** The key of a slot's file (relative to the trail folder). */
export function slotKey(account: string, region: string, start: number): string {
  const unique = createHash('sha256').update(`event-history|${account}|${region}|${start}`).digest('hex').slice(0, 16);
  return deliveryKey({ account, region, time: new Date(start + SLOT_MS), unique });
}

const HEAD = '{"Records":[';
const TAIL = ']}';

/** Line breaks between JSON tokens are only whitespace (a JSON string cannot hold a raw one). */
function oneLine(text: string): string {
  return /[\r\n]/.test(text) ? text.replace(/[\r\n]+/g, ' ') : text;
}

/** What makes a record one call: its eventID, else (records without one) its whole text. */
export function recordKey(text: string, record: { eventID?: unknown }): string {
  return typeof record.eventID === 'string' && record.eventID ? record.eventID : `sha256:${createHash('sha256').update(oneLine(text)).digest('hex')}`;
}

/**
 * eventID -> line of a slot file written by `mergeSlot`. A file that cannot be read (damaged by a
 * crash of the machine, or by hand) is set aside under another name of the same delivery, which
 * the engines still read and report as unreadable, so answers over its time say what they lack;
 * the slot then starts again empty, and the sync goes on.
 */
function readSlot(file: string): Map<string, string> {
  const lines = new Map<string, string>();
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return lines;
    throw err;
  }
  try {
    const text = gunzipSync(raw).toString('utf8');
    for (const line of text.split('\n')) {
      const body = line.endsWith(',') ? line.slice(0, -1) : line;
      if (body === HEAD || body === TAIL || body === '') continue;
      lines.set(recordKey(body, JSON.parse(body) as { eventID?: unknown }), body);
    }
  } catch {
    fs.renameSync(file, asideName(file, 'Unreadable', '.json.gz'));
    lines.clear();
  }
  return lines;
}

/**
 * Adds records (all of one account, region and slot) to the slot's file; returns how many were
 * new to it. The file is read, merged and replaced under its lock, so a sync in another process
 * (`npm run sync` beside the service's own) writing the same slot cannot drop these records, nor
 * these its.
 */
export async function mergeSlot(trailDir: string, region: string, records: readonly SlotRecord[]): Promise<number> {
  if (!records.length) return 0;
  const first = records[0];
  const file = path.join(trailDir, ...slotKey(first.account, region, slotStart(first.time)).split('/'));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return withFileLock(file, () => {
    const lines = readSlot(file);
    const before = lines.size;
    for (const r of records) if (!lines.has(r.eventId)) lines.set(r.eventId, oneLine(r.text));
    if (lines.size === before) return 0;
    replaceDurably(file, gzipSync(`${HEAD}\n${[...lines.values()].join(',\n')}\n${TAIL}\n`));
    return lines.size - before;
  });
}
