/** The CloudTrail record itself, from what a call did. */
import { Json, JsonObject, ServiceInfo, isoSeconds, userAgent } from './formats';
import { Stream, errorMessage } from './iotevents';
import { CallSite, Persona } from './personas';
import { UPPER_ALNUM } from './random';

export interface RecordInput {
  persona: Persona;
  site: CallSite;
  t: number;
  svc: ServiceInfo;
  eventName: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters: Json;
  responseElements: Json;
  additionalEventData?: Json;
  /** Omit requestID (console sign-in, service events). */
  noRequestId?: boolean;
  s3RequestId?: boolean;
  readOnly: boolean;
  resources?: Json[];
  eventType?: string;
  dataEvent?: boolean;
  awsRegion?: string;
}

export const TLS = [
  { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256' },
  { tlsVersion: 'TLSv1.2', cipherSuite: 'ECDHE-RSA-AES128-GCM-SHA256' },
];

export function record(st: Stream, r: RecordInput): string {
  const { rng, ctx, region } = st;
  const p = r.persona;
  const site = r.site;
  const serviceCall = site.agent === 'service' || site.internal;
  const version = p.eventVersion ?? (rng.chance(0.3) ? '1.09' : '1.08');
  const host = r.svc.host(region);
  const ip = site.ip;
  const ua = site.internal ? 'AWS Internal' : userAgent(site.agent, r.svc, r.eventName, ip);
  const vpce = p.vpce && !serviceCall ? p.vpce : undefined;
  let tls: JsonObject | undefined;
  if (!serviceCall) {
    const tl = TLS[rng.int(2)]!;
    tls = { tlsVersion: tl.tlsVersion, cipherSuite: tl.cipherSuite, clientProvidedHostHeader: host };
  }
  const rec: JsonObject = {
    eventVersion: version,
    userIdentity: p.identity(r.t, site),
    eventTime: isoSeconds(r.t),
    eventSource: r.svc.source,
    eventName: r.eventName,
    awsRegion: r.awsRegion ?? region,
    sourceIPAddress: ip,
    userAgent: ua,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    requestParameters: r.requestParameters,
    responseElements: r.responseElements,
    additionalEventData: r.additionalEventData,
    requestID: r.noRequestId ? undefined : r.s3RequestId ? rng.chars(UPPER_ALNUM, 16) : rng.uuid(),
    eventID: rng.uuid(),
    readOnly: r.readOnly,
    resources: r.resources,
    eventType: r.eventType ?? 'AwsApiCall',
    managementEvent: !r.dataEvent,
    recipientAccountId: ctx.account,
    vpcEndpointId: vpce,
    vpcEndpointAccountId: vpce && version === '1.09' ? ctx.account : undefined,
    eventCategory: r.dataEvent ? 'Data' : 'Management',
    tlsDetails: tls,
    sessionCredentialFromConsole: p.console && (site.agent === 'console' || site.agent === 'browser') && !site.internal ? 'true' : undefined,
  };
  return JSON.stringify(rec);
}
