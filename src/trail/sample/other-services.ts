/** Other services' events mixed into the same files. */
import { IOT_EVENTS_SOURCE } from '../../domain/iotevents-actions';
import { Json, JsonObject, SVC, ServiceInfo, isoSeconds, javaDate, userAgent } from './formats';
import { Built, Stream, errorMessage, keyValueFor } from './iotevents';
import { HIDDEN } from './options';
import { DETECTOR_MODELS, Persona } from './personas';
import { ALNUM, KEY_CHARS, Rng, Weighted } from './random';
import { record } from './record';

export interface OtherCtx {
  st: Stream;
  t: number;
  p: Persona;
  A: string;
  region: string;
  rng: Rng;
}

export interface OtherSpec {
  params?: Json;
  response?: Json;
  resources?: Json[];
  additionalEventData?: Json;
  error?: [string, string];
}

export interface OtherTemplate {
  svc: ServiceInfo;
  name: string;
  readOnly: boolean;
  weight: number;
  groups: readonly string[];
  build?: (c: OtherCtx) => OtherSpec;
  s3?: boolean;
  eventType?: string;
  noRequestId?: boolean;
}

export const WORK = ['workload', 'human', 'lambda', 'ec2', 'deploy'];
export const HUMAN = ['human', 'console'];

export function bucketName(c: OtherCtx): string {
  return c.rng.pick([`plant-telemetry-archive-${c.A}`, `iotevents-artifacts-${c.A}-${c.region}`, `${c.st.ctx.bucket}`]);
}

export function s3Extra(c: OtherCtx): Json {
  return {
    SignatureVersion: 'SigV4',
    CipherSuite: 'ECDHE-RSA-AES128-GCM-SHA256',
    bytesTransferredIn: 0,
    AuthenticationMethod: 'AuthHeader',
    'x-amz-id-2': `${c.rng.chars(ALNUM, 56)}=`,
    bytesTransferredOut: c.rng.range(80, 2000),
  };
}

export function credentialsResponse(c: OtherCtx, roleName: string): Json {
  const sessionName = `session-${c.rng.hex(8)}`;
  return {
    credentials: {
      accessKeyId: `ASIA${c.rng.chars(KEY_CHARS, 16)}`,
      sessionToken: `IQoJb3JpZ2luX2VjE${c.rng.chars(ALNUM, 40)}`,
      expiration: javaDate(c.t + 3600),
    },
    assumedRoleUser: {
      assumedRoleId: `AROA${c.rng.chars(KEY_CHARS, 17)}:${sessionName}`,
      arn: `arn:aws:sts::${c.A}:assumed-role/${roleName}/${sessionName}`,
    },
  };
}

export const OTHER: readonly OtherTemplate[] = [
  // EC2
  {
    svc: SVC.ec2!,
    name: 'DescribeInstances',
    readOnly: true,
    weight: 8,
    groups: WORK,
    build: (c) => ({
      params: c.rng.chance(0.5)
        ? { instancesSet: {}, filterSet: {} }
        : { instancesSet: { items: [{ instanceId: `i-0${c.rng.hex(16)}` }] }, filterSet: {} },
    }),
  },
  { svc: SVC.ec2!, name: 'DescribeSecurityGroups', readOnly: true, weight: 3, groups: WORK, build: () => ({ params: { securityGroupSet: {}, securityGroupIdSet: {}, filterSet: {} } }) },
  { svc: SVC.ec2!, name: 'DescribeVpcs', readOnly: true, weight: 2, groups: WORK, build: () => ({ params: { vpcSet: {}, filterSet: {} } }) },
  {
    svc: SVC.ec2!,
    name: 'DescribeNetworkInterfaces',
    readOnly: true,
    weight: 2,
    groups: ['lambda', 'ec2', 'svc-config'],
    build: () => ({ params: { networkInterfaceIdSet: {}, filterSet: {} } }),
  },
  { svc: SVC.ec2!, name: 'DescribeRegions', readOnly: true, weight: 1, groups: HUMAN, build: () => ({ params: { regionSet: {}, allRegions: false } }) },
  {
    svc: SVC.ec2!,
    name: 'DescribeInstanceStatus',
    readOnly: true,
    weight: 2,
    groups: ['ec2', 'human'],
    build: (c) => ({
      params: { instancesSet: {}, filterSet: {}, includeAllInstances: false },
      error: c.rng.chance(0.05)
        ? ['Client.UnauthorizedOperation', 'You are not authorized to perform this operation.']
        : undefined,
    }),
  },
  {
    svc: SVC.ec2!,
    name: 'SharedSnapshotVolumeCreated',
    readOnly: false,
    weight: 0.3,
    groups: ['notype'],
    eventType: 'AwsServiceEvent',
    noRequestId: true,
  },
  // S3 (management events)
  { svc: SVC.s3!, name: 'ListBuckets', readOnly: true, weight: 2, groups: HUMAN, s3: true, build: (c) => ({ params: { Host: 's3.amazonaws.com' }, additionalEventData: s3Extra(c) }) },
  ...(['GetBucketAcl', 'GetBucketLocation', 'GetBucketVersioning', 'GetBucketPolicy', 'ListAccessPoints'] as const).map(
    (name): OtherTemplate => ({
      svc: SVC.s3!,
      name,
      readOnly: true,
      weight: name === 'GetBucketAcl' ? 4 : name === 'ListAccessPoints' ? 0.5 : 1.5,
      groups: name === 'GetBucketAcl' ? ['svc-cloudtrail', 'svc-config', 'human'] : ['human', 'console', 'deploy', 'svc-config'],
      s3: true,
      build: (c) => {
        const bucket = bucketName(c);
        const host = `${bucket}.s3.${c.region}.amazonaws.com`;
        const params: JsonObject =
          name === 'ListAccessPoints'
            ? { bucket, Host: `${c.A}.s3-control.${c.region}.amazonaws.com`, maxResults: '1' }
            : { bucketName: bucket, Host: host, [name.slice(9).toLowerCase() || 'acl']: '' };
        return {
          params,
          additionalEventData: s3Extra(c),
          resources: [{ accountId: c.A, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }],
          error:
            name === 'GetBucketPolicy' && c.rng.chance(0.5) ? ['NoSuchBucketPolicy', 'The bucket policy does not exist'] : undefined,
        };
      },
    }),
  ),
  // STS
  {
    svc: SVC.sts!,
    name: 'AssumeRole',
    readOnly: true,
    weight: 6,
    groups: ['workload', 'human', 'deploy'],
    build: (c) => {
      const role = c.rng.pick(['IoTEventsIngestLambdaRole', 'Admin', 'plant-gateway-ec2-role', 'TerraformDeployRole']);
      const roleArn = `arn:aws:iam::${c.A}:role/${role}`;
      return {
        params: { roleArn, roleSessionName: `session-${c.rng.hex(8)}`, durationSeconds: 3600 },
        response: credentialsResponse(c, role),
        resources: [
          { accountId: c.A, type: 'AWS::IAM::Role', ARN: roleArn },
        ],
      };
    },
  },
  { svc: SVC.sts!, name: 'GetCallerIdentity', readOnly: true, weight: 4, groups: ['workload', 'human', 'deploy', 'cross'], build: () => ({ params: null }) },
  {
    svc: SVC.sts!,
    name: 'AssumeRoleWithWebIdentity',
    readOnly: true,
    weight: 1,
    groups: ['webid'],
    build: (c) => ({
      params: {
        roleArn: `arn:aws:iam::${c.A}:role/Cognito_PlantDashboardAuth_Role`,
        roleSessionName: 'CognitoIdentityCredentials',
        durationSeconds: 3600,
      },
      response: credentialsResponse(c, 'Cognito_PlantDashboardAuth_Role'),
    }),
  },
  {
    svc: SVC.sts!,
    name: 'AssumeRoleWithSAML',
    readOnly: true,
    weight: 0.8,
    groups: ['saml'],
    build: (c) => ({
      params: {
        roleArn: `arn:aws:iam::${c.A}:role/SAML-Operators`,
        principalArn: `arn:aws:iam::${c.A}:saml-provider/CorpIdP`,
        durationSeconds: 3600,
      },
      response: credentialsResponse(c, 'SAML-Operators'),
    }),
  },
  { svc: SVC.sts!, name: 'GetSessionToken', readOnly: true, weight: 0.3, groups: ['human'], build: () => ({ params: { durationSeconds: 43200, serialNumber: HIDDEN } }) },
  // IAM (global)
  ...(['GetRole', 'ListRoles', 'GetUser', 'ListAttachedRolePolicies', 'GetPolicyVersion', 'ListAccessKeys'] as const).map(
    (name): OtherTemplate => ({
      svc: SVC.iam!,
      name,
      readOnly: true,
      weight: name === 'GetRole' ? 2 : 0.8,
      groups: ['human', 'deploy', 'svc-config', 'console', 'idc'],
      build: (c) => ({
        params:
          name === 'GetRole' || name === 'ListAttachedRolePolicies'
            ? { roleName: c.rng.pick(['IoTEventsIngestLambdaRole', 'iotevents-actions-role', 'plant-gateway-ec2-role']) }
            : name === 'GetPolicyVersion'
              ? { policyArn: `arn:aws:iam::${c.A}:policy/IoTEventsOperators`, versionId: `v${c.rng.range(1, 5)}` }
              : name === 'ListRoles'
                ? { maxItems: 100 }
                : null,
      }),
    }),
  ),
  // KMS
  {
    svc: SVC.kms!,
    name: 'Decrypt',
    readOnly: true,
    weight: 6,
    groups: ['workload', 'lambda', 'ec2'],
    build: (c) => ({
      params: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { aws_lambda_FunctionName: 'iot-events-ingest' } },
      resources: [{ accountId: c.A, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${c.region}:${c.A}:key/${c.st.ctx.bucket.slice(-8)}-1d2e-4f3a-9b8c-${c.A}` }],
    }),
  },
  {
    svc: SVC.kms!,
    name: 'GenerateDataKey',
    readOnly: true,
    weight: 3,
    groups: ['workload', 'svc-cloudtrail'],
    build: (c) => ({
      params: { keyId: `arn:aws:kms:${c.region}:${c.A}:alias/aws/s3`, keySpec: 'AES_256', encryptionContext: { 'aws:s3:arn': `arn:aws:s3:::${bucketName(c)}` } },
      resources: [{ accountId: c.A, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${c.region}:${c.A}:key/${c.st.ctx.bucket.slice(-8)}-1d2e-4f3a-9b8c-${c.A}` }],
    }),
  },
  { svc: SVC.kms!, name: 'RotateKey', readOnly: false, weight: 0.1, groups: ['notype'], eventType: 'AwsServiceEvent', noRequestId: true },
  // CloudWatch
  {
    svc: SVC.monitoring!,
    name: 'GetMetricData',
    readOnly: true,
    weight: 3,
    groups: ['human', 'console', 'web', 'idc'],
    build: (c) => ({
      params: {
        metricDataQueries: [{ id: 'm1', metricStat: { metric: { namespace: 'AWS/IoTEvents', metricName: 'MessagesProcessed' }, period: 300, stat: 'Sum' } }],
        startTime: javaDate(c.t - 3 * 3600),
        endTime: javaDate(c.t),
      },
    }),
  },
  { svc: SVC.monitoring!, name: 'DescribeAlarms', readOnly: true, weight: 3, groups: ['human', 'console', 'svc-config', 'web'], build: () => ({ params: { maxRecords: 100 } }) },
  { svc: SVC.monitoring!, name: 'ListMetrics', readOnly: true, weight: 1, groups: HUMAN, build: () => ({ params: { namespace: 'AWS/IoTEvents' } }) },
  {
    svc: SVC.monitoring!,
    name: 'PutMetricAlarm',
    readOnly: false,
    weight: 0.3,
    groups: ['deploy'],
    build: () => ({ params: { alarmName: 'iotevents-input-errors', metricName: 'InputErrors', namespace: 'AWS/IoTEvents', threshold: 1.0, evaluationPeriods: 1, comparisonOperator: 'GreaterThanOrEqualToThreshold' } }),
  },
  // Lambda
  { svc: SVC.lambda!, name: 'ListFunctions20150331', readOnly: true, weight: 1, groups: HUMAN, build: () => ({ params: null }) },
  { svc: SVC.lambda!, name: 'GetFunction20150331v2', readOnly: true, weight: 1.5, groups: ['human', 'deploy', 'console'], build: () => ({ params: { functionName: 'iot-events-ingest' } }) },
  {
    svc: SVC.lambda!,
    name: 'GetFunctionConfiguration20150331v2',
    readOnly: true,
    weight: 1,
    groups: ['deploy', 'svc-config'],
    build: () => ({ params: { functionName: 'iot-events-ingest' } }),
  },
  // Logs
  {
    svc: SVC.logs!,
    name: 'CreateLogStream',
    readOnly: false,
    weight: 3,
    groups: ['lambda', 'slr'],
    build: (c) => ({ params: { logGroupName: '/aws/lambda/iot-events-ingest', logStreamName: `${isoSeconds(c.t).slice(0, 10).replace(/-/g, '/')}/[$LATEST]${c.rng.hex(32)}` } }),
  },
  { svc: SVC.logs!, name: 'DescribeLogGroups', readOnly: true, weight: 1.5, groups: ['human', 'console', 'svc-config'], build: () => ({ params: { limit: 50 } }) },
  {
    svc: SVC.logs!,
    name: 'DescribeLogStreams',
    readOnly: true,
    weight: 1.5,
    groups: ['human', 'console'],
    build: () => ({ params: { logGroupName: '/aws/iotevents/detectors', orderBy: 'LastEventTime', descending: true, limit: 50 } }),
  },
  {
    svc: SVC.logs!,
    name: 'FilterLogEvents',
    readOnly: true,
    weight: 0.5,
    groups: ['human'],
    build: (c) => ({ params: { logGroupName: '/aws/iotevents/detectors', startTime: (c.t - 3600) * 1000, limit: 100 } }),
  },
  // IoT Core
  { svc: SVC.iot!, name: 'DescribeEndpoint', readOnly: true, weight: 2, groups: ['workload', 'ec2', 'lambda'], build: () => ({ params: { endpointType: 'iot:Data-ATS' } }) },
  { svc: SVC.iot!, name: 'ListThings', readOnly: true, weight: 1.5, groups: ['human', 'console', 'web'], build: () => ({ params: { maxResults: 50 } }) },
  {
    svc: SVC.iot!,
    name: 'DescribeThing',
    readOnly: true,
    weight: 1.5,
    groups: ['workload', 'human'],
    build: (c) => ({ params: { thingName: keyValueFor(c.rng, c.rng.pick(DETECTOR_MODELS)) } }),
  },
  { svc: SVC.iot!, name: 'GetTopicRule', readOnly: true, weight: 0.5, groups: ['deploy', 'human'], build: () => ({ params: { ruleName: 'boiler_telemetry_to_iotevents' } }) },
  { svc: SVC.iot!, name: 'ListTopicRules', readOnly: true, weight: 0.5, groups: ['human', 'console'], build: () => ({ params: null }) },
  // SSM
  {
    svc: SVC.ssm!,
    name: 'UpdateInstanceInformation',
    readOnly: false,
    weight: 4,
    groups: ['ec2'],
    build: (c) => ({
      params: { instanceId: `i-0${c.rng.hex(16)}`, agentVersion: '3.2.1705.0', agentStatus: 'Active', platformType: 'Linux', platformName: 'Amazon Linux', platformVersion: '2023' },
    }),
  },
  { svc: SVC.ssm!, name: 'GetParameter', readOnly: true, weight: 2, groups: ['lambda', 'ec2', 'deploy'], build: () => ({ params: { name: '/plant/iotevents/config', withDecryption: true } }) },
  { svc: SVC.ssm!, name: 'ListInstanceAssociations', readOnly: true, weight: 2, groups: ['ec2'], build: (c) => ({ params: { instanceId: `i-0${c.rng.hex(16)}`, maxResults: 20 } }) },
  // Secrets Manager
  {
    svc: SVC.secretsmanager!,
    name: 'GetSecretValue',
    readOnly: true,
    weight: 2,
    groups: ['lambda', 'ec2'],
    build: (c) => ({ params: { secretId: `arn:aws:secretsmanager:${c.region}:${c.A}:secret:plant/gateway-${c.rng.chars(ALNUM, 6)}` } }),
  },
  // Console sign-in
  {
    svc: SVC.signin!,
    name: 'ConsoleLogin',
    readOnly: false,
    weight: 0.5,
    groups: ['console'],
    eventType: 'AwsConsoleSignIn',
    noRequestId: true,
    build: (c) => ({
      params: null,
      response: { ConsoleLogin: 'Success' },
      additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: c.rng.chance(0.7) ? 'Yes' : 'No' },
    }),
  },
  // CloudTrail
  { svc: SVC.cloudtrail!, name: 'LookupEvents', readOnly: true, weight: 0.5, groups: ['human', 'console', 'idc'], build: () => ({ params: { maxResults: 50, lookupAttributes: [{ attributeKey: 'EventSource', attributeValue: IOT_EVENTS_SOURCE }] } }) },
  { svc: SVC.cloudtrail!, name: 'DescribeTrails', readOnly: true, weight: 0.5, groups: ['human', 'svc-config'], build: () => ({ params: { includeShadowTrails: true } }) },
];

export function otherTable(region: string): Weighted<OtherTemplate> {
  const w = new Weighted<OtherTemplate>();
  for (const t of OTHER) {
    // Global services' events are delivered with the us-east-1 events only.
    if (t.svc.global && region !== 'us-east-1') continue;
    w.add(t, t.weight);
  }
  return w;
}

export function otherRecord(st: Stream, table: Weighted<OtherTemplate>, t: number): Built {
  const { rng, ctx, region } = st;
  const tpl = table.pick(rng);
  let chooser: Weighted<Persona> | undefined;
  const g = tpl.groups.length === 1 ? tpl.groups[0]! : rng.pick(tpl.groups);
  chooser = ctx.population.groups.get(g);
  if (!chooser) {
    for (const alt of tpl.groups) {
      chooser = ctx.population.groups.get(alt);
      if (chooser) break;
    }
  }
  const p = chooser ? chooser.pick(rng) : ctx.population.byKey.get('bob')!;
  if (tpl.eventType === 'AwsServiceEvent') {
    const rec: JsonObject = {
      eventVersion: '1.08',
      userIdentity: { accountId: ctx.account, invokedBy: tpl.svc.source },
      eventTime: isoSeconds(t),
      eventSource: tpl.svc.source,
      eventName: tpl.name,
      awsRegion: region,
      sourceIPAddress: tpl.svc.source,
      userAgent: tpl.svc.source,
      requestParameters: null,
      responseElements: null,
      eventID: rng.uuid(),
      readOnly: tpl.readOnly,
      resources:
        tpl.name === 'RotateKey'
          ? [{ accountId: ctx.account, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${region}:${ctx.account}:key/${rng.uuid()}` }]
          : undefined,
      eventType: 'AwsServiceEvent',
      managementEvent: true,
      recipientAccountId: ctx.account,
      sharedEventID: tpl.name === 'SharedSnapshotVolumeCreated' ? rng.uuid() : undefined,
      serviceEventDetails: tpl.name === 'SharedSnapshotVolumeCreated' ? { snapshotId: `snap-0${rng.hex(16)}` } : { keyRotated: true },
      eventCategory: 'Management',
    };
    return { json: JSON.stringify(rec), iot: false };
  }
  const site = p.site(rng);
  const c: OtherCtx = { st, t, p, A: ctx.account, region, rng };
  const spec = tpl.build ? tpl.build(c) : {};
  let error = spec.error;
  if (!error && rng.chance(0.01)) error = ['ThrottlingException', 'Rate exceeded'];
  const json = record(st, {
    persona: p,
    site,
    t,
    svc: tpl.svc,
    eventName: tpl.name,
    errorCode: error?.[0],
    errorMessage: error?.[1],
    requestParameters: spec.params ?? null,
    responseElements: error ? null : (spec.response ?? null),
    additionalEventData: spec.additionalEventData,
    noRequestId: tpl.noRequestId,
    s3RequestId: tpl.s3,
    readOnly: tpl.readOnly,
    resources: spec.resources,
    eventType: tpl.eventType,
    awsRegion: tpl.svc.global ? 'us-east-1' : undefined,
  });
  return { json, iot: false };
}
