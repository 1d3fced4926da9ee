import 'reflect-metadata';
import { GraphQLSchema } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { BuildSchemaOptions, buildSchema, buildSchemaSync } from 'type-graphql';
import { ApiCallConnectionResolver, ApiCallResolver } from './api-call/api-call.resolver';
import './common/enums';
import { DownloadUrlResolver } from '../export/download-url.resolver';
import { ActionSummaryResolver, CallerResolver, GraphQueryResolver, SourceIpResolver } from './graph/graph.resolver';

const options: BuildSchemaOptions = {
  resolvers: [ApiCallResolver, ApiCallConnectionResolver, CallerResolver, SourceIpResolver, ActionSummaryResolver, GraphQueryResolver, DownloadUrlResolver],
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
