/** IoT Events calls: which actions each persona makes, their errors and payloads. */
import { IOT_EVENTS_ACTIONS, IOT_EVENTS_DATA_SOURCE, IOT_EVENTS_SOURCE, type IotEventsAction } from '../../domain/iotevents-actions';
import { Json, JsonObject, SVC, isoSeconds, javaDate, userAgent } from './formats';
import { HIDDEN } from './options';
import { ALARM_MODELS, AccountCtx, DETECTOR_MODELS, INPUTS, KEY_PREFIX, MISSING_ALARM_MODELS, MISSING_DETECTOR_MODELS, MISSING_INPUTS, Persona, Profile } from './personas';
import { ALNUM, Rng, Weighted } from './random';
import { record } from './record';

export const ACTION_WEIGHT: Record<string, number> = {
  CreateDetectorModel: 1,
  UpdateDetectorModel: 1.5,
  DeleteDetectorModel: 0.8,
  DescribeDetectorModel: 4,
  CreateInput: 1,
  UpdateInput: 1,
  DeleteInput: 0.8,
  DescribeInput: 3,
  CreateAlarmModel: 1,
  UpdateAlarmModel: 1,
  DeleteAlarmModel: 0.8,
  DescribeAlarmModel: 3,
  ListDetectorModels: 4,
  ListDetectorModelVersions: 2,
  ListAlarmModels: 3,
  ListAlarmModelVersions: 1.5,
  ListInputs: 3,
  ListInputRoutings: 1.5,
  DescribeLoggingOptions: 1.5,
  PutLoggingOptions: 0.8,
  StartDetectorModelAnalysis: 1,
  DescribeDetectorModelAnalysis: 1.5,
  GetDetectorModelAnalysisResults: 1,
  ListTagsForResource: 2,
  TagResource: 1,
  UntagResource: 0.8,
  BatchPutMessage: 10,
  BatchUpdateDetector: 3,
  BatchDeleteDetector: 1,
  BatchAcknowledgeAlarm: 2,
  BatchDisableAlarm: 1,
  BatchEnableAlarm: 1,
  BatchResetAlarm: 1.5,
  BatchSnoozeAlarm: 1,
  DescribeAlarm: 4,
  DescribeDetector: 5,
  ListAlarms: 3,
  ListDetectors: 4,
};

export function profileWeight(profile: Profile, a: IotEventsAction): number {
  const w = ACTION_WEIGHT[a.name] ?? 1;
  const write = !a.readOnly;
  switch (profile) {
    case 'admin':
      return a.plane === 'control' ? w : w * (write ? 0.2 : 0.5);
    case 'readonly':
      return write ? w * 0.08 : w;
    case 'deploy':
      if (a.plane === 'data') return 0;
      return write ? w * 3 : w;
    case 'ingest':
      return { BatchPutMessage: 20, BatchUpdateDetector: 4, DescribeDetector: 2, ListDetectors: 1, DescribeInput: 0.5 }[a.name] ?? 0;
    case 'gateway':
      return { BatchPutMessage: 20, DescribeDetector: 1, BatchDeleteDetector: 0.5 }[a.name] ?? 0;
    case 'operator':
      if (a.plane === 'control') return a.readOnly ? w * 0.2 : 0;
      return a.name === 'BatchPutMessage' ? 0 : w;
    case 'svc-iotevents':
      return (
        {
          BatchUpdateDetector: 3,
          BatchResetAlarm: 1,
          BatchEnableAlarm: 0.5,
          DescribeDetectorModel: 1,
          DescribeInput: 0.5,
          ListInputRoutings: 0.5,
        }[a.name] ?? 0
      );
    case 'svc-iot':
      return a.name === 'BatchPutMessage' ? 1 : 0;
    case 'probe':
      return 1;
    case 'none':
      return 0;
  }
}

export const actionTables = new Map<Profile, Weighted<IotEventsAction>>();
export function actionTable(profile: Profile): Weighted<IotEventsAction> {
  let t = actionTables.get(profile);
  if (!t) {
    t = new Weighted<IotEventsAction>();
    for (const a of IOT_EVENTS_ACTIONS) t.add(a, profileWeight(profile, a));
    actionTables.set(profile, t);
  }
  return t;
}

export type ErrorKind = 'denied' | 'notFound' | 'throttled' | 'invalid' | 'validation' | 'exists' | 'inUse' | 'internal';

export const RESOURCE_TYPE = {
  detectorModel: 'AWS::IoTEvents::DetectorModel',
  input: 'AWS::IoTEvents::Input',
  alarmModel: 'AWS::IoTEvents::AlarmModel',
} as const;

export type ResKind = keyof typeof RESOURCE_TYPE;

export function iotArn(region: string, account: string, kind: ResKind, name: string): string {
  return `arn:aws:iotevents:${region}:${account}:${kind}/${name}`;
}

export interface Stream {
  rng: Rng;
  ctx: AccountCtx;
  region: string;
  /** Version counters per model, so Update* responses count up. */
  versions: Map<string, number>;
  /** Recent StartDetectorModelAnalysis ids. */
  analyses: string[];
}

export interface Built {
  json: string;
  iot: boolean;
}

export function pickKind(rng: Rng, action: IotEventsAction, kind: ResKind | null): ResKind | null {
  if (action.resource === 'any') return rng.pick<ResKind>(['detectorModel', 'detectorModel', 'input', 'alarmModel']);
  return kind;
}

export function chooseError(rng: Rng, action: IotEventsAction, p: Persona, hasResource: boolean): ErrorKind | null {
  if (p.deniedWrites && !action.readOnly) return rng.chance(0.92) ? 'denied' : null;
  if (!rng.chance(0.072 * p.errorFactor)) return null;
  if (p.errorFactor >= 4 && rng.chance(0.7)) return 'denied';
  const w = new Weighted<ErrorKind>()
    .add('denied', 3)
    .add('notFound', hasResource && action.name !== 'CreateDetectorModel' && action.name !== 'CreateInput' && action.name !== 'CreateAlarmModel' ? 3 : 0)
    .add('throttled', action.plane === 'data' ? 4 : 2)
    .add('invalid', 1.5)
    .add('validation', 1)
    .add('exists', action.name.startsWith('Create') ? 2 : 0)
    .add('inUse', action.name === 'DeleteInput' || action.name === 'DeleteDetectorModel' ? 1 : 0)
    .add('internal', 0.3);
  return w.pick(rng);
}

export function keyValueFor(rng: Rng, model: string): string {
  const prefix = KEY_PREFIX[model] ?? 'device';
  return `${prefix}-${String(rng.range(1, 12)).padStart(2, '0')}`;
}

export const KIND_LABEL: Record<ResKind, string> = { detectorModel: 'Detector model', input: 'Input', alarmModel: 'Alarm model' };

export function errorMessage(kind: ErrorKind, action: IotEventsAction, p: Persona, resourceArn: string | null, resKind: ResKind | null, name: string | null): [string, string] {
  switch (kind) {
    case 'denied': {
      const who = p.messageArn ? `User: ${p.messageArn}` : 'User';
      const on = resourceArn ? ` on resource: ${resourceArn}` : '';
      const code = p.key.length % 3 === 0 ? 'AccessDenied' : 'AccessDeniedException';
      const why = p.key.startsWith('root')
        ? 'with an explicit deny in a service control policy'
        : `because no identity-based policy allows the iotevents:${action.name} action`;
      return [code, `${who} is not authorized to perform: iotevents:${action.name}${on} ${why}`];
    }
    case 'notFound':
      return ['ResourceNotFoundException', `${resKind ? KIND_LABEL[resKind] : 'Resource'} of name: ${name ?? 'unknown'} not found`];
    case 'throttled':
      return ['ThrottlingException', 'Rate exceeded'];
    case 'invalid':
      return action.name.startsWith('List')
        ? ['InvalidRequestException', "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 250"]
        : ['InvalidRequestException', 'The request is invalid: check the request parameters and try again'];
    case 'validation':
      return ['ValidationException', `1 validation error detected: Value '${name ?? ''}' at '${resKind ?? 'resource'}Name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_-]+$`];
    case 'exists':
      return ['ResourceAlreadyExistsException', `${resKind ? KIND_LABEL[resKind] : 'Resource'} ${name ?? ''} already exists`];
    case 'inUse':
      return ['ResourceInUseException', `${resKind ? KIND_LABEL[resKind] : 'Resource'} ${name ?? ''} is in use`];
    case 'internal':
      return ['InternalFailureException', 'An internal failure occurred'];
  }
}

export function iotRecord(st: Stream, t: number): Built {
  const { rng, ctx, region } = st;
  const A = ctx.account;
  const p = ctx.population.iot.pick(rng);
  if (p.serviceEvent) return iotServiceEvent(st, t, p);
  const action = actionTable(p.profile).pick(rng);
  const site = p.site(rng);

  const resKind = pickKind(rng, action, action.resource === 'any' || action.resource === null ? null : action.resource);
  const err = chooseError(rng, action, p, resKind !== null);
  const missing = err === 'notFound';
  let name: string | null = null;
  if (resKind === 'detectorModel') name = rng.pick(missing ? MISSING_DETECTOR_MODELS : DETECTOR_MODELS);
  else if (resKind === 'input') name = rng.pick(missing ? MISSING_INPUTS : INPUTS);
  else if (resKind === 'alarmModel') name = rng.pick(missing ? MISSING_ALARM_MODELS : ALARM_MODELS);
  if (err === 'validation' && name) name = `${name} (copy)`;
  const arn = resKind && name ? iotArn(region, A, resKind, name) : null;

  const { params, response, extraResources } = iotPayload(st, action, t, name, arn);
  let resources: Json[] | undefined;
  if (resKind && arn && err !== 'validation') {
    resources = [{ accountId: A, type: RESOURCE_TYPE[resKind], ARN: arn }];
  }
  if (extraResources && err !== 'validation') resources = extraResources;

  let errorCode: string | undefined;
  let errorMsg: string | undefined;
  if (err) [errorCode, errorMsg] = errorMessage(err, action, p, arn, resKind, name);

  // Data-plane reads are sometimes recorded under the control-plane source (as in the AWS docs' examples).
  let source = action.eventSource;
  if (action.plane === 'data' && (action.name === 'DescribeDetector' || action.name === 'ListDetectors') && rng.chance(0.15)) {
    source = IOT_EVENTS_SOURCE;
  }
  const svc = source === IOT_EVENTS_SOURCE ? SVC.iotevents! : SVC.ioteventsdata!;
  const dataEvent = source === IOT_EVENTS_DATA_SOURCE;
  const json = record(st, {
    persona: p,
    site,
    t,
    svc,
    eventName: action.name,
    errorCode,
    errorMessage: errorMsg,
    requestParameters: params,
    responseElements: err ? null : response,
    readOnly: action.readOnly,
    resources,
    dataEvent,
  });
  return { json, iot: true };
}

export function iotServiceEvent(st: Stream, t: number, p: Persona): Built {
  const { rng, ctx, region } = st;
  const input = rng.pick(INPUTS);
  const arn = iotArn(region, ctx.account, 'input', input);
  const rec: JsonObject = {
    eventVersion: '1.08',
    userIdentity: p.identity(t, p.site(rng)),
    eventTime: isoSeconds(t),
    eventSource: IOT_EVENTS_DATA_SOURCE,
    eventName: 'BatchPutMessage',
    awsRegion: region,
    sourceIPAddress: 'iot.amazonaws.com',
    userAgent: 'iot.amazonaws.com',
    requestParameters: null,
    responseElements: null,
    eventID: rng.uuid(),
    readOnly: false,
    resources: [{ accountId: ctx.account, type: RESOURCE_TYPE.input, ARN: arn }],
    eventType: 'AwsServiceEvent',
    managementEvent: false,
    recipientAccountId: ctx.account,
    sharedEventID: rng.uuid(),
    serviceEventDetails: { ruleName: `${input}_to_iotevents`, inputName: input, messageCount: rng.range(1, 10) },
    eventCategory: 'Data',
  };
  return { json: JSON.stringify(rec), iot: true };
}

export function nextVersion(st: Stream, key: string): number {
  const v = (st.versions.get(key) ?? 1) + 1;
  st.versions.set(key, v);
  return v;
}

export function messageId(rng: Rng): string {
  return rng.chars(ALNUM, 12);
}

export function iotPayload(
  st: Stream,
  action: IotEventsAction,
  t: number,
  name: string | null,
  arn: string | null,
): { params: Json; response: Json; extraResources?: Json[] } {
  const { rng, ctx, region } = st;
  const A = ctx.account;
  const n = name ?? '';
  const roleArn = `arn:aws:iam::${A}:role/service-role/iotevents-actions-role`;
  const created = javaDate(t);
  const maxResults = rng.pick([10, 25, 50, 100, 250]);
  const keyValue = (): string => keyValueFor(rng, n);
  const batch = <T extends Json>(make: () => T): T[] => {
    const k = rng.chance(0.7) ? 1 : rng.range(2, 4);
    const out: T[] = [];
    for (let i = 0; i < k; i++) out.push(make());
    return out;
  };
  switch (action.name) {
    case 'CreateDetectorModel':
    case 'UpdateDetectorModel': {
      const create = action.name === 'CreateDetectorModel';
      const evaluationMethod = rng.chance(0.7) ? 'BATCH' : 'SERIAL';
      const description = `Detects ${n.replace(/-/g, ' ')} anomalies`;
      const version = create ? 1 : nextVersion(st, `dm:${n}`);
      return {
        params: {
          detectorModelName: n,
          detectorModelDefinition: HIDDEN,
          detectorModelDescription: description,
          key: create ? HIDDEN : undefined,
          roleArn,
          evaluationMethod,
        },
        response: {
          detectorModelConfiguration: {
            detectorModelName: n,
            detectorModelVersion: String(version),
            detectorModelDescription: description,
            detectorModelArn: arn,
            roleArn,
            creationTime: created,
            lastUpdateTime: created,
            status: 'ACTIVATING',
            key: HIDDEN,
            evaluationMethod,
          },
        },
      };
    }
    case 'DeleteDetectorModel':
      return { params: { detectorModelName: n }, response: null };
    case 'DescribeDetectorModel':
      return {
        params: { detectorModelName: n, detectorModelVersion: rng.chance(0.2) ? String(rng.range(1, 6)) : undefined },
        response: null,
      };
    case 'CreateInput':
    case 'UpdateInput': {
      const description = `Telemetry for ${n.replace(/_/g, ' ')}`;
      return {
        params: {
          inputName: n,
          inputDescription: description,
          inputDefinition: { attributes: [{ jsonPath: 'sensorData.value' }, { jsonPath: 'sensorData.deviceId' }] },
        },
        response: {
          inputConfiguration: {
            inputName: n,
            inputDescription: description,
            inputArn: arn,
            creationTime: created,
            lastUpdateTime: created,
            status: action.name === 'CreateInput' ? 'CREATING' : 'UPDATING',
          },
        },
      };
    }
    case 'DeleteInput':
    case 'DescribeInput':
      return { params: { inputName: n }, response: null };
    case 'CreateAlarmModel':
    case 'UpdateAlarmModel': {
      const create = action.name === 'CreateAlarmModel';
      const version = create ? 1 : nextVersion(st, `am:${n}`);
      return {
        params: {
          alarmModelName: n,
          alarmModelDescription: `Alarm for ${n.replace(/-/g, ' ')}`,
          roleArn,
          key: create ? HIDDEN : undefined,
          severity: rng.range(1, 5),
          alarmRule: {
            simpleRule: {
              inputProperty: `$input.${rng.pick(INPUTS)}.sensorData.value`,
              comparisonOperator: rng.pick(['GREATER', 'LESS', 'GREATER_OR_EQUAL']),
              threshold: String(rng.range(10, 120)),
            },
          },
          alarmCapabilities: { acknowledgeFlow: { enabled: true } },
        },
        response: {
          creationTime: created,
          alarmModelArn: arn,
          alarmModelVersion: String(version),
          lastUpdateTime: created,
          status: create ? 'ACTIVE' : 'ACTIVATING',
        },
      };
    }
    case 'DeleteAlarmModel':
      return { params: { alarmModelName: n }, response: null };
    case 'DescribeAlarmModel':
      return { params: { alarmModelName: n }, response: null };
    case 'ListDetectorModels':
    case 'ListAlarmModels':
    case 'ListInputs':
      return {
        params: { nextToken: rng.chance(0.15) ? rng.chars(ALNUM, 64) : undefined, maxResults },
        response: null,
      };
    case 'ListDetectorModelVersions':
      return { params: { detectorModelName: n, maxResults }, response: null };
    case 'ListAlarmModelVersions':
      return { params: { alarmModelName: n, maxResults }, response: null };
    case 'ListInputRoutings':
      return { params: { inputIdentifier: { iotEventsInputIdentifier: { inputName: n } }, maxResults }, response: null };
    case 'DescribeLoggingOptions':
      return { params: null, response: null };
    case 'PutLoggingOptions':
      return {
        params: {
          loggingOptions: {
            roleArn: `arn:aws:iam::${A}:role/iotevents-logging-role`,
            level: rng.pick(['ERROR', 'INFO', 'DEBUG']),
            enabled: rng.chance(0.8),
            detectorDebugOptions: rng.chance(0.3)
              ? [{ detectorModelName: rng.pick(DETECTOR_MODELS), keyValue: 'boiler-01' }]
              : undefined,
          },
        },
        response: null,
      };
    case 'StartDetectorModelAnalysis': {
      const analysisId = rng.uuid();
      st.analyses.push(analysisId);
      if (st.analyses.length > 5) st.analyses.shift();
      return { params: { detectorModelDefinition: HIDDEN }, response: { analysisId } };
    }
    case 'DescribeDetectorModelAnalysis':
      return { params: { analysisId: st.analyses.length ? rng.pick(st.analyses) : rng.uuid() }, response: null };
    case 'GetDetectorModelAnalysisResults':
      return {
        params: { analysisId: st.analyses.length ? rng.pick(st.analyses) : rng.uuid(), maxResults },
        response: null,
      };
    case 'ListTagsForResource':
      return { params: { resourceArn: arn }, response: null };
    case 'TagResource':
      return {
        params: {
          resourceArn: arn,
          tags: [
            { key: 'team', value: rng.pick(['plant-ops', 'facilities', 'reliability']) },
            { key: 'env', value: rng.pick(['prod', 'staging']) },
          ],
        },
        response: null,
      };
    case 'UntagResource':
      return { params: { resourceArn: arn, tagKeys: [rng.pick(['cost-center', 'owner', 'env'])] }, response: null };
    case 'BatchPutMessage': {
      const messages = batch(() => ({
        messageId: messageId(rng),
        inputName: rng.chance(0.85) ? n : rng.pick(INPUTS),
        payload: HIDDEN,
        timestamp: rng.chance(0.3) ? { timeInMillis: t * 1000 - rng.int(5000) } : undefined,
      }));
      const inputs = [...new Set(messages.map((m) => m.inputName))];
      return {
        params: { messages },
        response: { BatchPutMessageErrorEntries: [] },
        extraResources: inputs.map((i) => ({ accountId: A, type: RESOURCE_TYPE.input, ARN: iotArn(region, A, 'input', i) })),
      };
    }
    case 'BatchUpdateDetector':
      return {
        params: {
          detectors: batch(() => ({
            messageId: messageId(rng),
            detectorModelName: n,
            keyValue: keyValue(),
            state: { stateName: HIDDEN, variables: [{ name: 'threshold', value: HIDDEN }], timers: [] },
          })),
        },
        response: { batchUpdateDetectorErrorEntries: [] },
      };
    case 'BatchDeleteDetector':
      return {
        params: { detectors: batch(() => ({ messageId: messageId(rng), detectorModelName: n, keyValue: keyValue() })) },
        response: { batchDeleteDetectorErrorEntries: [] },
      };
    case 'BatchAcknowledgeAlarm':
    case 'BatchDisableAlarm':
    case 'BatchEnableAlarm':
    case 'BatchResetAlarm':
    case 'BatchSnoozeAlarm': {
      const field = {
        BatchAcknowledgeAlarm: 'acknowledgeActionRequests',
        BatchDisableAlarm: 'disableActionRequests',
        BatchEnableAlarm: 'enableActionRequests',
        BatchResetAlarm: 'resetActionRequests',
        BatchSnoozeAlarm: 'snoozeActionRequests',
      }[action.name];
      const snooze = action.name === 'BatchSnoozeAlarm';
      return {
        params: {
          [field]: batch(() => ({
            requestId: rng.uuid(),
            alarmModelName: n,
            keyValue: keyValue(),
            note: rng.chance(0.5) ? HIDDEN : undefined,
            snoozeDuration: snooze ? rng.pick([300, 900, 3600]) : undefined,
          })),
        },
        response: { errorEntries: [] },
      };
    }
    case 'DescribeAlarm':
      return { params: { alarmModelName: n, keyValue: keyValue() }, response: null };
    case 'DescribeDetector':
      return { params: { detectorModelName: n, keyValue: keyValue() }, response: null };
    case 'ListAlarms':
      return { params: { alarmModelName: n, maxResults }, response: null };
    case 'ListDetectors':
      return {
        params: { detectorModelName: n, stateName: rng.chance(0.4) ? HIDDEN : undefined, maxResults },
        response: null,
      };
    default:
      return { params: null, response: null };
  }
}
