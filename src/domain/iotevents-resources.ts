import type { ApiCallRecord, Json } from './api-call';

export type IotEventsResourceKind = 'detectorModel' | 'input' | 'alarmModel';

export interface IotEventsResourceName {
  kind: IotEventsResourceKind;
  name: string;
}

const PARAM_KINDS: readonly [string, IotEventsResourceKind][] = [
  ['detectorModelName', 'detectorModel'],
  ['inputName', 'input'],
  ['alarmModelName', 'alarmModel'],
];

/**
 * Data-plane batch calls name their resources inside arrays of entries: each entry of `array`
 * names one of kind `kind` in its `field`. Read only for the actions that send such arrays.
 */
export interface BatchEntries {
  readonly actions: readonly string[];
  readonly array: string;
  readonly field: string;
  readonly kind: IotEventsResourceKind;
}

export const BATCH_ENTRIES: readonly BatchEntries[] = [
  { actions: ['BatchPutMessage'], array: 'messages', field: 'inputName', kind: 'input' },
  { actions: ['BatchUpdateDetector', 'BatchDeleteDetector'], array: 'detectors', field: 'detectorModelName', kind: 'detectorModel' },
  { actions: ['BatchAcknowledgeAlarm'], array: 'acknowledgeActionRequests', field: 'alarmModelName', kind: 'alarmModel' },
  { actions: ['BatchDisableAlarm'], array: 'disableActionRequests', field: 'alarmModelName', kind: 'alarmModel' },
  { actions: ['BatchEnableAlarm'], array: 'enableActionRequests', field: 'alarmModelName', kind: 'alarmModel' },
  { actions: ['BatchResetAlarm'], array: 'resetActionRequests', field: 'alarmModelName', kind: 'alarmModel' },
  { actions: ['BatchSnoozeAlarm'], array: 'snoozeActionRequests', field: 'alarmModelName', kind: 'alarmModel' },
];

/**
 * A name as the SQL reads it (fields.ts `jsonText`): a text, or a number or boolean as its text;
 * undefined for anything else.
 */
function scalarText(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** The names a batch call's entries give, by kind. */
function batchNames(action: string | null, params: Json): [IotEventsResourceKind, string][] {
  if (!params || typeof params !== 'object' || Array.isArray(params)) return [];
  const out: [IotEventsResourceKind, string][] = [];
  for (const b of BATCH_ENTRIES) {
    const entries = params[b.array];
    if (action === null || !b.actions.includes(action) || !Array.isArray(entries)) continue;
    for (const entry of entries) {
      const v = entry && typeof entry === 'object' && !Array.isArray(entry) ? entry[b.field] : undefined;
      const name = scalarText(v);
      if (name !== undefined) out.push([b.kind, name]);
    }
  }
  return out;
}

const ARN = /^arn:aws[a-z-]*:iotevents:[^:]*:[^:]*:(detectorModel|input|alarmModel)\/(.+)$/;

/**
 * The detector models, inputs and alarm models a call names: in its request parameters (a batch
 * call's in its entries, `BATCH_ENTRIES`) and in IoT Events ARNs (its resources list, or a
 * resourceArn parameter). Redacted values are skipped. A call whose payloads were withheld
 * carries the names read before (`namedResources`).
 */
export function iotEventsResourcesOf(call: Pick<ApiCallRecord, 'action' | 'requestParameters' | 'resources' | 'namedResources'>): IotEventsResourceName[] {
  // Withheld request parameters: the names read before they were.
  if (call.namedResources) return call.namedResources.map((r) => ({ ...r }));
  const found = new Map<string, IotEventsResourceName>();
  const add = (kind: IotEventsResourceKind, value: unknown) => {
    const name = scalarText(value);
    if (name && name !== 'HIDDEN_DUE_TO_SECURITY_REASONS') found.set(`${kind}/${name}`, { kind, name });
  };
  const fromArn = (arn: unknown) => {
    const m = typeof arn === 'string' ? ARN.exec(arn) : null;
    if (m) add(m[1] as IotEventsResourceKind, m[2]);
  };
  const params: Json = call.requestParameters;
  if (params && typeof params === 'object' && !Array.isArray(params)) {
    for (const [key, kind] of PARAM_KINDS) add(kind, params[key]);
    fromArn(params.resourceArn);
  }
  for (const [kind, name] of batchNames(call.action, params)) add(kind, name);
  for (const r of call.resources) fromArn(r.arn);
  return [...found.values()];
}

/**
 * Whether a call is one the `resourceName` filter selects for `name`: a detectorModelName,
 * inputName or alarmModelName request parameter equal to it, a batch call's entry naming it, or a
 * resourceArn parameter ending in `/name`. Needs the call's request parameters (unredacted).
 */
export function callNamesResource(call: Pick<ApiCallRecord, 'action' | 'requestParameters'>, name: string): boolean {
  const params: Json = call.requestParameters;
  if (!params || typeof params !== 'object' || Array.isArray(params)) return false;
  if (PARAM_KINDS.some(([key]) => scalarText(params[key]) === name)) return true;
  if (batchNames(call.action, params).some(([, n]) => n === name)) return true;
  return typeof params.resourceArn === 'string' && params.resourceArn.endsWith(`/${name}`);
}
