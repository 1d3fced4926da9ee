import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { CallerCategory, IdentityType, SourceIpKind } from '../common/enums';
import { PageInfo, TimeWindow } from '../common/page-info.type';
import type { Json } from '../../domain/api-call';

@ObjectType({ description: 'The IAM entity that issued a role session: userIdentity.sessionContext.sessionIssuer.' })
export class SessionIssuer {
  @Field(() => String, { nullable: true, description: 'Role, IAMUser or Root.' })
  type!: string | null;
  @Field(() => String, { nullable: true })
  principalId!: string | null;
  @Field(() => String, { nullable: true })
  arn!: string | null;
  @Field(() => String, { nullable: true })
  accountId!: string | null;
  @Field(() => String, { nullable: true })
  userName!: string | null;
}

@ObjectType({ description: 'Who made a call, as CloudTrail recorded it and as classified here.' })
export class Caller {
  @Field({ description: 'The key this caller is known by: its ARN; for an AWS service its name (invokedBy); else `account:<id>`.' })
  key!: string;

  @Field(() => String, { nullable: true, description: 'userIdentity.arn: the session ARN for assumed roles, the user ARN, the root ARN.' })
  arn!: string | null;

  @Field({
    description:
      'The principal behind the call: the role of a role or federated session, the IAM user, the root ARN, or the AWS service; else the caller key.',
  })
  principal!: string;

  @Field(() => IdentityType)
  identityType!: IdentityType;

  @Field(() => String, { nullable: true, description: 'userIdentity.type exactly as written (null when absent).' })
  rawType!: string | null;

  @Field(() => CallerCategory, { description: 'Root/IAM user, role or federated session, or AWS service: one field answers which.' })
  category!: CallerCategory;

  @Field({ description: 'Temporary credentials: an STS session (role, federated user) or an ASIA access key.' })
  temporaryCredentials!: boolean;

  @Field(() => Boolean, { nullable: true, description: 'sessionContext.attributes.mfaAuthenticated; null when the record does not say.' })
  mfaAuthenticated!: boolean | null;

  @Field(() => String, { nullable: true, description: 'The AWS service that made the call on the principal\'s behalf.' })
  invokedBy!: string | null;

  @Field(() => String, { nullable: true })
  accountId!: string | null;

  @Field(() => String, { nullable: true, description: 'IAM user name, or the session issuer\'s name for role sessions.' })
  userName!: string | null;

  @Field(() => String, { nullable: true })
  principalId!: string | null;

  @Field(() => String, { nullable: true })
  accessKeyId!: string | null;

  @Field(() => SessionIssuer, { nullable: true })
  sessionIssuer!: SessionIssuer | null;

  @Field(() => Date, { nullable: true, description: 'When the session\'s credentials were issued.' })
  sessionCreated!: Date | null;
}

@ObjectType({ description: 'A source address as CloudTrail wrote it: an IP, an AWS service host name, or "AWS Internal".' })
export class SourceIp {
  @Field()
  address!: string;

  @Field(() => SourceIpKind)
  kind!: SourceIpKind;
}

@ObjectType({ description: 'An entry of the record\'s resources list.' })
export class ResourceRef {
  @Field(() => String, { nullable: true })
  arn!: string | null;
  @Field(() => String, { nullable: true })
  accountId!: string | null;
  @Field(() => String, { nullable: true })
  type!: string | null;
}

@ObjectType({ description: 'TLS details of the request (eventVersion 1.08 and later).' })
export class TlsDetails {
  @Field(() => String, { nullable: true })
  version!: string | null;
  @Field(() => String, { nullable: true })
  cipherSuite!: string | null;
  @Field(() => String, { nullable: true })
  clientProvidedHostHeader!: string | null;
}

@ObjectType({
  description:
    'One API call: one CloudTrail record. CloudTrail delivers at least once; records sharing an eventId are one call and appear once.',
})
export class ApiCall {
  @Field(() => ID, {
    description: 'CloudTrail\'s eventID; for a record without one (eventVersion 1.0), `synthetic-` and the SHA-256 of its fields (the same on every engine and run).',
  })
  eventId!: string;

  @Field({ description: 'When the call was made (UTC): the record\'s eventTime read in any ISO-8601 form and normalised.' })
  eventTime!: Date;

  @Field(() => String, { nullable: true, description: 'eventTime exactly as the record wrote it.' })
  eventTimeRaw!: string | null;

  @Field(() => String, { nullable: true })
  eventVersion!: string | null;

  @Field(() => String, { nullable: true, description: 'The API action: eventName, e.g. CreateDetectorModel.' })
  action!: string | null;

  @Field(() => String, { nullable: true })
  eventSource!: string | null;

  @Field(() => String, { nullable: true, description: 'awsRegion.' })
  region!: string | null;

  @Field(() => String, { nullable: true, description: 'recipientAccountId: the account the call was made in.' })
  account!: string | null;

  @Field(() => String, { nullable: true, description: 'sourceIPAddress exactly as written.' })
  sourceIpAddress!: string | null;

  @Field(() => SourceIp, { nullable: true })
  sourceIp!: SourceIp | null;

  @Field(() => Caller)
  caller!: Caller;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => String, { nullable: true })
  errorCode!: string | null;

  @Field(() => String, { nullable: true, description: 'The error text as recorded; it may quote request parameters, so null for keys without payload access.' })
  errorMessage!: string | null;

  @Field(() => Boolean, { nullable: true, description: 'readOnly; null for records that predate the field.' })
  readOnly!: boolean | null;

  @Field(() => String, { nullable: true, description: 'AwsApiCall, AwsServiceEvent, AwsConsoleSignIn, ...' })
  eventType!: string | null;

  @Field(() => String, { nullable: true, description: 'Management, Data or Insight.' })
  eventCategory!: string | null;

  @Field(() => Boolean, { nullable: true })
  managementEvent!: boolean | null;

  @Field(() => String, { nullable: true })
  requestId!: string | null;

  @Field(() => String, { nullable: true })
  apiVersion!: string | null;

  @Field(() => String, { nullable: true })
  sharedEventId!: string | null;

  @Field(() => String, { nullable: true })
  vpcEndpointId!: string | null;

  @Field(() => String, { nullable: true })
  vpcEndpointAccountId!: string | null;

  @Field(() => Boolean, { nullable: true })
  sessionCredentialFromConsole!: boolean | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'requestParameters as recorded (null for keys without payload access).' })
  requestParameters!: Json;

  @Field(() => GraphQLJSON, { nullable: true, description: 'responseElements as recorded (null for keys without payload access).' })
  responseElements!: Json;

  @Field(() => GraphQLJSON, { nullable: true, description: 'additionalEventData as recorded (null for keys without payload access).' })
  additionalEventData!: Json;

  @Field(() => GraphQLJSON, { nullable: true, description: 'serviceEventDetails as recorded (null for keys without payload access).' })
  serviceEventDetails!: Json;

  @Field(() => GraphQLJSON, { nullable: true, description: 'edgeDeviceDetails as recorded (null for keys without payload access).' })
  edgeDeviceDetails!: Json;

  @Field(() => GraphQLJSON, { nullable: true })
  addendum!: Json;

  @Field(() => GraphQLJSON, { nullable: true, description: 'userIdentity.onBehalfOf.' })
  onBehalfOf!: Json;

  @Field(() => GraphQLJSON, { nullable: true, description: 'userIdentity.sessionContext.webIdFederationData.' })
  webIdFederationData!: Json;

  @Field(() => String, { nullable: true })
  ec2RoleDelivery!: string | null;

  @Field(() => TlsDetails, { nullable: true })
  tls!: TlsDetails | null;

  @Field(() => [ResourceRef])
  resources!: ResourceRef[];
}

@ObjectType()
export class ApiCallEdge {
  @Field()
  cursor!: string;

  @Field(() => ApiCall)
  node!: ApiCall;
}

@ObjectType({ description: 'A page of API calls, newest first (eventTime, then eventId, descending).' })
export class ApiCallConnection {
  @Field(() => [ApiCallEdge])
  edges!: ApiCallEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => TimeWindow, { description: 'The window this connection reads; later pages keep it.' })
  window!: TimeWindow;

  /** Counts the calls of the whole window; resolved only when asked for. */
  totalCount!: () => Promise<number>;
  untimedCount?: () => Promise<number>;
}
