/**
 * Call filters: validated, then turned into plan predicates. Every check runs before any query
 * is planned, so a bad value never reaches an engine.
 */
import { BadInputError, ForbiddenError } from '../errors';
import { ACCOUNT_ID, REGION } from '../domain/aws';
import { CallerCategory, IdentityType, RAW_IDENTITY_TYPES } from '../domain/identity';
import { BATCH_ENTRIES } from '../domain/iotevents-resources';
import { AWS_INTERNAL, AWS_SERVICE_PATTERNS, Cidr, IPV4_TEXT_PATTERN, IPV6_TEXT_PATTERN, SourceIpKind, addressBlocks, ipv6Hex, parseCidr } from '../domain/ip';
import { MAX_BOUND_VALUE_LENGTH } from './engine';
import { FIELDS } from './fields';
import { Expr, Pred, Value, and, or, val } from './plan';

/** Whether a call failed (it has an errorCode). */
export enum CallOutcome {
  SUCCESS = 'SUCCESS',
  ERROR = 'ERROR',
  ANY = 'ANY',
}

export interface CallFilter {
  from?: Date | null;
  to?: Date | null;
  actions?: string[] | null;
  eventSources?: string[] | null;
  accounts?: string[] | null;
  regions?: string[] | null;
  callerArns?: string[] | null;
  principalArns?: string[] | null;
  identityTypes?: IdentityType[] | null;
  categories?: CallerCategory[] | null;
  userNames?: string[] | null;
  accessKeyIds?: string[] | null;
  sourceIps?: string[] | null;
  sourceCidrs?: string[] | null;
  sourceKinds?: SourceIpKind[] | null;
  /** Autonomous system numbers of the source address (resolved offline by the service, see SourceSelection). */
  asns?: number[] | null;
  /** ISO 3166-1 alpha-2 countries of the source address, upper case. */
  countries?: string[] | null;
  errorCodes?: string[] | null;
  errorsOnly?: boolean | null;
  outcome?: CallOutcome | null;
  actionPatterns?: string[] | null;
  errorMessageContains?: string | null;
  payloadContains?: string | null;
  /** Calls matching this filter are left out (its window is the outer filter's; no `not` inside). */
  not?: CallFilter | null;
  readOnly?: boolean | null;
  resourceName?: string | null;
  /** Calls naming any of these resources (the service's batches; not an argument). */
  resourceNames?: readonly string[] | null;
  userAgentContains?: string | null;
}

const MAX_LIST = 100;
const ACTION = /^[A-Za-z0-9]{1,128}$/;
/** An action name with `*` at its start, its end or both: "Delete*", "*DetectorModel", "*Alarm*". */
const ACTION_PATTERN = /^\*?[A-Za-z0-9]{1,128}\*?$/;
const EVENT_SOURCE = /^[a-z0-9.-]{1,128}\.amazonaws\.com$/;
const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:[^\s]{1,1024}$/;
const ACCESS_KEY = /^[A-Z0-9]{16,128}$/;
const ERROR_CODE = /^[A-Za-z0-9._:-]{1,128}$/;
/** Any name a record can hold (spaces, parentheses, ...): it is bound as a value, never SQL text. 256 code points always fit MAX_BOUND_VALUE_LENGTH. */
const RESOURCE_NAME = /^[^\u0000-\u001f\u007f]{1,256}$/u;

/** Longest value accepted, quoted (see MAX_BOUND_VALUE_LENGTH). */
const fitsLiteral = (v: string) => v.length + 2 + (v.match(/'/g)?.length ?? 0) <= MAX_BOUND_VALUE_LENGTH;

function checkCount(path: string, values: readonly unknown[] | null | undefined): void {
  if (values && values.length > MAX_LIST) throw new BadInputError(`${path}: at most ${MAX_LIST} values`, path);
}

function checkList(path: string, values: string[] | null | undefined, test: (v: string) => boolean, what: string): string[] {
  if (!values) return [];
  checkCount(path, values);
  for (const v of values) {
    if (typeof v !== 'string' || !fitsLiteral(v) || !test(v)) {
      throw new BadInputError(`${path}: ${JSON.stringify(String(v).slice(0, 100))} is not ${what}`, path);
    }
  }
  return [...new Set(values)];
}

const inValues = (values: string[]): Value[] => values.map((v) => val(v));

/** Value-bound predicates for a CIDR block: an IPv4 range, or an IPv6 range with its canonical text. */
function cidrPred(e: Expr, c: Cidr): Pred {
  return c.version === 4
    ? { k: 'ipv4Range', e, first: val(Number(c.first)), last: val(Number(c.last)) }
    : { k: 'ipv6Range', e, first: val(ipv6Hex(c.first)), last: val(ipv6Hex(c.last)), cidr: val(c.text) };
}

const regex = (e: Expr, pattern: string): Pred => ({ k: 'cond', cond: { k: 'regexConst', e, pattern } });

/** Address text in `version`'s counted form within any of `cidrs`. */
function inBlocks(e: Expr, version: 4 | 6, cidrs: readonly Cidr[]): Pred {
  const own = cidrs.filter((c) => c.version === version);
  if (own.length === 0) return or();
  if (version === 4) return or(...own.map((c) => cidrPred(e, c)));
  return { k: 'ipv6InAny', e, blocks: own.map((c) => ({ first: val(ipv6Hex(c.first)), last: val(ipv6Hex(c.last)), cidr: val(c.text) })) };
}

/**
 * `classifySourceIp(e) = kind` in SQL, from the same text patterns and blocks (domain/ip.ts), the
 * blocks' bounds bound as values. True or false (never NULL) for any non-NULL text.
 */
export function sourceKindPred(e: Expr, kind: SourceIpKind): Pred {
  const v4 = regex(e, IPV4_TEXT_PATTERN);
  const v6 = regex(e, IPV6_TEXT_PATTERN);
  const service = or(...AWS_SERVICE_PATTERNS.map((p) => regex({ k: 'lower', of: e }, p)));
  const internal: Pred = { k: 'in', e, values: [val(AWS_INTERNAL)] };
  const all = addressBlocks().map((b) => b.cidr);
  const own = addressBlocks().filter((b) => b.kind === kind).map((b) => b.cidr);
  switch (kind) {
    case SourceIpKind.PUBLIC_IPV4:
      return and(v4, { k: 'not', item: inBlocks(e, 4, all) });
    case SourceIpKind.PUBLIC_IPV6:
      return and(v6, { k: 'not', item: inBlocks(e, 6, all) });
    case SourceIpKind.AWS_INTERNAL:
      return internal;
    case SourceIpKind.AWS_SERVICE:
      return and({ k: 'not', item: or(internal, v4, v6) }, service);
    case SourceIpKind.OTHER:
      return or({ k: 'cond', cond: { k: 'isNull', e } }, { k: 'not', item: or(internal, v4, v6, service) });
    default:
      return or(and(v4, inBlocks(e, 4, own)), and(v6, inBlocks(e, 6, own)));
  }
}

export interface ValidatedFilter {
  readonly predicates: Pred[];
  readonly regions: string[];
  readonly accounts: string[];
  readonly eventSources: string[];
  /**
   * The filter (or its `not`) selects by AS number or country and `access.sourcesIn` was not
   * given: its predicates are incomplete until validated again with the addresses resolved.
   */
  readonly needsSources: boolean;
}

/**
 * Source addresses chosen by what the offline databases say about them. The trail holds only the
 * address text, so the service resolves a selection into the list of matching addresses of the
 * window (looked up outside SQL) and the filter binds that list as values.
 */
export interface SourceSelection {
  /** Any of these AS numbers ([] = any). */
  readonly asns: readonly number[];
  /** Any of these countries ([] = any). */
  readonly countries: readonly string[];
}

/** What the caller may search: text search in payloads (and error messages, which quote them) needs payload access. */
export interface FilterAccess {
  readonly readPayloads?: boolean;
  /** The window's addresses matching a selection (all of its lists), from the service. */
  readonly sourcesIn?: (selection: SourceSelection) => readonly string[];
}

/** Largest AS number a filter accepts (GraphQL's Int; public AS numbers are far below it). */
const MAX_ASN = 2_147_483_647;
/** ISO 3166-1 alpha-2, as the country database writes it. */
const COUNTRY = /^[A-Z]{2}$/;

/** The validated AS number and country lists of a filter, or undefined when it has neither. */
export function sourceSelectionOf(f: CallFilter, at = 'filter'): SourceSelection | undefined {
  checkCount(`${at}.asns`, f.asns);
  checkCount(`${at}.countries`, f.countries);
  for (const n of f.asns ?? []) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_ASN) throw new BadInputError(`${at}.asns: ${JSON.stringify(n)} is not an AS number (a positive integer)`, `${at}.asns`);
  }
  const countries = checkList(`${at}.countries`, f.countries, (v) => COUNTRY.test(v), 'an ISO 3166-1 alpha-2 country code in upper case, like "DE"');
  const asns = [...new Set(f.asns ?? [])];
  return asns.length || countries.length ? { asns, countries } : undefined;
}

/** One action pattern as a predicate: exact, prefix, suffix or substring, the text bound as a value. */
function actionPatternPred(pattern: string): Pred {
  const e = FIELDS.eventName;
  // ACTION_PATTERN allows `*` only first or last, around at least one letter or digit.
  const start = pattern.startsWith('*');
  const end = pattern.endsWith('*');
  const text = pattern.slice(start ? 1 : 0, end ? -1 : undefined);
  if (start && end) return { k: 'contains', e, value: val(text) };
  if (end) return { k: 'startsWith', e, prefix: val(text) };
  if (start) return { k: 'endsWith', e, suffix: val(text) };
  return { k: 'in', e, values: [val(text)] };
}

/** Text of a `...Contains` field: 1 to 256 characters, no control characters (so it always fits a bound value). */
function checkText(path: string, s: unknown): string {
  if (typeof s !== 'string' || !RESOURCE_NAME.test(s)) throw new BadInputError(`${path}: 1 to 256 characters, no control characters`, path);
  return s;
}

/**
 * Validates a filter and returns its predicates. `allowedSources` is the configured set (`[]` =
 * every source); naming a source outside it is an error, not an empty answer. Text search in
 * error messages and payloads is refused (FORBIDDEN) unless `access.readPayloads`.
 */
export function validateFilter(filter: CallFilter | null | undefined, allowedSources: readonly string[], access: FilterAccess = {}): ValidatedFilter {
  const outer = validateAt(filter ?? {}, allowedSources, access, 'filter');
  let v = outer;
  if (filter?.not !== undefined && filter.not !== null) {
    const n = filter.not;
    if (n.from || n.to) throw new BadInputError('filter.not: the window is set by the outer filter, not inside `not`', n.from ? 'filter.not.from' : 'filter.not.to');
    if (n.not !== undefined && n.not !== null) throw new BadInputError('filter.not: `not` cannot hold another `not`', 'filter.not.not');
    const inner = validateAt(n, allowedSources, access, 'filter.not');
    if (inner.needsSources) v = { ...v, needsSources: true };
    // Scan-level lists become row predicates here, so the exclusion covers them too.
    const all: Pred[] = [
      ...inner.predicates,
      ...(inner.regions.length ? [{ k: 'in', e: FIELDS.region, values: inValues(inner.regions) } as Pred] : []),
      ...(inner.accounts.length ? [{ k: 'in', e: FIELDS.account, values: inValues(inner.accounts) } as Pred] : []),
      ...(n.eventSources?.length ? [{ k: 'in', e: FIELDS.eventSource, values: inValues(inner.eventSources) } as Pred] : []),
    ];
    // Only adds a condition: the scope and window of the outer filter stay as they are. A call
    // for which the inner filter is unknown (a NULL) is not excluded.
    if (all.length) v.predicates.push({ k: 'not', item: { k: 'isTrue', item: and(...all) } });
  }
  return v;
}

function validateAt(f: CallFilter, allowedSources: readonly string[], access: FilterAccess, at: string): ValidatedFilter {
  const preds: Pred[] = [];

  const actions = checkList(`${at}.actions`, f.actions, (v) => ACTION.test(v), 'an API action name');
  if (actions.length) preds.push({ k: 'in', e: FIELDS.eventName, values: inValues(actions) });
  const patterns = checkList(`${at}.actionPatterns`, f.actionPatterns, (v) => ACTION_PATTERN.test(v), 'an action name with * at its start or end');
  if (patterns.length) preds.push(or(...patterns.map(actionPatternPred)));

  const sources = checkList(`${at}.eventSources`, f.eventSources, (v) => EVENT_SOURCE.test(v), 'an event source like "iotevents.amazonaws.com"');
  for (const s of sources) {
    if (allowedSources.length && !allowedSources.includes(s)) {
      throw new BadInputError(`${at}.eventSources: "${s}" is not served here (served: ${allowedSources.join(', ')})`, `${at}.eventSources`);
    }
  }

  const accounts = checkList(`${at}.accounts`, f.accounts, (v) => ACCOUNT_ID.test(v), 'a 12-digit AWS account id');
  const regions = checkList(`${at}.regions`, f.regions, (v) => REGION.test(v), 'an AWS region like "us-east-1"');

  const callerArns = checkList(`${at}.callerArns`, f.callerArns, (v) => ARN.test(v), 'an ARN');
  if (callerArns.length) preds.push({ k: 'in', e: FIELDS.callerArn, values: inValues(callerArns) });

  // Every principal `principal` gives, callers grouped by PRINCIPAL list, and `not` may leave out:
  // ARNs and service names, but also another account's principal id, an Identity Center user, and
  // a service written as "".
  const principals = checkList(`${at}.principalArns`, f.principalArns, (v) => v.length <= 1000, 'a principal (at most 1000 characters)');
  if (principals.length) preds.push({ k: 'in', e: FIELDS.principal, values: inValues(principals) });

  checkCount(`${at}.identityTypes`, f.identityTypes);
  checkCount(`${at}.categories`, f.categories);
  if (f.identityTypes?.length) {
    const raw = [...new Set(f.identityTypes)].map((t) => (t === IdentityType.UNKNOWN ? 'Unknown' : RAW_IDENTITY_TYPES[t]));
    if (raw.some((r) => r === undefined)) throw new BadInputError(`${at}.identityTypes: unknown identity type`, `${at}.identityTypes`);
    preds.push({ k: 'in', e: FIELDS.identityType, values: inValues(raw) });
  }
  if (f.categories?.length) {
    const known = new Set<string>(Object.values(CallerCategory));
    for (const c of f.categories) {
      if (!known.has(c)) throw new BadInputError(`${at}.categories: unknown caller category`, `${at}.categories`);
    }
    preds.push({ k: 'in', e: FIELDS.category, values: inValues([...new Set(f.categories)]) });
  }

  const userNames = checkList(`${at}.userNames`, f.userNames, (v) => v.length >= 1 && v.length <= 256, 'a user name (1 to 256 characters)');
  if (userNames.length) preds.push({ k: 'in', e: FIELDS.userName, values: inValues(userNames) });

  const keys = checkList(`${at}.accessKeyIds`, f.accessKeyIds, (v) => ACCESS_KEY.test(v), 'an access key id');
  if (keys.length) preds.push({ k: 'in', e: FIELDS.accessKeyId, values: inValues(keys) });

  const ips = checkList(`${at}.sourceIps`, f.sourceIps, (v) => v.length >= 1 && v.length <= 256, 'a source address (1 to 256 characters)');
  const cidrs: Cidr[] = checkList(`${at}.sourceCidrs`, f.sourceCidrs, () => true, 'a CIDR block').map((c) => {
    try {
      return parseCidr(c);
    } catch (err) {
      throw new BadInputError(`${at}.sourceCidrs: ${(err as Error).message}`, `${at}.sourceCidrs`);
    }
  });
  const ipPreds: Pred[] = [];
  if (ips.length) ipPreds.push({ k: 'in', e: FIELDS.sourceIp, values: inValues(ips) });
  for (const c of cidrs) ipPreds.push(cidrPred(FIELDS.sourceIp, c));
  if (ipPreds.length) preds.push(ipPreds.length === 1 ? ipPreds[0] : or(...ipPreds));

  const selection = sourceSelectionOf(f, at);
  const needsSources = selection !== undefined && access.sourcesIn === undefined;
  if (selection && access.sourcesIn) preds.push({ k: 'in', e: FIELDS.sourceIp, values: inValues([...access.sourcesIn(selection)]) });

  checkCount(`${at}.sourceKinds`, f.sourceKinds);
  if (f.sourceKinds?.length) {
    const known = new Set<string>(Object.values(SourceIpKind));
    if (f.sourceKinds.some((k) => !known.has(k))) throw new BadInputError(`${at}.sourceKinds: unknown source address kind`, `${at}.sourceKinds`);
    const kinds = [...new Set(f.sourceKinds)];
    preds.push(or(...kinds.map((k) => sourceKindPred(FIELDS.sourceIp, k))));
  }

  const errorCodes = checkList(`${at}.errorCodes`, f.errorCodes, (v) => ERROR_CODE.test(v), 'an error code');
  if (errorCodes.length) preds.push({ k: 'in', e: FIELDS.errorCode, values: inValues(errorCodes) });
  const hasErrorsOnly = f.errorsOnly !== undefined && f.errorsOnly !== null;
  if (hasErrorsOnly && f.outcome !== undefined && f.outcome !== null) throw new BadInputError(`${at}.outcome: give outcome or errorsOnly, not both`, `${at}.outcome`);
  const outcome = hasErrorsOnly ? (f.errorsOnly ? CallOutcome.ERROR : CallOutcome.SUCCESS) : (f.outcome ?? CallOutcome.ANY);
  if (!Object.values(CallOutcome).includes(outcome)) throw new BadInputError(`${at}.outcome: unknown outcome`, `${at}.outcome`);
  if (outcome === CallOutcome.ERROR) preds.push({ k: 'cond', cond: { k: 'notNull', e: FIELDS.errorCode } });
  if (outcome === CallOutcome.SUCCESS) preds.push({ k: 'cond', cond: { k: 'isNull', e: FIELDS.errorCode } });
  if (f.readOnly === true) preds.push({ k: 'cond', cond: { k: 'eqConst', e: FIELDS.readOnly, value: 'true' } });
  if (f.readOnly === false) preds.push({ k: 'cond', cond: { k: 'eqConst', e: FIELDS.readOnly, value: 'false' } });

  const resourceNames = f.resourceName !== undefined && f.resourceName !== null ? [f.resourceName] : [...(f.resourceNames ?? [])];
  checkCount(`${at}.resourceNames`, resourceNames);
  if (resourceNames.length) {
    for (const name of resourceNames) {
      if (typeof name !== 'string' || !RESOURCE_NAME.test(name)) {
        throw new BadInputError(`${at}.resourceName: 1 to 256 characters, no control characters`, `${at}.resourceName`);
      }
    }
    const names = [...new Set(resourceNames)];
    preds.push(
      or(
        { k: 'in', e: FIELDS.detectorModelName, values: names.map(val) },
        { k: 'in', e: FIELDS.inputName, values: names.map(val) },
        { k: 'in', e: FIELDS.alarmModelName, values: names.map(val) },
        ...names.map((name): Pred => ({ k: 'endsWith', e: FIELDS.resourceArnParam, suffix: val(`/${name}`) })),
        // A batch call's entries, read only for the actions that send them.
        ...BATCH_ENTRIES.map((b) =>
          and({ k: 'cond', cond: { k: 'inConst', e: FIELDS.eventName, values: b.actions } }, { k: 'jsonArrayAnyIn', e: FIELDS.requestParameters, array: b.array, field: b.field, values: names.map(val) }),
        ),
      ),
    );
  }

  if (f.userAgentContains !== undefined && f.userAgentContains !== null) {
    const s = f.userAgentContains;
    if (s.length < 1 || s.length > 256) throw new BadInputError(`${at}.userAgentContains: 1 to 256 characters`, `${at}.userAgentContains`);
    preds.push({ k: 'containsCi', e: FIELDS.userAgent, value: val(s) });
  }

  for (const [name, columns] of [
    ['errorMessageContains', [FIELDS.errorMessage]],
    ['payloadContains', [FIELDS.requestParameters, FIELDS.responseElements]],
  ] as const) {
    const given = f[name];
    if (given === undefined || given === null) continue;
    if (!access.readPayloads) throw new ForbiddenError(`${at}.${name}: this key may not read payloads or error messages, so it may not search them`);
    const s = checkText(`${at}.${name}`, given);
    preds.push(or(...columns.map((e) => ({ k: 'containsCi', e, value: val(s) }) as Pred)));
  }

  const eventSources = sources.length ? sources : [...allowedSources];
  return { predicates: preds, regions, accounts, eventSources, needsSources };
}
