import { PartitionSpec } from '../engine';
import { CompileContext, Dialect } from '../../query/compiler';
import { RECORDS_COLUMNS } from './record-schema';

/**
 * DuckDB over a local folder in the S3 layout. The source reads the files the driver lists for the
 * plan's partitions: the first `?` of every DuckDB statement is that file list, bound by the
 * driver. Each record becomes one row with the CloudTrail table's columns (DuckDB resolves the
 * lower-case names case-insensitively).
 */
export const duckdbDialect: Dialect = {
  name: 'duckdb',
  source(_ctx: CompileContext, _partitions: PartitionSpec): string {
    return (
      `(SELECT unnest(r) FROM (SELECT unnest("Records") AS r FROM read_json(?, columns = ${RECORDS_COLUMNS}, ` +
      `format = 'unstructured', maximum_object_size = 1073741824))) AS trail`
    );
  },
  partitionPredicates: () => [],
  jsonText: (of, path) =>
    `CASE WHEN json_type(${of}, ${path}) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(${of}, ${path}) END`,
  regexpLike: (of, pattern) => `regexp_matches(${of}, ${pattern})`,
  toJson: (of) => `CAST(to_json(${of}) AS VARCHAR)`,
  distinctValues: (of, limit) =>
    `CAST(to_json(list_slice(list_sort(list(DISTINCT ${of}) FILTER (WHERE ${of} IS NOT NULL)), 1, ${limit})) AS VARCHAR)`,
};
