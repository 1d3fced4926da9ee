/**
 * Insight rules: each kind is a documented rule over the calls a filter selects, computed on the
 * engine from ordinary aggregate plans (so both dialects, the scope guard and the answer cache
 * apply unchanged), then judged here on the grouped rows. Every finding carries the predicates
 * and window that select exactly the calls proving it, so its evidence is an `apiCalls` page the
 * same key could ask for itself.
 */
import { IOT_EVENTS_ACTIONS } from '../domain/iotevents-actions';
import { SourceIpKind, classifySourceIp } from '../domain/ip';
import { ACTION_KEY, FIELDS, actionOfKey } from '../query/fields';
import { AggregateQuery, Cond, Expr, Pred, Projection, val } from '../query/plan';

export enum InsightKind {
  NEW_SOURCE_FOR_PRINCIPAL = 'NEW_SOURCE_FOR_PRINCIPAL',
  FIRST_USE_OF_ACTION = 'FIRST_USE_OF_ACTION',
  ROOT_ACTIVITY = 'ROOT_ACTIVITY',
  LONG_TERM_KEY_FROM_PUBLIC_ADDRESS = 'LONG_TERM_KEY_FROM_PUBLIC_ADDRESS',
  NO_MFA_SESSION = 'NO_MFA_SESSION',
  ACCESS_DENIED_BURST = 'ACCESS_DENIED_BURST',
  DESTRUCTIVE_CHANGE = 'DESTRUCTIVE_CHANGE',
  ERROR_SPIKE = 'ERROR_SPIKE',
}

export enum Severity {
  LOW = 'LOW',
  MEDIUM = 'MEDIUM',
  HIGH = 'HIGH',
}

export const SEVERITY_RANK: Record<Severity, number> = { LOW: 1, MEDIUM: 2, HIGH: 3 };

/** MITRE ATT&CK (Enterprise, cloud) techniques each kind is evidence of; see docs/insights.md. */
export const ATTACK: Record<InsightKind, readonly string[]> = {
  NEW_SOURCE_FOR_PRINCIPAL: ['T1078.004'],
  FIRST_USE_OF_ACTION: ['T1078.004'],
  ROOT_ACTIVITY: ['T1078.004'],
  LONG_TERM_KEY_FROM_PUBLIC_ADDRESS: ['T1078.004', 'T1552.001'],
  NO_MFA_SESSION: ['T1078.004'],
  ACCESS_DENIED_BURST: ['T1580', 'T1526'],
  DESTRUCTIVE_CHANGE: ['T1485', 'T1562.008'],
  ERROR_SPIKE: ['T1580', 'T1499'],
};

/** Thresholds of the rules (configured; see `INSIGHTS_*` in the README). */
export interface InsightThresholds {
  /** ACCESS_DENIED_BURST: at least this many authorization failures ... */
  readonly deniedBurstCount: number;
  /** ... by one principal within one bucket of this many minutes (a divisor of 60). */
  readonly deniedBurstMinutes: number;
  /** ERROR_SPIKE: at least this many failed calls of an action in one hour ... */
  readonly errorSpikeMinErrors: number;
  /** ... at an error rate this many times the action's baseline rate ... */
  readonly errorSpikeFactor: number;
  /** ... and at least this many baseline calls of the action to compare with. */
  readonly errorSpikeMinBaselineCalls: number;
}

/** The rules' thresholds and the default baseline length. */
export interface InsightsConfig extends InsightThresholds {
  /** Days before the window that rules comparing with "usual" behaviour look at, unless asked. */
  readonly baselineDays: number;
}

/** Error codes CloudTrail records for refused authorization. */
export const DENIED_CODES: readonly string[] = [
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'Client.UnauthorizedOperation',
  'UnauthorizedException',
  'NotAuthorized',
];

/** Successful calls that destroy IoT Events resources or change what is logged. */
export const DESTRUCTIVE_ACTIONS: readonly string[] = ['DeleteDetectorModel', 'DeleteInput', 'DeleteAlarmModel', 'BatchDeleteDetector', 'PutLoggingOptions'];
const LOGGING_ACTIONS = new Set(['PutLoggingOptions']);
const READ_ONLY_ACTIONS = new Set(IOT_EVENTS_ACTIONS.filter((a) => a.readOnly).map((a) => a.name));

/** The calls of a finding: its own window and the predicates that pick them out of the filter's. */
export interface EvidenceSpec {
  readonly from: Date;
  readonly to: Date;
  readonly where: readonly Pred[];
}

export interface Finding {
  readonly kind: InsightKind;
  readonly severity: Severity;
  readonly title: string;
  readonly summary: string;
  /** The principal (role for sessions, user, root, service) as `Caller.key` with PRINCIPAL grouping. */
  readonly principal: string | null;
  readonly sourceIp: string | null;
  /** The action concerned: its name and its event source (an action name may be an API of both IoT Events sources). */
  readonly action: string | null;
  readonly eventSource: string | null;
  readonly firstSeen: Date;
  readonly lastSeen: Date;
  readonly count: number;
  readonly evidence: EvidenceSpec;
}

/** A grouped question a rule asks: over the filter's window, or over the baseline before it. */
export interface RuleQuery {
  readonly over: 'window' | 'baseline';
  readonly plan: Pick<AggregateQuery, 'groupBy' | 'measures' | 'orderBy' | 'limit'> & { readonly where: readonly Pred[] };
}

type Row = Record<string, string | number | boolean | null>;

/** What the offline databases say of an address (null where they do not place it). */
export interface AddressNetwork {
  readonly asn: { readonly number: number; readonly organization: string | null } | null;
  readonly country: string | null;
}

export interface RuleContext {
  readonly window: { readonly from: Date; readonly to: Date };
  readonly thresholds: InsightThresholds;
  /** Network of an address, for rules that weigh where calls come from. */
  readonly networkOf: (address: string) => AddressNetwork;
}

export interface Rule {
  readonly kind: InsightKind;
  readonly queries: (ctx: RuleContext) => readonly RuleQuery[];
  /** Judges the rows of each query (in the order asked) into findings. */
  readonly judge: (rows: readonly Row[][], ctx: RuleContext) => Finding[];
}

/** Most grouped rows one rule query may return; more means the answer is cut (reported, not hidden). */
export const RULE_ROW_LIMIT = 5000;

const cond = (c: Cond): Pred => ({ k: 'cond', cond: c });
const eq = (e: Expr, v: string): Pred => ({ k: 'in', e, values: [val(v)] });
const p = (alias: string, e: Expr): Projection => ({ alias, e });
const text = (v: Row[string] | undefined): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: Row[string] | undefined): number => (v === null || v === undefined ? 0 : Number(v));
const time = (v: Row[string] | undefined): Date => new Date(String(v));
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

const SPAN = [
  { alias: 'calls', m: { k: 'count' } },
  { alias: 'first_seen', m: { k: 'min', e: FIELDS.eventTime } },
  { alias: 'last_seen', m: { k: 'max', e: FIELDS.eventTime } },
] as const;
const BY_CALLS = [{ alias: 'calls', dir: 'desc' }] as const;
/** A failed call's eventTime, NULL for a call that succeeded. */
const FAILED_AT: Expr = { k: 'case', whens: [[{ k: 'notNull', e: FIELDS.errorCode }, FIELDS.eventTime]], otherwise: null };

/** Second after the last call: evidence windows end exclusive, like every window. */
const after = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000 + 1000);

const isPublic = (address: string) => {
  const kind = classifySourceIp(address);
  return kind === SourceIpKind.PUBLIC_IPV4 || kind === SourceIpKind.PUBLIC_IPV6;
};
const isAddress = (address: string) => {
  const kind = classifySourceIp(address);
  return kind !== SourceIpKind.AWS_SERVICE && kind !== SourceIpKind.AWS_INTERNAL && kind !== SourceIpKind.OTHER;
};

function finding(
  kind: InsightKind,
  severity: Severity,
  row: Row,
  fields: { principal?: string | null; sourceIp?: string | null; action?: string | null; eventSource?: string | null; title: string; summary: string; where: Pred[] },
): Finding {
  const firstSeen = time(row.first_seen);
  const lastSeen = time(row.last_seen);
  return {
    kind,
    severity,
    title: fields.title,
    summary: fields.summary,
    principal: fields.principal ?? null,
    sourceIp: fields.sourceIp ?? null,
    action: fields.action ?? null,
    eventSource: fields.eventSource ?? null,
    firstSeen,
    lastSeen,
    count: num(row.calls),
    evidence: { from: firstSeen, to: after(lastSeen), where: fields.where },
  };
}

const principalWhere = (principal: string | null): Pred[] =>
  principal === null ? [cond({ k: 'isNull', e: FIELDS.principal })] : [eq(FIELDS.principal, principal)];
const ipWhere = (ip: string | null): Pred[] => (ip === null ? [cond({ k: 'isNull', e: FIELDS.sourceIp })] : [eq(FIELDS.sourceIp, ip)]);
/** The calls of one action: its name and its event source. */
const actionWhere = (action: string, source: string | null): Pred[] => [eq(FIELDS.eventName, action), source === null ? cond({ k: 'isNull', e: FIELDS.eventSource }) : eq(FIELDS.eventSource, source)];
/** An action as a finding names it: with its event source, which tells the control plane from the data plane. */
const named = (action: string, source: string | null) => (source === null ? action : `${action} (${source})`);

const rootActivity: Rule = {
  kind: InsightKind.ROOT_ACTIVITY,
  queries: () => [
    {
      over: 'window',
      plan: {
        where: [cond({ k: 'eqConst', e: FIELDS.rawIdentityType, value: 'Root' })],
        groupBy: [p('principal', FIELDS.principal), p('source_ip', FIELDS.sourceIp)],
        measures: [...SPAN],
        orderBy: [...BY_CALLS],
        limit: RULE_ROW_LIMIT,
      },
    },
  ],
  judge: ([rows]) =>
    rows.map((r) => {
      const principal = text(r.principal);
      const ip = text(r.source_ip);
      return finding(InsightKind.ROOT_ACTIVITY, Severity.HIGH, r, {
        principal,
        sourceIp: ip,
        title: 'Root credentials used',
        summary: `${plural(num(r.calls), 'call')} with the account's root credentials from ${ip ?? 'an unknown address'}.`,
        where: [cond({ k: 'eqConst', e: FIELDS.rawIdentityType, value: 'Root' }), ...principalWhere(principal), ...ipWhere(ip)],
      });
    }),
};

const LONG_TERM_KEY: Cond = { k: 'startsWithConst', e: FIELDS.accessKeyId, prefix: 'AKIA' };

const longTermKey: Rule = {
  kind: InsightKind.LONG_TERM_KEY_FROM_PUBLIC_ADDRESS,
  queries: () => [
    {
      over: 'window',
      plan: {
        where: [cond(LONG_TERM_KEY)],
        groupBy: [p('principal', FIELDS.principal), p('source_ip', FIELDS.sourceIp), p('access_key_id', FIELDS.accessKeyId)],
        measures: [...SPAN],
        orderBy: [...BY_CALLS],
        limit: RULE_ROW_LIMIT,
      },
    },
  ],
  judge: ([rows]) =>
    rows
      .filter((r) => r.source_ip !== null && isPublic(String(r.source_ip)))
      .map((r) => {
        const principal = text(r.principal);
        const ip = String(r.source_ip);
        const key = String(r.access_key_id);
        return finding(InsightKind.LONG_TERM_KEY_FROM_PUBLIC_ADDRESS, Severity.MEDIUM, r, {
          principal,
          sourceIp: ip,
          title: 'Long-term access key used from a public address',
          summary: `IAM user access key ${key} made ${plural(num(r.calls), 'call')} from the public address ${ip}.`,
          where: [eq(FIELDS.accessKeyId, key), ...principalWhere(principal), eq(FIELDS.sourceIp, ip)],
        });
      }),
};

const NO_MFA: Cond = {
  k: 'allOf',
  items: [
    { k: 'eqConst', e: { k: 'lower', of: FIELDS.consoleSession }, value: 'true' },
    { k: 'eqConst', e: { k: 'lower', of: FIELDS.mfaAuthenticated }, value: 'false' },
  ],
};

const noMfaSession: Rule = {
  kind: InsightKind.NO_MFA_SESSION,
  queries: () => [
    {
      over: 'window',
      plan: { where: [cond(NO_MFA)], groupBy: [p('principal', FIELDS.principal)], measures: [...SPAN], orderBy: [...BY_CALLS], limit: RULE_ROW_LIMIT },
    },
  ],
  judge: ([rows]) =>
    rows.map((r) => {
      const principal = text(r.principal);
      return finding(InsightKind.NO_MFA_SESSION, Severity.MEDIUM, r, {
        principal,
        title: 'Console session without MFA',
        summary: `${plural(num(r.calls), 'call')} from console sessions that were not authenticated with MFA.`,
        where: [cond(NO_MFA), ...principalWhere(principal)],
      });
    }),
};

const DENIED: Cond = { k: 'inConst', e: FIELDS.errorCode, values: DENIED_CODES };

const accessDeniedBurst: Rule = {
  kind: InsightKind.ACCESS_DENIED_BURST,
  queries: (ctx) => [
    {
      over: 'window',
      plan: {
        where: [cond(DENIED)],
        groupBy: [p('principal', FIELDS.principal), p('bucket', { k: 'minuteBucket', minutes: ctx.thresholds.deniedBurstMinutes, of: FIELDS.eventTime })],
        measures: [...SPAN, { alias: 'actions', m: { k: 'countDistinct', e: ACTION_KEY } }],
        orderBy: [...BY_CALLS],
        limit: RULE_ROW_LIMIT,
      },
    },
  ],
  judge: ([rows], ctx) => {
    const { deniedBurstCount: n, deniedBurstMinutes: m } = ctx.thresholds;
    return rows
      .filter((r) => num(r.calls) >= n)
      .map((r) => {
        const principal = text(r.principal);
        const start = time(r.bucket);
        const base = finding(InsightKind.ACCESS_DENIED_BURST, num(r.calls) >= 4 * n ? Severity.HIGH : Severity.MEDIUM, r, {
          principal,
          title: 'Burst of refused calls',
          summary: `${plural(num(r.calls), 'call')} refused for lack of permission across ${plural(num(r.actions), 'action')} within ${m} minutes (threshold ${n}).`,
          where: [cond(DENIED), ...principalWhere(principal)],
        });
        return { ...base, evidence: { ...base.evidence, from: start, to: new Date(start.getTime() + m * 60_000) } };
      });
  },
};

/**
 * A BatchDeleteDetector answers without an errorCode when its entries fail: each failed entry is
 * one of its response's error entries. One whose every entry failed deleted nothing; one whose
 * response or request holds no such array (not logged, withheld) is taken at its word.
 */
const BATCH_DELETE = 'BatchDeleteDetector';
const FAILED_ENTRIES: Expr = { k: 'jsonArrayLength', of: FIELDS.responseElements, path: '$.batchDeleteDetectorErrorEntries' };
const ENTRIES: Expr = { k: 'jsonArrayLength', of: FIELDS.requestParameters, path: '$.detectors' };
const DELETED_SOMETHING: Cond = {
  k: 'anyOf',
  items: [
    { k: 'inConst', e: FIELDS.eventName, values: DESTRUCTIVE_ACTIONS.filter((a) => a !== BATCH_DELETE) },
    { k: 'isNull', e: FAILED_ENTRIES },
    { k: 'isNull', e: ENTRIES },
    { k: 'lessThan', e: FAILED_ENTRIES, than: ENTRIES },
  ],
};

const SUCCESSFUL_DESTRUCTIVE: Cond = {
  k: 'allOf',
  items: [
    { k: 'isNull', e: FIELDS.errorCode },
    { k: 'inConst', e: FIELDS.eventName, values: DESTRUCTIVE_ACTIONS },
    DELETED_SOMETHING,
  ],
};

const destructiveChange: Rule = {
  kind: InsightKind.DESTRUCTIVE_CHANGE,
  queries: () => [
    {
      over: 'window',
      plan: {
        where: [cond(SUCCESSFUL_DESTRUCTIVE)],
        groupBy: [p('principal', FIELDS.principal), p('action', FIELDS.eventName), p('source', FIELDS.eventSource)],
        measures: [...SPAN],
        orderBy: [...BY_CALLS],
        limit: RULE_ROW_LIMIT,
      },
    },
  ],
  judge: ([rows]) =>
    rows.map((r) => {
      const principal = text(r.principal);
      const action = String(r.action);
      const source = text(r.source);
      const logging = LOGGING_ACTIONS.has(action);
      return finding(InsightKind.DESTRUCTIVE_CHANGE, Severity.HIGH, r, {
        principal,
        action,
        eventSource: source,
        title: logging ? 'Logging options changed' : `Successful ${action}`,
        summary: logging
          ? `${plural(num(r.calls), 'successful call')} to ${named(action, source)}: what IoT Events logs was changed.`
          : `${plural(num(r.calls), 'successful call')} to ${named(action, source)}: IoT Events resources were deleted.`,
        where: [cond({ k: 'isNull', e: FIELDS.errorCode }), cond(DELETED_SOMETHING), ...actionWhere(action, source), ...principalWhere(principal)],
      });
    }),
};

/** Pairs (principal, x) of the window, and the same pairs of the baseline. */
function pairQueries(x: Expr): RuleQuery[] {
  const groupBy = [p('principal', FIELDS.principal), p('item', x)];
  return [
    { over: 'window', plan: { where: [], groupBy, measures: [...SPAN], orderBy: [...BY_CALLS], limit: RULE_ROW_LIMIT } },
    { over: 'baseline', plan: { where: [], groupBy, measures: [{ alias: 'calls', m: { k: 'count' } }], orderBy: [...BY_CALLS], limit: RULE_ROW_LIMIT } },
  ];
}

/** Window pairs whose item the principal never had in the baseline (principals with a baseline only). */
function newPairs(windowRows: readonly Row[], baselineRows: readonly Row[]): Row[] {
  const seen = new Map<string, Set<string>>();
  for (const r of baselineRows) {
    const principal = String(r.principal);
    const items = seen.get(principal) ?? new Set<string>();
    items.add(String(r.item));
    seen.set(principal, items);
  }
  return windowRows.filter((r) => r.principal !== null && r.item !== null && seen.has(String(r.principal)) && !seen.get(String(r.principal))!.has(String(r.item)));
}

/** The AS numbers and countries a principal's baseline addresses are in. */
function baselineNetworks(baselineRows: readonly Row[], networkOf: RuleContext['networkOf']): Map<string, { asns: Set<number>; countries: Set<string> }> {
  const out = new Map<string, { asns: Set<number>; countries: Set<string> }>();
  for (const r of baselineRows) {
    if (r.principal === null || r.item === null) continue;
    const principal = String(r.principal);
    const seen = out.get(principal) ?? { asns: new Set<number>(), countries: new Set<string>() };
    const n = networkOf(String(r.item));
    if (n.asn) seen.asns.add(n.asn.number);
    if (n.country) seen.countries.add(n.country);
    out.set(principal, seen);
  }
  return out;
}

const asText = (n: AddressNetwork) => (n.asn ? `AS${n.asn.number}${n.asn.organization ? ` (${n.asn.organization})` : ''}` : 'no known AS');

/**
 * How new a new address is: in an AS the principal used in the baseline (LOW: a new address of a
 * known network), in a new AS of a country it called from (MEDIUM), or in a new country when its
 * baseline addresses have known countries (HIGH). Private addresses and addresses the databases
 * do not place stay LOW and MEDIUM as before: new private address LOW, new public address MEDIUM.
 */
export function newSourceSeverity(ip: string, n: AddressNetwork, seen: { asns: Set<number>; countries: Set<string> } | undefined): { severity: Severity; note: string } {
  if (!isPublic(ip)) return { severity: Severity.LOW, note: 'a private or special-purpose address' };
  const where = `${asText(n)}, ${n.country ?? 'country unknown'}`;
  if (n.asn && seen?.asns.has(n.asn.number)) return { severity: Severity.LOW, note: `in ${where}: a network this principal used in the baseline` };
  if (n.country && seen?.countries.has(n.country)) return { severity: Severity.MEDIUM, note: `in ${where}: a new network in a country this principal called from in the baseline` };
  if (n.country && seen && seen.countries.size > 0) {
    return { severity: Severity.HIGH, note: `in ${where}: a country this principal did not call from in the baseline (${[...seen.countries].sort().join(', ')})` };
  }
  return { severity: Severity.MEDIUM, note: `in ${where}: a network this principal did not use in the baseline` };
}

const newSource: Rule = {
  kind: InsightKind.NEW_SOURCE_FOR_PRINCIPAL,
  queries: () => pairQueries(FIELDS.sourceIp),
  judge: ([windowRows, baselineRows], ctx) => {
    const networks = baselineNetworks(baselineRows, ctx.networkOf);
    return newPairs(windowRows, baselineRows)
      .filter((r) => isAddress(String(r.item)))
      .map((r) => {
        const principal = String(r.principal);
        const ip = String(r.item);
        const { severity, note } = newSourceSeverity(ip, ctx.networkOf(ip), networks.get(principal));
        return finding(InsightKind.NEW_SOURCE_FOR_PRINCIPAL, severity, r, {
          principal,
          sourceIp: ip,
          title: severity === Severity.LOW && isPublic(ip) ? 'New address in a known network for a principal' : 'New source address for a principal',
          summary: `${plural(num(r.calls), 'call')} from ${ip}, an address this principal did not use in the baseline, ${note}.`,
          where: [eq(FIELDS.principal, principal), eq(FIELDS.sourceIp, ip)],
        });
      });
  },
};

function actionSeverity(action: string): Severity {
  if (DESTRUCTIVE_ACTIONS.includes(action) || LOGGING_ACTIONS.has(action) || /^(Delete|Untag|Put)/.test(action)) return Severity.HIGH;
  return READ_ONLY_ACTIONS.has(action) || /^(Describe|List|Get)/.test(action) ? Severity.LOW : Severity.MEDIUM;
}

const firstUse: Rule = {
  kind: InsightKind.FIRST_USE_OF_ACTION,
  // An action is a name and its event source, as `actions` counts them: the data plane's
  // ListDetectors in the baseline does not make the control plane's ListDetectors a known action.
  queries: () => pairQueries(ACTION_KEY),
  judge: ([windowRows, baselineRows]) =>
    newPairs(windowRows, baselineRows).flatMap((r) => {
      const principal = String(r.principal);
      const { action, eventSource } = actionOfKey(String(r.item));
      if (action === null) return [];
      return [
        finding(InsightKind.FIRST_USE_OF_ACTION, actionSeverity(action), r, {
          principal,
          action,
          eventSource,
          title: `First use of ${named(action, eventSource)}`,
          summary: `${plural(num(r.calls), 'call')} to ${named(action, eventSource)}, an action this principal did not use in the baseline.`,
          where: [eq(FIELDS.principal, principal), ...actionWhere(action, eventSource)],
        }),
      ];
    }),
};

const errorSpike: Rule = {
  kind: InsightKind.ERROR_SPIKE,
  queries: () => [
    {
      over: 'window',
      plan: {
        where: [],
        groupBy: [p('action', FIELDS.eventName), p('source', FIELDS.eventSource), p('bucket', { k: 'bucket', interval: 'hour', of: FIELDS.eventTime })],
        // The finding's first and last call are those of its evidence: the failed calls.
        measures: [
          { alias: 'calls', m: { k: 'count' } },
          { alias: 'first_seen', m: { k: 'min', e: FAILED_AT } },
          { alias: 'last_seen', m: { k: 'max', e: FAILED_AT } },
          { alias: 'errors', m: { k: 'countErrors' } },
        ],
        orderBy: [{ alias: 'errors', dir: 'desc' }],
        limit: RULE_ROW_LIMIT,
      },
    },
    {
      over: 'baseline',
      plan: {
        where: [],
        groupBy: [p('action', FIELDS.eventName), p('source', FIELDS.eventSource)],
        measures: [
          { alias: 'calls', m: { k: 'count' } },
          { alias: 'errors', m: { k: 'countErrors' } },
        ],
        orderBy: [...BY_CALLS],
        limit: RULE_ROW_LIMIT,
      },
    },
  ],
  judge: ([windowRows, baselineRows], ctx) => {
    const t = ctx.thresholds;
    // Each action's baseline is its own: the same name of the other event source is another action.
    const keyOf = (r: Row) => JSON.stringify([text(r.action), text(r.source)]);
    const baseline = new Map(baselineRows.map((r) => [keyOf(r), { calls: num(r.calls), errors: num(r.errors) }]));
    const out: Finding[] = [];
    for (const r of windowRows) {
      const action = text(r.action);
      const source = text(r.source);
      const b = action === null ? undefined : baseline.get(keyOf(r));
      const errors = num(r.errors);
      const calls = num(r.calls);
      if (action === null || !b || b.calls < t.errorSpikeMinBaselineCalls || errors < t.errorSpikeMinErrors) continue;
      const rate = errors / calls;
      const baseRate = b.errors / b.calls;
      // A rate far above the baseline's, and at least a tenth of the calls above it in absolute terms.
      if (rate < t.errorSpikeFactor * baseRate || rate - baseRate < 0.1) continue;
      const start = time(r.bucket);
      const f = finding(InsightKind.ERROR_SPIKE, rate >= 0.5 ? Severity.HIGH : Severity.MEDIUM, { ...r, calls: errors }, {
        action,
        eventSource: source,
        title: `Error spike in ${named(action, source)}`,
        summary: `${errors} of ${calls} calls to ${named(action, source)} failed in one hour (${pct(rate)}), against ${pct(baseRate)} in the baseline.`,
        where: [...actionWhere(action, source), cond({ k: 'notNull', e: FIELDS.errorCode })],
      });
      out.push({ ...f, evidence: { ...f.evidence, from: start, to: new Date(start.getTime() + 3_600_000) } });
    }
    return out;
  },
};

const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;

export const RULES: readonly Rule[] = [rootActivity, longTermKey, noMfaSession, accessDeniedBurst, destructiveChange, newSource, firstUse, errorSpike];
