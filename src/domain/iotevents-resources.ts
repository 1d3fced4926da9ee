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

const ARN = /^arn:aws[a-z-]*:iotevents:[^:]*:[^:]*:(detectorModel|input|alarmModel)\/(.+)$/;

/**
 * The detector models, inputs and alarm models a call names: in its request parameters and in
 * IoT Events ARNs (its resources list, or a resourceArn parameter). Redacted values are skipped.
 * A call whose payloads were withheld carries the names read before (`namedResources`).
 */
export function iotEventsResourcesOf(call: Pick<ApiCallRecord, 'requestParameters' | 'resources' | 'namedResources'>): IotEventsResourceName[] {
  // Withheld request parameters: the names read before they were.
  if (call.namedResources) return call.namedResources.map((r) => ({ ...r }));
  const found = new Map<string, IotEventsResourceName>();
  const add = (kind: IotEventsResourceKind, name: unknown) => {
    if (typeof name === 'string' && name && name !== 'HIDDEN_DUE_TO_SECURITY_REASONS') found.set(`${kind}/${name}`, { kind, name });
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
  for (const r of call.resources) fromArn(r.arn);
  return [...found.values()];
}

/**
 * Whether a call is one the `resourceName` filter selects for `name`: a detectorModelName,
 * inputName or alarmModelName request parameter equal to it, or a resourceArn parameter ending in
 * `/name`. Needs the call's request parameters (unredacted).
 */
export function callNamesResource(call: Pick<ApiCallRecord, 'requestParameters'>, name: string): boolean {
  const params: Json = call.requestParameters;
  if (!params || typeof params !== 'object' || Array.isArray(params)) return false;
  if (PARAM_KINDS.some(([key]) => params[key] === name)) return true;
  return typeof params.resourceArn === 'string' && params.resourceArn.endsWith(`/${name}`);
}
