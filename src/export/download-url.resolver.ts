import { Arg, FieldResolver, Resolver, Root, registerEnumType } from 'type-graphql';
import { ApiCallConnection } from '../graphql/api-call/api-call.type';
import type { Connection } from '../services/trail.service';

export enum ExportFormatEnum {
  CSV = 'csv',
  NDJSON = 'ndjson',
}

registerEnumType(ExportFormatEnum, {
  name: 'ExportFormat',
  description: 'File format of a download.',
  valuesConfig: {
    CSV: { description: 'RFC 4180 CSV with a header row; cells a spreadsheet would run as formulas start with a quote.' },
    NDJSON: { description: 'One ApiCall object per line, in the GraphQL shape.' },
  },
});

/**
 * The longest link offered: servers and proxies refuse longer request lines (Node's own limit on a
 * request's headers is 16 KiB, many proxies' 8 KiB), and a refused link would fail without a code.
 */
export const MAX_DOWNLOAD_URL_LENGTH = 8000;

/** The download link of an `apiCalls` connection: the same filter, its window pinned; null when too long for a link. */
export function downloadUrl(filter: object, format: 'csv' | 'ndjson'): string | null {
  const clean = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== null && v !== undefined));
  const url = `/export/api-calls?format=${format}&filter=${encodeURIComponent(JSON.stringify(clean))}`;
  return url.length <= MAX_DOWNLOAD_URL_LENGTH ? url : null;
}

@Resolver(() => ApiCallConnection)
export class DownloadUrlResolver {
  @FieldResolver(() => String, {
    nullable: true,
    description:
      'Path (relative to this service) that downloads every call of this connection, newest first, with the window pinned; ' +
      'send it with the same Authorization header. Null on nested connections, and when the filter makes the link longer than ' +
      `${MAX_DOWNLOAD_URL_LENGTH} characters: POST \`{ "format", "filter" }\` as JSON to /export/api-calls instead.`,
  })
  downloadUrl(
    @Root() connection: ApiCallConnection,
    @Arg('format', () => ExportFormatEnum, { defaultValue: ExportFormatEnum.CSV, description: 'CSV (one row per call) or NDJSON (one JSON object per line).' }) format: ExportFormatEnum,
  ): string | null {
    const filter = (connection as unknown as Connection<unknown>).downloadFilter;
    return filter ? downloadUrl(filter, format) : null;
  }
}
