import { isIPv4, isIPv6 } from 'node:net';
import * as ipaddr from 'ipaddr.js';

/**
 * What a CloudTrail `sourceIPAddress` value is. IP addresses are classed by the special-purpose
 * ranges ipaddr.js names (IANA's registries), documentation ranges first; an address in none of
 * them is public. Only plain text forms count as addresses: dotted decimal IPv4 without leading
 * zeros, and hexadecimal IPv6 without an embedded IPv4 part or a zone; anything else is OTHER.
 */
export enum SourceIpKind {
  /** An IPv4 address in no special-purpose range. */
  PUBLIC_IPV4 = 'PUBLIC_IPV4',
  /** An IPv6 address in no special-purpose range. */
  PUBLIC_IPV6 = 'PUBLIC_IPV6',
  /** RFC 1918 (10/8, 172.16/12, 192.168/16) and IPv6 unique local (fc00::/7). */
  PRIVATE = 'PRIVATE',
  /** Shared address space of carrier-grade NAT, 100.64.0.0/10 (RFC 6598). */
  SHARED = 'SHARED',
  /** 127.0.0.0/8 and ::1. */
  LOOPBACK = 'LOOPBACK',
  /** 169.254.0.0/16 and fe80::/10. */
  LINK_LOCAL = 'LINK_LOCAL',
  /** 224.0.0.0/4 and ff00::/8. */
  MULTICAST = 'MULTICAST',
  /** Documentation ranges: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20. */
  DOCUMENTATION = 'DOCUMENTATION',
  /** Any other special-purpose range: 0/8, 240/4, benchmarking, IPv4-mapped, 6to4, Teredo, ... */
  RESERVED = 'RESERVED',
  AWS_SERVICE = 'AWS_SERVICE',
  AWS_INTERNAL = 'AWS_INTERNAL',
  OTHER = 'OTHER',
}

/** The address kinds of IP addresses (the rest are kinds of other text). */
export const IP_KINDS: readonly SourceIpKind[] = [
  SourceIpKind.PUBLIC_IPV4,
  SourceIpKind.PUBLIC_IPV6,
  SourceIpKind.PRIVATE,
  SourceIpKind.SHARED,
  SourceIpKind.LOOPBACK,
  SourceIpKind.LINK_LOCAL,
  SourceIpKind.MULTICAST,
  SourceIpKind.DOCUMENTATION,
  SourceIpKind.RESERVED,
];

const DOCUMENTATION_BLOCKS = ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32', '3fff::/20'];

/** ipaddr.js range names and the kind each stands for; every other special range is RESERVED. */
const RANGE_KINDS: Readonly<Record<string, SourceIpKind>> = {
  private: SourceIpKind.PRIVATE,
  uniqueLocal: SourceIpKind.PRIVATE,
  carrierGradeNat: SourceIpKind.SHARED,
  loopback: SourceIpKind.LOOPBACK,
  linkLocal: SourceIpKind.LINK_LOCAL,
  multicast: SourceIpKind.MULTICAST,
};

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const H = '[0-9A-Fa-f]{1,4}';
/** IPv4 text counted as an address: four decimal octets, no leading zeros. Also used in SQL. */
export const IPV4_TEXT_PATTERN = `^${OCTET}(\\.${OCTET}){3}$`;
/** IPv6 text counted as an address: hexadecimal groups, at most one `::`. Also used in SQL. */
export const IPV6_TEXT_PATTERN =
  `^((${H}:){7}${H}|(${H}:){1,7}:|(${H}:){1,6}:${H}|(${H}:){1,5}(:${H}){1,2}|(${H}:){1,4}(:${H}){1,3}|` +
  `(${H}:){1,3}(:${H}){1,4}|(${H}:){1,2}(:${H}){1,5}|${H}:(:${H}){1,6}|:((:${H}){1,7}|:))$`;
/** AWS service host names (lower-cased first), e.g. iotevents.amazonaws.com. Also used in SQL. */
export const AWS_SERVICE_PATTERNS = ['^[a-z0-9.-]+\\.amazonaws\\.com$', '^[a-z0-9-]+\\.amazonaws\\.com\\.cn$'];
/** The text CloudTrail writes for calls AWS made internally. */
export const AWS_INTERNAL = 'AWS Internal';

const IPV4_TEXT = new RegExp(IPV4_TEXT_PATTERN);
const IPV6_TEXT = new RegExp(IPV6_TEXT_PATTERN);
const AWS_SERVICE_TEXT = AWS_SERVICE_PATTERNS.map((p) => new RegExp(p));

/** The address in `text` when it is one of the plain forms counted as addresses. */
function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (IPV4_TEXT.test(text)) return ipaddr.IPv4.parse(text);
  if (IPV6_TEXT.test(text) && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return null;
}

let documentation: [ipaddr.IPv4 | ipaddr.IPv6, number][] | undefined;

function ipKindOf(addr: ipaddr.IPv4 | ipaddr.IPv6): SourceIpKind {
  documentation ??= DOCUMENTATION_BLOCKS.map((b) => ipaddr.parseCIDR(b));
  if (documentation.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits))) return SourceIpKind.DOCUMENTATION;
  const range = addr.range();
  if (range === 'unicast') return addr.kind() === 'ipv4' ? SourceIpKind.PUBLIC_IPV4 : SourceIpKind.PUBLIC_IPV6;
  return RANGE_KINDS[range] ?? SourceIpKind.RESERVED;
}

export interface AddressBlock {
  readonly kind: SourceIpKind;
  readonly cidr: Cidr;
}

let blocks: AddressBlock[] | undefined;

/**
 * Every special-purpose block with the kind it gives, the same data `classifySourceIp` uses: the
 * documentation blocks, then ipaddr.js's ranges (its documentation entries left out). Blocks of
 * different kinds never overlap, so "in a block of kind K" is the classification in SQL too.
 */
export function addressBlocks(): readonly AddressBlock[] {
  if (blocks) return blocks;
  const docs = DOCUMENTATION_BLOCKS.map((b) => parseCidr(b));
  const out: AddressBlock[] = docs.map((cidr) => ({ kind: SourceIpKind.DOCUMENTATION, cidr }));
  type Ranges = { SpecialRanges: Record<string, unknown[]> };
  const tables = [ipaddr.IPv4.parse('0.0.0.0'), ipaddr.IPv6.parse('::')].map((a) => (a as unknown as Ranges).SpecialRanges);
  for (const table of tables) {
    for (const [name, entry] of Object.entries(table)) {
      // An entry is one [address, bits] pair or a list of them.
      const list = (Array.isArray(entry[0]) ? entry : [entry]) as [ipaddr.IPv4 | ipaddr.IPv6, number][];
      for (const [net, bits] of list) {
        const cidr = parseCidr(`${net.toString()}/${bits}`);
        if (!docs.some((d) => d.text === cidr.text)) out.push({ kind: RANGE_KINDS[name] ?? SourceIpKind.RESERVED, cidr });
      }
    }
  }
  // A block inside another of its kind adds nothing (2001::/32 within 2001::/23, ...).
  blocks = out.filter((b, i) => !out.some((o, j) => j !== i && o.kind === b.kind && o.cidr.version === b.cidr.version && o.cidr.first <= b.cidr.first && o.cidr.last >= b.cidr.last && (o.cidr.prefix < b.cidr.prefix || j < i)));
  return blocks;
}

/** Whether `text` is an address in the forms `classifySourceIp` counts (and the SQL classification matches). */
export function addressVersion(text: string): 4 | 6 | null {
  const addr = parseAddress(text);
  return addr ? (addr.kind() === 'ipv4' ? 4 : 6) : null;
}

export function classifySourceIp(value: string | null | undefined): SourceIpKind {
  if (!value) return SourceIpKind.OTHER;
  if (value === AWS_INTERNAL) return SourceIpKind.AWS_INTERNAL;
  const addr = parseAddress(value);
  if (addr) return ipKindOf(addr);
  const lower = value.toLowerCase();
  if (AWS_SERVICE_TEXT.some((p) => p.test(lower))) return SourceIpKind.AWS_SERVICE;
  return SourceIpKind.OTHER;
}

export interface Cidr {
  readonly version: 4 | 6;
  /** First and last address of the block, as integers. */
  readonly first: bigint;
  readonly last: bigint;
  readonly prefix: number;
  /** Canonical text, e.g. `10.0.0.0/8`. */
  readonly text: string;
}

/** An address's bits as an integer: 32 of them for IPv4, 128 for IPv6. */
function toBigInt(addr: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  return addr.toByteArray().reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
}

/** Dotted decimal IPv4 (checked by the caller) to a 32-bit integer. */
export function ipv4ToBigInt(ip: string): bigint {
  return toBigInt(ipaddr.IPv4.parse(ip));
}

/**
 * An IPv6 address in any form ipaddr.js reads (compressed, with an embedded IPv4 tail or a zone)
 * to a 128-bit integer. The SQL side expands IPv6 text once, in the compiler (`ipv6Hex`), and a
 * property test holds it to this.
 */
export function ipv6ToBigInt(ip: string): bigint {
  return toBigInt(ipaddr.IPv6.parse(ip));
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const version = isIPv4(ip) ? 4 : isIPv6(ip) ? 6 : 0;
  if (version !== cidr.version) return false;
  const n = version === 4 ? ipv4ToBigInt(ip) : ipv6ToBigInt(ip);
  return n >= cidr.first && n <= cidr.last;
}

/**
 * Parses `a.b.c.d/n` or `x:y::z/n`; a bare address is a /32 or /128. Host bits must be zero, so a
 * typo like `10.1.2.3/8` is reported rather than silently widened. Returns an error text on failure.
 */
export function parseCidr(input: string): Cidr {
  const [addr, prefixText, ...rest] = input.trim().split('/');
  if (rest.length > 0 || !addr) throw new Error(`"${input}" is not a CIDR block`);
  const version = isIPv4(addr) ? 4 : isIPv6(addr) && !addr.includes('%') ? 6 : 0;
  if (version === 0) throw new Error(`"${input}" is not a CIDR block: "${addr}" is not an IPv4 or IPv6 address`);
  const bits = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) throw new Error(`"${input}": prefix length must be a number`);
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) throw new Error(`"${input}": prefix length must be at most ${bits}`);
  const n = version === 4 ? ipv4ToBigInt(addr) : ipv6ToBigInt(addr);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  if ((n & hostMask) !== 0n) throw new Error(`"${input}": host bits are set; did you mean ${formatAddress(n & ~hostMask, version)}/${prefix}?`);
  return { version, first: n, last: n | hostMask, prefix, text: `${formatAddress(n, version)}/${prefix}` };
}

/** An address integer as text: dotted decimal, or IPv6 compressed as RFC 5952 writes it. */
export function formatAddress(n: bigint, version: 4 | 6): string {
  const length = version === 4 ? 4 : 16;
  const bytes = Array.from({ length }, (_, i) => Number((n >> BigInt(8 * (length - 1 - i))) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

/** Fixed-width 32-hex-digit text of an IPv6 address: the form the SQL compares IPv6 ranges in. */
export function ipv6Hex(n: bigint): string {
  return n.toString(16).padStart(32, '0');
}
