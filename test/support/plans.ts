/**
 * Query plans built the way TrailService builds them (filter validated, scope applied, keyset
 * predicates for a cursor), for compiler tests that run no engine.
 */
import { athenaDialect } from '../../src/engines/athena/dialect';
import { duckdbDialect } from '../../src/engines/duckdb/dialect';
import { Dialect } from '../../src/query/compiler';
import { NEWEST_FIRST } from '../../src/query/builders';
import { EVENT_COLUMNS } from '../../src/query/fields';
import { CallFilter, validateFilter } from '../../src/query/filter';
import { FULL_SCOPE, Window, applyScope } from '../../src/query/guards';
import { AggregateQuery, EventsQuery } from '../../src/query/plan';

export const IOT_EVENT_SOURCES = ['iotevents.amazonaws.com', 'ioteventsdata.amazonaws.com'];

export const DIALECTS: Record<string, Dialect> = {
  duckdb: duckdbDialect,
  'athena (organization trail)': athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: true }),
  'athena (single-account trail)': athenaDialect({ database: 'trailql', table: 'cloudtrail_logs', orgTrail: false }),
};

function scanOf(filter: CallFilter, window: Window, allowedSources: readonly string[]) {
  const v = validateFilter(filter, allowedSources);
  const scan = applyScope({ from: window.from, to: window.to, eventSources: v.eventSources, regions: v.regions, accounts: v.accounts }, FULL_SCOPE);
  return { scan, where: v.predicates };
}

/** The plan of one apiCalls page: `size + 1` rows, newest first, after `cursor` ([eventTime, eventId, account/region]) when given. */
export function apiCallsPlan(
  filter: CallFilter,
  window: Window,
  options: { size?: number; cursor?: readonly [string, string, string?]; allowedSources?: readonly string[] } = {},
): EventsQuery {
  const { scan, where } = scanOf(filter, window, options.allowedSources ?? IOT_EVENT_SOURCES);
  const c = options.cursor;
  return {
    kind: 'events',
    label: 'apiCalls',
    scan,
    where,
    select: EVENT_COLUMNS,
    orderBy: NEWEST_FIRST,
    limit: (options.size ?? 50) + 1,
    ...(c ? { after: { time: c[0], id: c[1], tie: c[2] ?? '' } } : {}),
  };
}

/** The plan of apiCalls' totalCount. */
export function apiCallsCountPlan(filter: CallFilter, window: Window, allowedSources: readonly string[] = IOT_EVENT_SOURCES): AggregateQuery {
  const { scan, where } = scanOf(filter, window, allowedSources);
  return { kind: 'aggregate', label: 'apiCallsCount', scan, where, groupBy: [], measures: [{ alias: 'calls', m: { k: 'count' } }], orderBy: [], limit: 1 };
}
