import { Ctx, Field, FieldResolver, Int, ObjectType, Resolver, Root } from 'type-graphql';
import type { SourceIpNode } from '../../domain/graph';
import { AddressInfo, AsnInfo, AwsRange, sharedEnrichment } from '../../enrichment';
import { SourceIp } from '../api-call/api-call.type';
import { RequestContext } from '../context';

@ObjectType({ description: 'The autonomous system an address belongs to (offline RouteViews/DB-IP table).' })
export class Asn {
  @Field(() => Int, { description: 'AS number.' })
  number!: number;

  @Field(() => String, { nullable: true, description: 'Organization registered for the AS.' })
  organization!: string | null;
}

@ObjectType({ description: 'The AWS range an address is in, from the configured ip-ranges.json.' })
export class AwsAddressRange {
  @Field({ description: 'The published prefix containing the address (the most specific one).' })
  prefix!: string;

  @Field({ description: 'AWS service of the prefix (e.g. EC2, S3, AMAZON).' })
  service!: string;

  @Field({ description: 'AWS region of the prefix (or GLOBAL).' })
  region!: string;
}

const infoOf = (ip: SourceIpNode, ctx: RequestContext): AddressInfo => sharedEnrichment(ctx.service.deps.config.enrichment.awsIpRangesFile).info(ip.address ?? '');

@Resolver(() => SourceIp)
export class SourceIpEnrichmentResolver {
  @FieldResolver(() => Asn, { nullable: true, description: 'Autonomous system of the address; null for private, service and unknown addresses.' })
  asn(@Root() ip: SourceIpNode, @Ctx() ctx: RequestContext): AsnInfo | null {
    return infoOf(ip, ctx).asn;
  }

  @FieldResolver(() => String, { nullable: true, description: 'ISO 3166-1 alpha-2 country of the address (offline geo-whois-asn-country table); null when unknown.' })
  country(@Root() ip: SourceIpNode, @Ctx() ctx: RequestContext): string | null {
    return infoOf(ip, ctx).country;
  }

  @FieldResolver(() => AwsAddressRange, {
    nullable: true,
    description: 'The AWS range (service, region) the address is in, when AWS_IP_RANGES_FILE is configured; null otherwise, never a guess.',
  })
  awsRange(@Root() ip: SourceIpNode, @Ctx() ctx: RequestContext): AwsRange | null {
    return infoOf(ip, ctx).aws;
  }
}
