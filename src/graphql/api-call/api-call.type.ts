import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { CallerCategory, IdentityType, SourceIpKind } from '../common/enums';
import { PageInfo, TimeWindow } from '../common/page-info.type';
import { Node } from '../common/node.type';
import type { Json } from '../../domain/api-call';

@ObjectType({ description: 'The IAM entity that issued a role session: userIdentity.sessionContext.sessionIssuer.' })
export class SessionIssuer {
  @Field(() => String, { nullable: true, description: 'Role, IAMUser or Root.' })
  type!: string | null;
  @Field(() => String, { nullable: true, description: 'sessionIssuer.principalId: the issuing role\'s or user\'s unique id.' })
  principalId!: string | null;
  @Field(() => String, { nullable: true, description: 'sessionIssuer.arn: the role (or user) the session was issued for.' })
  arn!: string | null;
  @Field(() => String, { nullable: true, description: 'sessionIssuer.accountId: the account that owns the issuer.' })
  accountId!: string | null;
  @Field(() => String, { nullable: true, description: 'sessionIssuer.userName: the role or user name.' })
  userName!: string | null;
}

@ObjectType({
  implements: Node,
  description: 'Who made a call, as CloudTrail recorded it and as classified here, with its calls in a window (and under a filter, when reached through one).',
})
export class Caller {
  @Field({ description:
      'The key this caller is known by: userIdentity.arn; else the AWS service name (invokedBy); else userIdentity.principalId; else, for an IAM Identity Center user, `identity-center-user:<identityStoreArn>/<userId>` (userIdentity.onBehalfOf); else `account:<accountId>`; else `unknown`. With groupBy PRINCIPAL, the principal.' })
  key!: string;

  @Field(() => String, { nullable: true, description: 'userIdentity.arn: the session ARN for assumed roles, the user ARN, the root ARN.' })
  arn!: string | null;

  @Field({
    description:
      'The principal behind the call: the role of a role session, the IAM user, the federated user (its own ARN; the IAM user or root that made it is its sessionIssuer), the root ARN, or the AWS service; else the caller key.',
  })
  principal!: string;

  @Field(() => IdentityType, { description: 'userIdentity.type, classified.' })
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

  @Field(() => String, { nullable: true, description: 'userIdentity.accountId: the account that owns the credentials.' })
  accountId!: string | null;

  @Field(() => String, { nullable: true, description: 'IAM user name, or the session issuer\'s name for role sessions.' })
  userName!: string | null;

  @Field(() => String, { nullable: true, description: 'userIdentity.principalId: the unique id of the entity (for role sessions `<role id>:<session name>`).' })
  principalId!: string | null;

  @Field(() => String, { nullable: true, description: 'userIdentity.accessKeyId: the access key that signed the call (ASIA... for temporary credentials).' })
  accessKeyId!: string | null;

  @Field(() => SessionIssuer, { nullable: true, description: 'Who issued the session\'s credentials; null for calls not made with session credentials.' })
  sessionIssuer!: SessionIssuer | null;

  @Field(() => Date, { nullable: true, description: 'When the session\'s credentials were issued.' })
  sessionCreated!: Date | null;
}

@ObjectType({
  implements: Node,
  description: 'A source address as CloudTrail wrote it: an IP, an AWS service host name, or "AWS Internal"; with its calls in a window (and under a filter, when reached through one).',
})
export class SourceIp {
  @Field(() => String, { nullable: true, description: 'sourceIPAddress exactly as written; null for the group of calls whose record names no source address.' })
  address!: string | null;

  @Field(() => SourceIpKind, { nullable: true, description: 'What the address is; null when there is no address.' })
  kind!: SourceIpKind | null;
}

@ObjectType({ description: 'An entry of the record\'s resources list.' })
export class ResourceRef {
  @Field(() => String, { nullable: true, description: 'The resource\'s ARN.' })
  arn!: string | null;
  @Field(() => String, { nullable: true, description: 'The account that owns the resource.' })
  accountId!: string | null;
  @Field(() => String, { nullable: true, description: 'The resource type, e.g. AWS::IoTEvents::DetectorModel.' })
  type!: string | null;
}

@ObjectType({ description: 'TLS details of the request (eventVersion 1.08 and later).' })
export class TlsDetails {
  @Field(() => String, { nullable: true, description: 'tlsDetails.tlsVersion, e.g. TLSv1.3.' })
  version!: string | null;
  @Field(() => String, { nullable: true, description: 'tlsDetails.cipherSuite.' })
  cipherSuite!: string | null;
  @Field(() => String, { nullable: true, description: 'tlsDetails.clientProvidedHostHeader: the host name the client connected to.' })
  clientProvidedHostHeader!: string | null;
}

@ObjectType({
  implements: Node,
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

  @Field(() => String, { nullable: true, description: 'eventVersion: the version of the record format, e.g. 1.08.' })
  eventVersion!: string | null;

  @Field(() => String, { nullable: true, description: 'The API action: eventName, e.g. CreateDetectorModel.' })
  action!: string | null;

  @Field(() => String, { nullable: true, description: 'eventSource: the service called, e.g. iotevents.amazonaws.com.' })
  eventSource!: string | null;

  @Field(() => String, { nullable: true, description: 'awsRegion.' })
  region!: string | null;

  @Field(() => String, { nullable: true, description: 'recipientAccountId: the account the call was made in.' })
  account!: string | null;

  @Field(() => String, { nullable: true, description: 'sourceIPAddress exactly as written.' })
  sourceIpAddress!: string | null;

  @Field(() => SourceIp, { nullable: true, description: 'The source address, classified; null when the record names none.' })
  sourceIp!: SourceIp | null;

  @Field(() => Caller, { description: 'Who made the call: userIdentity.' })
  caller!: Caller;

  @Field(() => String, { nullable: true, description: 'userAgent: the tool or SDK that made the request, as recorded.' })
  userAgent!: string | null;

  @Field(() => String, { nullable: true, description: 'errorCode: the AWS error of a failed call; null when the call succeeded.' })
  errorCode!: string | null;

  @Field(() => String, { nullable: true, description: 'The error text as recorded; it may quote request parameters, so null for keys without payload access.' })
  errorMessage!: string | null;

  @Field(() => Boolean, { nullable: true, description: 'readOnly; null for records that predate the field.' })
  readOnly!: boolean | null;

  @Field(() => String, { nullable: true, description: 'AwsApiCall, AwsServiceEvent, AwsConsoleSignIn, ...' })
  eventType!: string | null;

  @Field(() => String, { nullable: true, description: 'Management, Data or Insight.' })
  eventCategory!: string | null;

  @Field(() => Boolean, { nullable: true, description: 'managementEvent: true for management (control plane) events.' })
  managementEvent!: boolean | null;

  @Field(() => String, { nullable: true, description: 'requestID: the id the service gave the request.' })
  requestId!: string | null;

  @Field(() => String, { nullable: true, description: 'apiVersion of the service API called, when recorded.' })
  apiVersion!: string | null;

  @Field(() => String, { nullable: true, description: 'sharedEventID: the same across the copies of a call delivered to several accounts.' })
  sharedEventId!: string | null;

  @Field(() => String, { nullable: true, description: 'vpcEndpointId: the VPC endpoint the call came through.' })
  vpcEndpointId!: string | null;

  @Field(() => String, { nullable: true, description: 'vpcEndpointAccountId: the account that owns that VPC endpoint.' })
  vpcEndpointAccountId!: string | null;

  @Field(() => Boolean, { nullable: true, description: 'sessionCredentialFromConsole: true when the session came from a console sign-in.' })
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

  @Field(() => GraphQLJSON, { nullable: true, description: 'addendum: why and how a record was delivered late or changed, when CloudTrail added one.' })
  addendum!: Json;

  @Field(() => GraphQLJSON, { nullable: true, description: 'userIdentity.onBehalfOf.' })
  onBehalfOf!: Json;

  @Field(() => GraphQLJSON, { nullable: true, description: 'userIdentity.sessionContext.webIdFederationData.' })
  webIdFederationData!: Json;

  @Field(() => String, { nullable: true, description: 'sessionContext.ec2RoleDelivery: the instance metadata service version that delivered role credentials (1.0 or 2.0).' })
  ec2RoleDelivery!: string | null;

  @Field(() => TlsDetails, { nullable: true, description: 'tlsDetails; null for records without them.' })
  tls!: TlsDetails | null;

  @Field(() => [ResourceRef], { description: 'The record\'s resources list (empty when it has none).' })
  resources!: ResourceRef[];
}

@ObjectType({ description: 'An entry of a page of API calls, with its cursor.' })
export class ApiCallEdge {
  @Field({ description: 'Pass as `after` to get the calls after this one; bound to the query it came from.' })
  cursor!: string;

  @Field(() => ApiCall, { description: 'The call.' })
  node!: ApiCall;
}

@ObjectType({ description: 'A page of API calls in the order asked for: newest first (eventTime, then eventId, then account and region, descending) unless OLDEST_FIRST.' })
export class ApiCallConnection {
  @Field(() => [ApiCallEdge], { description: 'The calls of this page with their cursors.' })
  edges!: ApiCallEdge[];

  @Field(() => PageInfo, { description: 'Whether more pages follow, and the cursors to get them.' })
  pageInfo!: PageInfo;

  @Field(() => TimeWindow, { description: 'The window this connection reads; later pages keep it.' })
  window!: TimeWindow;

  /** Counts the calls of the whole window; resolved only when asked for. */
  totalCount!: () => Promise<number>;
  untimedCount?: () => Promise<number>;
}
