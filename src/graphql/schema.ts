import 'reflect-metadata';
import { GraphQLSchema } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { BuildSchemaOptions, buildSchema, buildSchemaSync } from 'type-graphql';
import { ApiCallConnectionResolver, ApiCallResolver } from './api-call/api-call.resolver';
import './common/enums';
import { DownloadUrlResolver } from '../export/download-url.resolver';
import { ActionSummaryResolver, CallerResolver, GraphQueryResolver, SourceIpResolver } from './graph/graph.resolver';
import { InsightResolver } from './insight/insight.resolver';
import { SourceIpEnrichmentResolver } from './enrichment/source-ip-enrichment.resolver';
import { CONNECTION_RESOLVERS } from './graph/graph.type';
import { TrailHealthResolver } from './health/trail-health.resolver';

const options: BuildSchemaOptions = {
  resolvers: [
    ApiCallResolver,
    ApiCallConnectionResolver,
    CallerResolver,
    SourceIpResolver,
    ActionSummaryResolver,
    GraphQueryResolver,
    InsightResolver,
    SourceIpEnrichmentResolver,
    TrailHealthResolver,
    DownloadUrlResolver,
    ...CONNECTION_RESOLVERS,
  ],
  scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
  validate: false,
};

let built: GraphQLSchema | undefined;

/** The schema, built once per process (type-graphql metadata is global). */
export function schema(): GraphQLSchema {
  built ??= buildSchemaSync(options);
  return built;
}

/** Writes the SDL file committed in schema/schema.graphql. */
export async function emitSchema(file: string): Promise<void> {
  await buildSchema({ ...options, emitSchemaFile: { path: file, sortedSchema: true } });
}
