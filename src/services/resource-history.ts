/**
 * The history of an IoT Events resource name: the records a `resource` query answers with, and
 * the split of a name's write calls into resources (kind, account and region).
 */
import { ApiCallNode, Window } from '../domain/graph';
import { IotEventsResourceKind, iotEventsResourcesOf } from '../domain/iotevents-resources';
import { CallFilter } from '../query/filter';

/** One resource: a name of one kind in one account and region. */
export interface ResourceInstanceRecord {
  kind: IotEventsResourceKind;
  name: string;
  /** The filter and window of the `resource` query that found it (its global id names them). */
  filter: CallFilter | null;
  window: Window;
  account: string | null;
  region: string | null;
  /** The newest successful create, update and delete (failed attempts never count). */
  created: ApiCallNode | null;
  lastUpdated: ApiCallNode | null;
  deleted: ApiCallNode | null;
  /** Write calls that failed (an errorCode), newest first. */
  failedAttempts: ApiCallNode[];
}

export interface ResourceHistoryRecord {
  name: string;
  filter: CallFilter | null;
  window: Window;
  changes: ApiCallNode[];
  instances: ResourceInstanceRecord[];
  created: ApiCallNode | null;
  lastUpdated: ApiCallNode | null;
  deleted: ApiCallNode | null;
  failedAttempts: ApiCallNode[];
}

/**
 * A name's history split by what it names: kind, account and region (the same name in two
 * accounts is two resources). Only successful calls are creations, updates and deletions.
 * `changes` is newest first, so the first match is the newest.
 */
export function resourceInstances(name: string, changes: readonly ApiCallNode[], filter: CallFilter | null, window: Window): ResourceInstanceRecord[] {
  const out = new Map<string, ResourceInstanceRecord>();
  for (const call of changes) {
    const kinds = new Set(iotEventsResourcesOf(call).filter((r) => r.name === name).map((r) => r.kind));
    for (const kind of kinds) {
      const id = JSON.stringify([kind, call.account, call.region]);
      const inst = out.get(id) ?? { kind, name, filter, window, account: call.account, region: call.region, created: null, lastUpdated: null, deleted: null, failedAttempts: [] };
      out.set(id, inst);
      if (call.errorCode !== null) inst.failedAttempts.push(call);
      else if (call.action?.startsWith('Create')) inst.created ??= call;
      else if (call.action?.startsWith('Update')) inst.lastUpdated ??= call;
      else if (call.action?.startsWith('Delete')) inst.deleted ??= call;
    }
  }
  return [...out.values()];
}
