import { Field, InputType, Int } from 'type-graphql';
import { CallerCategory, IdentityType, SourceIpKind } from '../common/enums';
import { CallFilter, CallOutcome } from '../../query/filter';

@InputType({
  description:
    'Which calls to return. Every field narrows the answer (AND); list fields match any of their values (OR), and an empty list narrows nothing, as the field left out does (never beyond the key\'s scope). ' +
    'The window is UTC: `from` inclusive, `to` exclusive; it defaults to the last 24 hours (configurable) and may span at most the configured maximum.',
})
export class ApiCallFilter implements CallFilter {
  @Field(() => Date, { nullable: true, description: 'Start of the window (inclusive). Offsets are accepted and normalised to UTC.' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'End of the window (exclusive). Defaults to now.' })
  to?: Date | null;

  @Field(() => [String], { nullable: true, description: 'API actions (eventName), e.g. ["CreateDetectorModel"].' })
  actions?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Event sources, within those this service is configured for.' })
  eventSources?: string[] | null;

  @Field(() => [String], { nullable: true, description: '12-digit account ids (recipientAccountId).' })
  accounts?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Regions (awsRegion), e.g. ["us-east-1"].' })
  regions?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Exact userIdentity.arn values (session ARNs for assumed roles).' })
  callerArns?: string[] | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Principals as `principal` gives them: role ARNs (all sessions of the role), IAM user, federated user and root ARNs, AWS service names, or another caller\'s key (a principal id of another account, an Identity Center user).',
  })
  principalArns?: string[] | null;

  @Field(() => [IdentityType], { nullable: true, description: 'userIdentity.type values, classified.' })
  identityTypes?: IdentityType[] | null;

  @Field(() => [CallerCategory], {
    nullable: true,
    description: 'Root or IAM user credentials; role or federated session credentials; AWS services.',
  })
  categories?: CallerCategory[] | null;

  @Field(() => [String], { nullable: true, description: 'IAM user names, or the role names of role sessions.' })
  userNames?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'userIdentity.accessKeyId values.' })
  accessKeyIds?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Exact sourceIPAddress values (IPs, service host names, "AWS Internal").' })
  sourceIps?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'IPv4 or IPv6 CIDR blocks, e.g. ["203.0.113.0/24", "2001:db8::/32"].' })
  sourceCidrs?: string[] | null;

  @Field(() => [SourceIpKind], {
    nullable: true,
    description: 'Kinds of source address, e.g. [PUBLIC_IPV4, PUBLIC_IPV6] for calls from public addresses; a call without an address is OTHER.',
  })
  sourceKinds?: SourceIpKind[] | null;

  @Field(() => [Int], {
    nullable: true,
    description:
      'AS numbers of the source address (offline database, see `SourceIp.asn`), any of them. Resolved per distinct address of the window: QUERY_TOO_COMPLEX when the window holds too many addresses (docs/insights.md).',
  })
  asns?: number[] | null;

  @Field(() => [String], {
    nullable: true,
    description: 'ISO 3166-1 alpha-2 countries of the source address in upper case, e.g. ["DE", "US"] (see `SourceIp.country`), any of them. Resolved like `asns`.',
  })
  countries?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'errorCode values, e.g. ["AccessDenied"].' })
  errorCodes?: string[] | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'true: failed calls only; false: successful calls only.',
    deprecationReason: 'Use `outcome` (ERROR, SUCCESS or ANY): `errorsOnly: false` means successful calls only, not all calls.',
  })
  errorsOnly?: boolean | null;

  @Field(() => CallOutcome, { nullable: true, description: 'ERROR: failed calls (with an errorCode); SUCCESS: calls without one; ANY (the default): both.' })
  outcome?: CallOutcome | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Action patterns with `*` at the start, the end or both: "Delete*", "*DetectorModel", "*Alarm*" (case-sensitive); any of them matches.',
  })
  actionPatterns?: string[] | null;

  @Field(() => String, {
    nullable: true,
    description: 'Case-insensitive substring of errorMessage. Only for keys that may read payloads (FORBIDDEN otherwise).',
  })
  errorMessageContains?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Case-insensitive substring of the requestParameters or responseElements JSON text. Only for keys that may read payloads (FORBIDDEN otherwise).',
  })
  payloadContains?: string | null;

  @Field(() => ApiCallFilter, {
    nullable: true,
    description:
      'Leaves out the calls this filter matches, e.g. `{ principalArns: ["arn:aws:iam::111122223333:role/ci"] }`. Its window is the outer one (no from/to) and it holds no `not`; it only narrows, never widening what the key may see.',
  })
  not?: ApiCallFilter | null;

  @Field(() => Boolean, { nullable: true, description: 'Match readOnly; records without the field match neither value.' })
  readOnly?: boolean | null;

  @Field(() => String, {
    nullable: true,
    description: 'A detector model, input or alarm model name: named in requestParameters (by a data-plane batch call, in any of its entries) or its resourceArn.',
  })
  resourceName?: string | null;

  @Field(() => String, { nullable: true, description: 'Case-insensitive substring of the user agent.' })
  userAgentContains?: string | null;
}
