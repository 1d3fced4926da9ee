/**
 * An independent reader for tests: walks a trail folder with plain fs + zlib + JSON.parse, so
 * answers from the service can be checked against the files themselves.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';

export type RawRecord = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface FileRecord {
  file: string;
  record: RawRecord;
}

export function listRecordFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name === 'CloudTrail-Digest' || e.name === 'CloudTrail-Insight') continue;
        walk(p);
      } else if (/\.json(\.gz)?$/.test(e.name) && p.includes(`${path.sep}CloudTrail${path.sep}`)) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

export function readRecords(root: string): FileRecord[] {
  return listRecordFiles(root).flatMap((file) => {
    const raw = fs.readFileSync(file);
    const doc = JSON.parse((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')) as { Records: RawRecord[] };
    return doc.Records.map((record) => ({ file, record }));
  });
}

/** One record per eventID (CloudTrail may deliver a record twice). */
export function dedupe(records: FileRecord[]): RawRecord[] {
  const seen = new Map<string, RawRecord>();
  for (const { record } of records) if (!seen.has(record.eventID)) seen.set(record.eventID, record);
  return [...seen.values()];
}

export const IOT_SOURCES = ['iotevents.amazonaws.com', 'ioteventsdata.amazonaws.com'];

export function inWindow(r: RawRecord, from: Date, to: Date): boolean {
  const t = new Date(r.eventTime).getTime();
  return t >= from.getTime() && t < to.getTime();
}

/** Newest first, then eventID descending: the service's order. */
export function byTimeDesc(a: RawRecord, b: RawRecord): number {
  if (a.eventTime !== b.eventTime) return a.eventTime < b.eventTime ? 1 : -1;
  return a.eventID < b.eventID ? 1 : a.eventID > b.eventID ? -1 : 0;
}
