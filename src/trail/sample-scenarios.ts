/**
 * Planted scenarios of the sample trail: a few callers in the first account's home region whose
 * calls each insight rule must find, next to benign look-alikes it must not. They sit in the last
 * day before the trail's end (the default window) and, for rules that compare with a baseline,
 * in the days before it. Names are fixed so tests and docs can point at them.
 */
import { createHash } from 'node:crypto';

export interface ScenarioCall {
  /** Event time, epoch seconds. */
  readonly t: number;
  readonly json: string;
}

/** The scenario callers, by the role or user name each uses. */
export const SCENARIO = {
  legacyUser: 'legacy-ci',
  consoleNoMfa: 'console-nomfa',
  consoleMfa: 'console-mfa',
  scanner: 'scanner-role',
  flaky: 'flaky-role',
  cleanup: 'cleanup-role',
  intern: 'intern-role',
  etl: 'etl-role',
  roamer: 'roamer-role',
  spikeAction: 'GetDetectorModelAnalysisResults',
  steadyAction: 'DescribeDetectorModelAnalysis',
  /** Public addresses (outside documentation ranges) the scenarios call from. */
  rootIp: '81.2.69.142',
  legacyIp: '89.160.20.112',
  etlNewIp: '216.160.83.56',
  etlUsualIp: '10.1.2.3',
  /** The roamer's baseline address (AS20712, GB), and its new addresses in the window: */
  roamerUsualIp: '81.2.69.150',
  /** in the same AS as the baseline's; */
  roamerSameAsIp: '81.2.69.151',
  /** in another AS (AS5607) of the same country; */
  roamerSameCountryIp: '2a02:c7c:1::20',
  /** in another AS and country (AS29518, SE). */
  roamerNewCountryIp: '89.160.20.130',
} as const;

const HOUR = 3600;
const DAY = 86400;

function uuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

type Identity = Record<string, unknown>;

/**
 * Builds the scenario calls of one account and region for a trail from `startSec` to `endSec`.
 * Deterministic: the same arguments give the same records.
 */
export function scenarioCalls(account: string, region: string, startSec: number, endSec: number): ScenarioCall[] {
  const out: ScenarioCall[] = [];
  let n = 0;
  const role = (name: string, opts: { console?: boolean; mfa?: boolean; key?: string } = {}): Identity => ({
    type: 'AssumedRole',
    principalId: `AROASCENARIO${name.length}${name.replace(/[^a-z]/g, '').slice(0, 6).toUpperCase()}:${name}-session`,
    arn: `arn:aws:sts::${account}:assumed-role/${name}/${name}-session`,
    accountId: account,
    accessKeyId: opts.key ?? `ASIASCENARIO${String(name.length).padStart(2, '0')}XYZ`,
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: `AROASCENARIO${name.length}`, arn: `arn:aws:iam::${account}:role/${name}`, accountId: account, userName: name },
      webIdFederationData: {},
      attributes: { creationDate: iso(endSec - DAY), mfaAuthenticated: opts.mfa ? 'true' : 'false' },
    },
  });
  const user = (name: string, key: string): Identity => ({
    type: 'IAMUser',
    principalId: 'AIDASCENARIOLEGACY01',
    arn: `arn:aws:iam::${account}:user/${name}`,
    accountId: account,
    accessKeyId: key,
    userName: name,
  });
  const root: Identity = { type: 'Root', principalId: account, arn: `arn:aws:iam::${account}:root`, accountId: account, accessKeyId: 'ASIASCENARIOROOT0001' };

  const call = (
    t: number,
    identity: Identity,
    ip: string,
    eventName: string,
    opts: { source?: string; errorCode?: string; readOnly?: boolean; params?: Record<string, unknown> | null; console?: boolean } = {},
  ): void => {
    if (t < startSec || t >= endSec) return;
    const source = opts.source ?? 'iotevents.amazonaws.com';
    const rec = {
      eventVersion: '1.09',
      userIdentity: identity,
      eventTime: iso(t),
      eventSource: source,
      eventName,
      awsRegion: region,
      sourceIPAddress: ip,
      userAgent: opts.console ? 'AWS Internal' : 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2023',
      errorCode: opts.errorCode,
      errorMessage: opts.errorCode ? `${eventName} was refused (${opts.errorCode})` : undefined,
      requestParameters: opts.params === undefined ? null : opts.params,
      responseElements: null,
      requestID: uuid(`scenario|req|${account}|${region}|${n}`),
      eventID: uuid(`scenario|${account}|${region}|${n++}`),
      readOnly: opts.readOnly ?? /^(Describe|List|Get)/.test(eventName),
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: account,
      eventCategory: 'Management',
      sessionCredentialFromConsole: opts.console ? 'true' : undefined,
    };
    out.push({ t, json: JSON.stringify(rec) });
  };

  const end = endSec;
  // Root credentials in the window.
  call(end - 3 * HOUR, root, SCENARIO.rootIp, 'DescribeLoggingOptions');

  // A long-term key from a public address; the same key from a private address and a session key
  // from a public one are look-alikes.
  const akia = 'AKIASCENARIOLEGACY01';
  for (let i = 0; i < 3; i++) call(end - 5 * HOUR + i * 60, user(SCENARIO.legacyUser, akia), SCENARIO.legacyIp, 'ListDetectorModels');
  call(end - 5 * HOUR + 600, user(SCENARIO.legacyUser, akia), '10.20.30.40', 'ListInputs');
  call(end - 5 * HOUR + 900, role('deploy-session'), '89.160.20.113', 'ListAlarmModels');

  // Console sessions without and with MFA.
  call(end - 4 * HOUR, role(SCENARIO.consoleNoMfa, { console: true, mfa: false }), 'AWS Internal', 'ListDetectorModels', { console: true });
  call(end - 4 * HOUR + 30, role(SCENARIO.consoleNoMfa, { console: true, mfa: false }), 'AWS Internal', 'DescribeDetectorModel', {
    console: true,
    params: { detectorModelName: 'boiler-temp' },
  });
  call(end - 4 * HOUR, role(SCENARIO.consoleMfa, { console: true, mfa: true }), 'AWS Internal', 'ListDetectorModels', { console: true });

  // A burst of refused calls within one ten-minute bucket; a slow trickle is the look-alike.
  const burst = Math.floor((end - 2 * HOUR) / 600) * 600 + 60;
  const probes = ['ListDetectorModels', 'ListInputs', 'ListAlarmModels', 'DescribeLoggingOptions'];
  for (let i = 0; i < 8; i++) call(burst + i * 30, role(SCENARIO.scanner), '10.9.8.7', probes[i % probes.length], { errorCode: 'AccessDeniedException' });
  for (let i = 0; i < 3; i++) call(end - (10 - 3 * i) * HOUR, role(SCENARIO.flaky), '10.9.8.6', 'ListInputs', { errorCode: 'AccessDeniedException' });

  // Successful destruction and a logging change; a refused deletion is the look-alike.
  call(end - 6 * HOUR, role(SCENARIO.cleanup), '10.4.4.4', 'DeleteDetectorModel', { params: { detectorModelName: 'freezer-door' }, readOnly: false });
  call(end - 6 * HOUR + 120, role(SCENARIO.cleanup), '10.4.4.4', 'PutLoggingOptions', {
    params: { loggingOptions: { roleArn: `arn:aws:iam::${account}:role/iotevents-logging`, level: 'ERROR', enabled: false } },
    readOnly: false,
  });
  call(end - 7 * HOUR, role(SCENARIO.intern), '10.4.4.5', 'DeleteDetectorModel', {
    params: { detectorModelName: 'boiler-temp' },
    errorCode: 'AccessDeniedException',
    readOnly: false,
  });

  // A usual address and action in the baseline; in the window a new public address and a first
  // DeleteInput (refused, so it is no destructive change), next to the usual address and action.
  for (let d = 2; d <= 5; d++) {
    call(end - d * DAY + 2 * HOUR, role(SCENARIO.etl), SCENARIO.etlUsualIp, 'DescribeDetectorModel', { params: { detectorModelName: 'pump-pressure' } });
  }
  call(end - 8 * HOUR, role(SCENARIO.etl), SCENARIO.etlUsualIp, 'DescribeDetectorModel', { params: { detectorModelName: 'pump-pressure' } });
  call(end - 8 * HOUR + 60, role(SCENARIO.etl), SCENARIO.etlNewIp, 'DescribeDetectorModel', { params: { detectorModelName: 'pump-pressure' } });
  call(end - 8 * HOUR + 120, role(SCENARIO.etl), SCENARIO.etlUsualIp, 'DeleteInput', {
    params: { inputName: 'pump_readings_old' },
    errorCode: 'ResourceNotFoundException',
    readOnly: false,
  });

  // A principal calling from one public network in the baseline; in the window from a new address
  // in that network, one in another network of the same country, and one in another country.
  for (let d = 2; d <= 5; d++) {
    call(end - d * DAY + 3 * HOUR, role(SCENARIO.roamer), SCENARIO.roamerUsualIp, 'ListDetectorModels');
  }
  call(end - 11 * HOUR, role(SCENARIO.roamer), SCENARIO.roamerUsualIp, 'ListDetectorModels');
  call(end - 11 * HOUR + 60, role(SCENARIO.roamer), SCENARIO.roamerSameAsIp, 'ListDetectorModels');
  call(end - 11 * HOUR + 120, role(SCENARIO.roamer), SCENARIO.roamerSameCountryIp, 'ListDetectorModels');
  call(end - 11 * HOUR + 180, role(SCENARIO.roamer), SCENARIO.roamerNewCountryIp, 'ListDetectorModels');
  call(end - 11 * HOUR + 240, role(SCENARIO.roamer), SCENARIO.roamerNewCountryIp, 'ListDetectorModels');

  // An action that rarely fails in the baseline and mostly fails in one hour of the window; an
  // action failing at its usual rate is the look-alike.
  const spikeHour = Math.floor((end - 9 * HOUR) / HOUR) * HOUR;
  for (let i = 0; i < 30; i++) {
    const t = end - 2 * DAY - i * 3 * HOUR;
    call(t, role(SCENARIO.etl), SCENARIO.etlUsualIp, SCENARIO.spikeAction, { params: { analysisId: `a-${i}` } });
    call(t + 60, role(SCENARIO.etl), SCENARIO.etlUsualIp, SCENARIO.steadyAction, {
      params: { analysisId: `b-${i}` },
      ...(i % 2 === 0 ? { errorCode: 'ResourceNotFoundException' } : {}),
    });
  }
  for (let i = 0; i < 12; i++) {
    call(spikeHour + 60 + i * 120, role(SCENARIO.etl), SCENARIO.etlUsualIp, SCENARIO.spikeAction, {
      params: { analysisId: `c-${i}` },
      ...(i < 10 ? { errorCode: 'ResourceNotFoundException' } : {}),
    });
    call(spikeHour + 90 + i * 120, role(SCENARIO.etl), SCENARIO.etlUsualIp, SCENARIO.steadyAction, {
      params: { analysisId: `d-${i}` },
      ...(i % 2 === 0 ? { errorCode: 'ResourceNotFoundException' } : {}),
    });
  }
  return out.sort((a, b) => a.t - b.t);
}
