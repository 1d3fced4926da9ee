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

const ui = (r: RawRecord) => r.userIdentity ?? {};

/**
 * The caller key, computed independently of the service: ARN; else the service, for a call a
 * service made itself (type AWSService, or no type and an invokedBy); else principalId; else
 * invokedBy; else an Identity Center user's store and id; else account.
 */
export function callerKeyOf(r: RawRecord): string {
  const u = ui(r);
  const idc = u.onBehalfOf?.identityStoreArn != null && u.onBehalfOf?.userId != null ? `identity-center-user:${u.onBehalfOf.identityStoreArn}/${u.onBehalfOf.userId}` : undefined;
  const byService = u.type === 'AWSService' || (u.type == null && u.invokedBy != null);
  return u.arn ?? (byService ? u.invokedBy : undefined) ?? u.principalId ?? u.invokedBy ?? idc ?? (u.accountId ? `account:${u.accountId}` : 'unknown');
}

/** The principal: the session issuer for role sessions, else the caller (a federated user is its own). */
export function principalOf(r: RawRecord): string {
  const u = ui(r);
  const issuer = u.sessionContext?.sessionIssuer?.arn;
  if (['AssumedRole', 'Role', 'WebIdentityUser', 'SAMLUser'].includes(u.type) && issuer) return issuer;
  return callerKeyOf(r);
}

/** Calls, errors, first and last seen of a set of records. */
export function usage(rs: RawRecord[]) {
  const times = rs.map((r) => r.eventTime as string).sort();
  return {
    calls: rs.length,
    errors: rs.filter((r) => r.errorCode).length,
    firstSeen: times.length ? new Date(times[0]).toISOString() : null,
    lastSeen: times.length ? new Date(times[times.length - 1]).toISOString() : null,
  };
}

export function groupBy<T>(items: T[], key: (t: T) => string | null | undefined): Map<string | null, T[]> {
  const m = new Map<string | null, T[]>();
  for (const it of items) {
    const k = key(it) ?? null;
    m.set(k, [...(m.get(k) ?? []), it]);
  }
  return m;
}
