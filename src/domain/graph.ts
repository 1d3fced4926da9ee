/** The graph users walk from a call: callers, source addresses, actions, activity, resources. */
import { Row } from './row';
import { ApiCallRecord, CallerInfo, SourceIpInfo, callerFromRow, sourceIpOf } from './api-call';

export interface Window {
  readonly from: Date;
  readonly to: Date;
}

export interface CallerStatsRecord extends Usage {
  distinctActions: number;
  distinctSourceIps: number;
  accessKeyIds: string[];
}

export interface SourceIpStatsRecord extends Usage {
  distinctActions: number;
  distinctCallers: number;
}

/**
 * A caller as reached in the graph: its identity plus the window of the query that reached it,
 * which its nested fields use unless they are given their own.
 */
export interface CallerNode extends CallerInfo {
  readonly window: Window;
  /** What `key` names: a caller (ARN, service, account) or, for grouped-by-principal answers, a principal. */
  readonly keyKind?: 'caller' | 'principal';
  /** Stats computed by the query that found this caller (for its window, under `filter`). */
  readonly preloaded?: CallerStatsRecord;
  /** The filter of the query that found it, which `preloaded` counts under (opaque here); absent: the window alone. */
  readonly filter?: object | null;
}

/** A source address as a graph node; `address` and `kind` are null for the calls without an address. */
export interface SourceIpNode {
  readonly address: string | null;
  readonly kind: SourceIpInfo['kind'] | null;
  readonly window: Window;
  readonly preloaded?: SourceIpStatsRecord;
  /** The filter of the query that found it, which `preloaded` counts under (opaque here); absent: the window alone. */
  readonly filter?: object | null;
}

export interface ApiCallNode extends Omit<ApiCallRecord, 'caller' | 'sourceIp'> {
  caller: CallerNode;
  sourceIp: SourceIpNode | null;
}

export interface ActionSummaryRecord {
  /** Null for calls whose record has no eventName (or eventSource): a group of their own. */
  action: string | null;
  eventSource: string | null;
  calls: number;
  errors: number;
  distinctCallers: number;
  distinctSourceIps: number;
  firstSeen: Date | null;
  lastSeen: Date | null;
  /** The window and filter the summary counts under (the filter is opaque here). */
  window: Window;
  filter: object | null;
  /** Resolved on demand: it costs one more query for all actions of the answer. */
  errorsByCode: () => Promise<{ code: string; calls: number }[]>;
}

export interface ActivityBucketRecord {
  start: Date;
  key: string | null;
  calls: number;
  errors: number;
}

const num = (v: Row[string] | undefined): number => (v === null || v === undefined ? 0 : Number(v));
const text = (v: Row[string] | undefined): string | null => (v === null || v === undefined ? null : String(v));
const date = (v: Row[string] | undefined): Date | null => (v === null || v === undefined ? null : new Date(String(v)));

function jsonList(v: Row[string] | undefined): string[] {
  if (typeof v !== 'string') return [];
  try {
    const parsed = JSON.parse(v) as unknown;
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export interface Usage {
  calls: number;
  errors: number;
  firstSeen: Date | null;
  lastSeen: Date | null;
}

/** Calls, errors and first/last seen of a grouped row. */
export function usageFromRow(row: Row): Usage {
  return { calls: num(row.calls), errors: num(row.errors), firstSeen: date(row.first_seen), lastSeen: date(row.last_seen) };
}

/*
 * The builders of grouped rows below add their fields to one new object (Object.assign) instead of
 * spreading one into another: a page builds up to 500 of them, and a spread that sets a key again
 * costs V8 a slow copy, and leaves an object slower to read, each many times what the row costs.
 */

export function callerStatsFromRow(row: Row): CallerStatsRecord {
  return Object.assign(usageFromRow(row), {
    distinctActions: num(row.distinct_actions),
    distinctSourceIps: num(row.distinct_source_ips),
    accessKeyIds: jsonList(row.access_key_ids),
  });
}

export function sourceIpStatsFromRow(row: Row): SourceIpStatsRecord {
  return Object.assign(usageFromRow(row), { distinctActions: num(row.distinct_actions), distinctCallers: num(row.distinct_callers) });
}

export function emptyCallerStats(): CallerStatsRecord {
  return { calls: 0, errors: 0, firstSeen: null, lastSeen: null, distinctActions: 0, distinctSourceIps: 0, accessKeyIds: [] };
}

export function emptySourceIpStats(): SourceIpStatsRecord {
  return { calls: 0, errors: 0, firstSeen: null, lastSeen: null, distinctActions: 0, distinctCallers: 0 };
}

/** A grouped caller row's identity columns as a node without stats; `key` is the group value. */
export function callerOfRow(row: Row, window: Window, keyKind: 'caller' | 'principal' = 'caller'): CallerNode {
  const caller = callerFromRow(row);
  return Object.assign(caller, { key: String(row.group_key ?? caller.key), keyKind, window });
}

/**
 * A grouped caller row (identity columns + stats) as a node; `key` is the group value, `filter`
 * the one its stats count under (absent: the window alone).
 */
export function callerNodeFromRow(row: Row, window: Window, keyKind: 'caller' | 'principal' = 'caller', filter?: object | null): CallerNode {
  const node = Object.assign(callerOfRow(row, window, keyKind), { preloaded: callerStatsFromRow(row) });
  return filter === undefined ? node : Object.assign(node, { filter });
}

export function sourceIpNodeFromRow(row: Row, window: Window, filter?: object | null): SourceIpNode {
  const address = row.group_key === null || row.group_key === undefined ? null : String(row.group_key);
  const preloaded = sourceIpStatsFromRow(row);
  const node: SourceIpNode = address === null ? { address, kind: null, window, preloaded } : sourceIpOf(address, { window, preloaded });
  return filter === undefined ? node : Object.assign(node, { filter });
}

export function nodeOfCall(call: ApiCallRecord, window: Window): ApiCallNode {
  return { ...call, caller: { ...call.caller, window }, sourceIp: call.sourceIp ? sourceIpOf(call.sourceIp.address, { window }) : null };
}

export function actionFromRow(row: Row): Omit<ActionSummaryRecord, 'errorsByCode' | 'window' | 'filter'> {
  return Object.assign(usageFromRow(row), {
    action: text(row.action),
    eventSource: text(row.event_source),
    distinctCallers: num(row.distinct_callers),
    distinctSourceIps: num(row.distinct_source_ips),
  });
}

export function bucketFromRow(row: Row): ActivityBucketRecord {
  return { start: new Date(String(row.bucket)), key: row.group_key === null || row.group_key === undefined ? null : String(row.group_key), calls: num(row.calls), errors: num(row.errors) };
}

/**
 * A record whose eventTime cannot be read as a date-time: in no window, so in no page or count of
 * calls; listed on its own, by the delivery file that holds it.
 */
export interface UntimedRecord {
  /** The delivery file's key from `AWSLogs/` on. */
  file: string;
  eventId: string;
  /** eventTime exactly as written; null when the record has none. */
  eventTimeRaw: string | null;
  eventVersion: string | null;
  eventSource: string | null;
  action: string | null;
  eventType: string | null;
  region: string | null;
  account: string | null;
  requestId: string | null;
  errorCode: string | null;
  callerKey: string | null;
  sourceIpAddress: string | null;
}


export function untimedRecordFromRow(row: Row): UntimedRecord {
  return {
    file: String(row.source_file),
    eventId: String(row.event_id),
    eventTimeRaw: text(row.event_time_raw),
    eventVersion: text(row.event_version),
    eventSource: text(row.event_source),
    action: text(row.event_name),
    eventType: text(row.event_type),
    region: text(row.aws_region),
    account: text(row.recipient_account_id),
    requestId: text(row.request_id),
    errorCode: text(row.error_code),
    callerKey: text(row.caller_key),
    sourceIpAddress: text(row.source_ip_address),
  };
}
