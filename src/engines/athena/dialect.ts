import { PartitionSpec } from '../../query/engine';
import { CompileContext, Dialect, distinctEventsByRank, expr, quoteIdent } from '../../query/compiler';
import { DERIVED } from '../../query/fields';

export interface AthenaTableRef {
  readonly database: string;
  readonly table: string;
  /** Organization trail: the table has an `account` partition. */
  readonly orgTrail: boolean;
  /**
   * How the organization table projects `account` (default `enum`). With `injected` Athena needs
   * every query to name its accounts, so statements without accounts are refused before sending.
   */
  readonly accountProjection?: AccountProjection;
  /** The regions the table projects (TRAIL_REGIONS): no other is read. */
  readonly regions?: readonly string[];
  /** The accounts an organization table lists (TRAIL_ACCOUNTS, `enum` projection): no other is read. */
  readonly accounts?: readonly string[];
  /** The first day the table projects (TRAIL_START_DATE, `yyyy/MM/dd`): no earlier day is read. */
  readonly startDate?: string;
  /** The column naming a row's object (ATHENA_PATH_COLUMN); the table's hidden `"$path"` when unset. */
  readonly pathColumn?: string;
}

/** `enum`: the table lists its accounts; `injected`: each query supplies them. */
export type AccountProjection = 'enum' | 'injected';

/**
 * Athena (Trino SQL) over the CloudTrail table with partition projection. Every statement
 * restricts the projected partitions (`timestamp`, `region`, and `account` for organization
 * trails) so Athena lists and reads only those prefixes.
 */
export function athenaDialect(table: AthenaTableRef): Dialect {
  const path = table.pathColumn ? quoteIdent(table.pathColumn) : '"$path"';
  return {
    name: 'athena',
    requiresAccounts: table.orgTrail && table.accountProjection === 'injected',
    ...(table.regions?.length ? { regions: table.regions } : {}),
    ...(table.orgTrail && table.accountProjection !== 'injected' && table.accounts?.length ? { accounts: table.accounts } : {}),
    ...(table.startDate ? { firstDay: table.startDate } : {}),
    source: () => `${quoteIdent(table.database)}.${quoteIdent(table.table)}`,
    partitionPredicates(ctx: CompileContext, partitions: PartitionSpec): string[] {
      const first = partitions.days[0];
      const last = partitions.days[partitions.days.length - 1];
      const items = [`"timestamp" BETWEEN ${ctx.bind(first)} AND ${ctx.bind(last)}`];
      if (partitions.regions.length) items.push(`"region" IN (${partitions.regions.map((r) => ctx.bind(r)).join(', ')})`);
      if (table.orgTrail && partitions.accounts.length) {
        items.push(`"account" IN (${partitions.accounts.map((a) => ctx.bind(a)).join(', ')})`);
      }
      // Files found unreadable (CompiledQuery.excluding): the path column names a row's object.
      if (ctx.excludedFiles.length) items.push(`${path} NOT IN (${ctx.excludedFiles.map((f) => ctx.bind(f)).join(', ')})`);
      return items;
    },
    jsonText: (of, path) => `json_extract_scalar(${of}, ${path})`,
    // NULL for anything but an array.
    jsonArrayLength: (of, path) => `json_array_length(json_extract(${of}, ${path}))`,
    regexpLike: (of, pattern) => `regexp_like(${of}, ${pattern})`,
    // TRY_CAST: anything but an array (an object, a text) is no array of entries, not a failure.
    // The values stay outside the lambda: a statement's parameters are bound in its own scope.
    jsonArrayAnyIn: (of, arrayPath, fieldPath, values) =>
      `COALESCE(arrays_overlap(transform(TRY_CAST(json_extract(${of}, ${arrayPath}) AS ARRAY(JSON)), trailql_entry -> json_extract_scalar(trailql_entry, ${fieldPath})), ARRAY[${values.join(', ')}]), FALSE)`,
    // Trino has no ends_with; reverse reverses code points.
    endsWith: (of, suffix) => `strpos(reverse(${of}), reverse(${suffix})) = 1`,
    toJson: (of) => `json_format(CAST(${of} AS JSON))`,
    distinctValues: (of, limit) =>
      `json_format(CAST(slice(array_sort(array_agg(DISTINCT ${of}) FILTER (WHERE ${of} IS NOT NULL)), 1, ${limit}) AS JSON))`,
    // The table holds the records as CloudTrail wrote them: derived values are computed.
    derived: (ctx, name) => expr(ctx, DERIVED[name]),
    sha256Hex: (of) => `lower(to_hex(sha256(to_utf8(${of}))))`,
    // from_iso8601_timestamp reads `T` forms with any offset (none: the session's zone, UTC on
    // Athena); a space between date and time is CloudTrail-adjacent and read alike.
    utcTime: (of) => `date_format(at_timezone(try(from_iso8601_timestamp(replace(${of}, ' ', 'T'))), 'UTC'), '%Y-%m-%dT%H:%i:%sZ')`,
    // The S3 URI of the object a row was read from: the table's hidden column, or a view's.
    sourceFile: () => `COALESCE(NULLIF(regexp_extract(${path}, '.*/(AWSLogs/.*)$', 1), ''), ${path})`,
    distinctEvents: distinctEventsByRank,
    // Athena engine v3 has Trino's IP types: one short test per block instead of the shared
    // normalisation. TRY_CAST turns text that is no address ("AWS Internal", service names) into
    // NULL instead of failing the query; only IPv6 text is tested, as the shared form does (Trino
    // keeps IPv4 addresses as IPv4-mapped IPv6, which `::/0` would otherwise contain), and text
    // with a zone (`fe80::1%eth0`), which the address kinds count as no address, is in no block.
    ipv6InPrefix: (of, cidr) =>
      `(strpos(${of}, ':') > 0 AND strpos(${of}, '.') = 0 AND strpos(${of}, '%') = 0 AND contains(CAST(${cidr} AS IPPREFIX), TRY_CAST(${of} AS IPADDRESS)))`,
  };
}
