/**
 * The AWS IoT Events API actions as they appear in CloudTrail (`eventName`), with the event source
 * that records them and whether the call only reads.
 */

export const IOT_EVENTS_SOURCE = 'iotevents.amazonaws.com';
export const IOT_EVENTS_DATA_SOURCE = 'ioteventsdata.amazonaws.com';

/** The default set of event sources the service answers for. */
export const IOT_EVENTS_SOURCES: readonly string[] = [IOT_EVENTS_SOURCE, IOT_EVENTS_DATA_SOURCE];

export type IotEventsPlane = 'control' | 'data';

/** Which named resource an action is about, if any (read from requestParameters / resources[]). */
export type IotEventsResourceKind = 'detectorModel' | 'input' | 'alarmModel' | 'any' | null;

export interface IotEventsAction {
  /** `eventName` in CloudTrail. */
  readonly name: string;
  readonly eventSource: string;
  readonly plane: IotEventsPlane;
  readonly readOnly: boolean;
  /** The resource kind the call names (`any` = a resource ARN of any kind: tagging calls). */
  readonly resource: IotEventsResourceKind;
}

function control(name: string, readOnly: boolean, resource: IotEventsResourceKind): IotEventsAction {
  return { name, eventSource: IOT_EVENTS_SOURCE, plane: 'control', readOnly, resource };
}

function data(name: string, readOnly: boolean, resource: IotEventsResourceKind): IotEventsAction {
  return { name, eventSource: IOT_EVENTS_DATA_SOURCE, plane: 'data', readOnly, resource };
}

export const IOT_EVENTS_ACTIONS: readonly IotEventsAction[] = [
  // Control plane: models and inputs.
  control('CreateDetectorModel', false, 'detectorModel'),
  control('UpdateDetectorModel', false, 'detectorModel'),
  control('DeleteDetectorModel', false, 'detectorModel'),
  control('DescribeDetectorModel', true, 'detectorModel'),
  control('CreateInput', false, 'input'),
  control('UpdateInput', false, 'input'),
  control('DeleteInput', false, 'input'),
  control('DescribeInput', true, 'input'),
  control('CreateAlarmModel', false, 'alarmModel'),
  control('UpdateAlarmModel', false, 'alarmModel'),
  control('DeleteAlarmModel', false, 'alarmModel'),
  control('DescribeAlarmModel', true, 'alarmModel'),
  control('ListDetectorModels', true, null),
  control('ListDetectorModelVersions', true, 'detectorModel'),
  control('ListAlarmModels', true, null),
  control('ListAlarmModelVersions', true, 'alarmModel'),
  control('ListInputs', true, null),
  control('ListInputRoutings', true, 'input'),
  control('DescribeLoggingOptions', true, null),
  control('PutLoggingOptions', false, null),
  control('StartDetectorModelAnalysis', false, null),
  control('DescribeDetectorModelAnalysis', true, null),
  control('GetDetectorModelAnalysisResults', true, null),
  control('ListTagsForResource', true, 'any'),
  control('TagResource', false, 'any'),
  control('UntagResource', false, 'any'),
  // Data plane.
  data('BatchPutMessage', false, 'input'),
  data('BatchUpdateDetector', false, 'detectorModel'),
  data('BatchDeleteDetector', false, 'detectorModel'),
  data('BatchAcknowledgeAlarm', false, 'alarmModel'),
  data('BatchDisableAlarm', false, 'alarmModel'),
  data('BatchEnableAlarm', false, 'alarmModel'),
  data('BatchResetAlarm', false, 'alarmModel'),
  data('BatchSnoozeAlarm', false, 'alarmModel'),
  data('DescribeAlarm', true, 'alarmModel'),
  data('DescribeDetector', true, 'detectorModel'),
  data('ListAlarms', true, 'alarmModel'),
  data('ListDetectors', true, 'detectorModel'),
];

