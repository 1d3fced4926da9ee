import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { InsightKind, Severity } from '../../insights/rules';
import { PageInfo, TimeWindow } from '../common/page-info.type';

registerEnumType(InsightKind, {
  name: 'InsightKind',
  description: 'What a finding is about; each kind is a documented rule (docs/insights.md).',
  valuesConfig: {
    NEW_SOURCE_FOR_PRINCIPAL: { description: 'A principal called from an address it did not use in the baseline.' },
    FIRST_USE_OF_ACTION: { description: 'A principal used an action it did not use in the baseline; destructive and logging actions rank highest.' },
    ROOT_ACTIVITY: { description: 'Any call made with the account\'s root credentials.' },
    LONG_TERM_KEY_FROM_PUBLIC_ADDRESS: { description: 'An IAM user\'s long-term access key (AKIA...) used from a public address.' },
    NO_MFA_SESSION: { description: 'Calls from console sessions not authenticated with MFA.' },
    ACCESS_DENIED_BURST: { description: 'At least the configured number of refused calls by one principal in one UTC bucket of the configured minutes.' },
    DESTRUCTIVE_CHANGE: { description: 'Successful deletions of detector models, inputs, alarm models or detectors, and logging-option changes.' },
    ERROR_SPIKE: { description: 'An action\'s error rate in one hour far above its baseline rate.' },
  },
});

registerEnumType(Severity, {
  name: 'Severity',
  description: 'How urgently a finding deserves a look.',
  valuesConfig: {
    LOW: { description: 'Worth knowing; often benign.' },
    MEDIUM: { description: 'Unusual; check who and why.' },
    HIGH: { description: 'Risky or destructive; check now.' },
  },
});

@ObjectType({ description: 'A security finding over the calls a filter selects, with the calls that prove it.' })
export class Insight {
  @Field(() => ID, { description: 'Opaque id, stable for the same finding in the same window.' })
  id!: string;

  @Field(() => InsightKind, { description: 'The rule that found it.' })
  kind!: InsightKind;

  @Field(() => Severity, { description: 'How urgent it is.' })
  severity!: Severity;

  @Field({ description: 'One line saying what was found.' })
  title!: string;

  @Field({ description: 'What was found, with the numbers behind it.' })
  summary!: string;

  @Field(() => String, { nullable: true, description: 'The action concerned, when the finding is about one: its name, of the event source `eventSource` (an action name may be an API of both IoT Events sources, and their calls are two actions).' })
  action!: string | null;

  @Field(() => String, { nullable: true, description: 'eventSource of the action concerned (iotevents.amazonaws.com or ioteventsdata.amazonaws.com), when the finding is about one action.' })
  eventSource!: string | null;

  @Field({ description: 'eventTime of the first call of the evidence.' })
  firstSeen!: Date;

  @Field({ description: 'eventTime of the last call of the evidence.' })
  lastSeen!: Date;

  @Field(() => Int, { description: 'How many calls the finding counts (the evidence\'s totalCount).' })
  count!: number;

  @Field(() => [String], { description: 'MITRE ATT&CK technique ids this kind is evidence of (docs/insights.md).' })
  attack!: readonly string[];
}

@ObjectType({ description: 'An insight and its cursor.' })
export class InsightEdge {
  @Field({ description: 'Position of this insight, for `after`.' })
  cursor!: string;

  @Field(() => Insight, { description: 'The insight.' })
  node!: Insight;
}

export enum InsightSourceGrouping {
  ASN = 'ASN',
  COUNTRY = 'COUNTRY',
}
registerEnumType(InsightSourceGrouping, {
  name: 'InsightSourceGrouping',
  description: 'What the insights of an answer may be summarised by: what the offline databases say of their source address.',
  valuesConfig: {
    ASN: { description: 'AS number of the source address (see `SourceIp.asn`), as text.' },
    COUNTRY: { description: 'Country of the source address (see `SourceIp.country`).' },
  },
});

@ObjectType({ description: 'Insights of an answer sharing an AS number or country of their source address.' })
export class InsightGroup {
  @Field(() => String, { nullable: true, description: 'AS number (as text) or country; null for insights about no address or one the databases do not place.' })
  key!: string | null;

  @Field(() => Int, { description: 'Insights in the group.' })
  insights!: number;

  @Field(() => Int, { description: 'Calls the group\'s insights count (a call proving two insights counts twice).' })
  calls!: number;

  @Field(() => Severity, { description: 'The most severe of the group\'s insights.' })
  severity!: Severity;
}

@ObjectType({ description: 'A page of insights, most severe first, then most recent.' })
export class InsightConnection {
  @Field(() => [InsightEdge], { description: 'The insights of this page with their cursors.' })
  edges!: InsightEdge[];

  @Field(() => [Insight], { description: 'The insights of this page, without cursors.' })
  nodes!: Insight[];

  @Field(() => PageInfo, { description: 'Where this page is in the list.' })
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Insights in the whole answer.' })
  totalCount!: number;

  @Field({
    description:
      'False when a rule found more grouped rows than it reads at once (more insights may exist: narrow the filter), or when a statement it ran, over the window or the baseline, read less than it asked: trail files left out, or Event history not synced or lacking events (extensions.warnings says which). Findings may then be missing, and a finding of something new may rest on a baseline that lacks it.',
  })
  complete!: boolean;

  @Field(() => TimeWindow, { description: 'The window searched for findings.' })
  window!: TimeWindow;

  @Field(() => TimeWindow, { description: 'The window rules compared with (the baselineDays before `window`).' })
  baseline!: TimeWindow;
}
