/**
 * A stand-in for CloudTrail Event history: events in the exact shape LookupEvents returns, and
 * the API's answers (one EventSource lookup attribute, StartTime/EndTime, newest first, pages of
 * MaxResults with NextToken). Used behind aws-sdk-client-mock, and behind a fake HTTP handler so
 * the SDK's own serialisation and retry strategy run.
 */
import { Readable } from 'node:stream';
import { Event, LookupEventsCommandInput, LookupEventsCommandOutput } from '@aws-sdk/client-cloudtrail';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { RawRecord } from './records';

/** Every STSClient answers GetCallerIdentity with `account` (the credentials' account a sync reads); `restore()` ends it. */
export function mockCredentialsAccount(account: string) {
  const mock = mockClient(STSClient);
  mock.on(GetCallerIdentityCommand).resolves({ Account: account, Arn: `arn:aws:iam::${account}:user/ops`, UserId: 'AIDAEXAMPLE' });
  return mock;
}

/**
 * A request handler for the SDK's HTTP layer: GetCallerIdentity (STS's query protocol) answered
 * with `account` and the Date header `awsTime()` gives, every other request by `other`.
 */
export function withCallerIdentity<H extends { handle: (request: { body?: unknown }) => Promise<unknown> }>(other: H, account: string, awsTime: () => Date): H {
  return {
    ...other,
    handle: async (request: { body?: unknown }) => {
      // STS's query protocol sends text; LookupEvents sends bytes (JSON), passed on untouched.
      if (typeof request.body !== 'string' || !request.body.startsWith('Action=GetCallerIdentity')) return other.handle(request);
      const xml = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${account}:user/ops</Arn><UserId>AIDAEXAMPLE</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
      return { response: { statusCode: 200, headers: { 'content-type': 'text/xml', date: awsTime().toUTCString() }, body: Readable.from([Buffer.from(xml)]) } };
    },
  };
}

/** The LookupEvents event of a CloudTrail record: summary fields plus the record as JSON text. */
export function eventOf(record: RawRecord): Event {
  const resources = (record.resources ?? []) as { ARN?: string; type?: string }[];
  return {
    EventId: record.eventID,
    EventName: record.eventName,
    ReadOnly: record.readOnly === undefined ? undefined : String(record.readOnly),
    AccessKeyId: record.userIdentity?.accessKeyId,
    EventTime: new Date(record.eventTime),
    EventSource: record.eventSource,
    Username: record.userIdentity?.userName ?? record.userIdentity?.sessionContext?.sessionIssuer?.userName,
    Resources: resources.map((r) => ({ ResourceType: r.type, ResourceName: r.ARN })),
    CloudTrailEvent: JSON.stringify(record),
  };
}

/** A small IoT Events management call as CloudTrail records it. */
export function iotEventsRecord(eventId: string, time: Date, account: string, region: string, source = 'iotevents.amazonaws.com'): RawRecord {
  return {
    eventVersion: '1.09',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: `arn:aws:iam::${account}:user/ops`, accountId: account, userName: 'ops' },
    eventTime: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: source,
    eventName: 'ListDetectorModels',
    awsRegion: region,
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.15',
    requestParameters: null,
    responseElements: null,
    eventID: eventId,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
  };
}

export class FakeEventHistory {
  readonly calls: LookupEventsCommandInput[] = [];
  /** Newest first, as LookupEvents answers. */
  private events: Event[] = [];

  constructor(events: Event[] = []) {
    this.add(events);
  }

  add(events: Event[]): void {
    this.events = [...this.events, ...events].sort((a, b) => b.EventTime!.getTime() - a.EventTime!.getTime() || (a.EventId! < b.EventId! ? 1 : -1));
  }

  /** The answer to one call. */
  answer(input: LookupEventsCommandInput): LookupEventsCommandOutput {
    this.calls.push(input);
    const attrs = input.LookupAttributes ?? [];
    if (attrs.length > 1) throw new Error('LookupEvents takes at most one lookup attribute');
    const source = attrs[0]?.AttributeKey === 'EventSource' ? attrs[0].AttributeValue : undefined;
    const from = input.StartTime?.getTime() ?? -Infinity;
    const to = input.EndTime?.getTime() ?? Infinity;
    const max = Math.min(input.MaxResults ?? 50, 50);
    const matching = this.events.filter((e) => (!source || e.EventSource === source) && e.EventTime!.getTime() >= from && e.EventTime!.getTime() <= to);
    const offset = input.NextToken ? Number(input.NextToken) : 0;
    const page = matching.slice(offset, offset + max);
    return {
      Events: page,
      ...(offset + max < matching.length ? { NextToken: String(offset + max) } : {}),
      $metadata: {},
    };
  }

  /**
   * An SDK request handler answering over the wire format (awsJson1_1), so the SDK's serialiser,
   * deserialiser and retry strategy run; `throttle(n)` answers the n-th request (from 1) with a
   * ThrottlingException instead.
   */
  handler(throttle: (n: number) => boolean = () => false, onRequest: (n: number) => void = () => undefined) {
    let n = 0;
    return {
      handle: async (request: { body?: unknown }) => {
        n += 1;
        onRequest(n);
        const respond = (statusCode: number, headers: Record<string, string>, body: unknown) => ({
          response: { statusCode, headers: { 'content-type': 'application/x-amz-json-1.1', ...headers }, body: Readable.from([Buffer.from(JSON.stringify(body))]) },
        });
        if (throttle(n)) return respond(400, { 'x-amzn-errortype': 'ThrottlingException' }, { __type: 'ThrottlingException', message: 'Rate exceeded' });
        const input = JSON.parse(Buffer.from(request.body as Uint8Array).toString("utf8")) as { StartTime?: number; EndTime?: number; MaxResults?: number; NextToken?: string; LookupAttributes?: { AttributeKey: string; AttributeValue: string }[] };
        const out = this.answer({
          ...input,
          StartTime: input.StartTime === undefined ? undefined : new Date(input.StartTime * 1000),
          EndTime: input.EndTime === undefined ? undefined : new Date(input.EndTime * 1000),
        } as LookupEventsCommandInput);
        return respond(200, {}, {
          Events: out.Events!.map((e) => ({ ...e, EventTime: e.EventTime!.getTime() / 1000 })),
          ...(out.NextToken ? { NextToken: out.NextToken } : {}),
        });
      },
      updateHttpClientConfig: () => undefined,
      httpHandlerConfigs: () => ({}),
    };
  }
}
