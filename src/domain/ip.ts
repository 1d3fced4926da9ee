import { isIPv4, isIPv6 } from 'node:net';

/** What a CloudTrail `sourceIPAddress` value is. */
export enum SourceIpKind {
  PUBLIC_IPV4 = 'PUBLIC_IPV4',
  PUBLIC_IPV6 = 'PUBLIC_IPV6',
  PRIVATE = 'PRIVATE',
  AWS_SERVICE = 'AWS_SERVICE',
  AWS_INTERNAL = 'AWS_INTERNAL',
  OTHER = 'OTHER',
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

export function ipv4ToBigInt(ip: string): bigint {
  return ip.split('.').reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n);
}

/** Expands an IPv6 address (compressed, or with an embedded IPv4 tail) to a 128-bit integer. */
export function ipv6ToBigInt(ip: string): bigint {
  let text = ip.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const v4 = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const n = ipv4ToBigInt(v4[1]);
    text = text.slice(0, -v4[1].length) + `${((n >> 16n) & 0xffffn).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headParts = head ? head.split(':') : [];
  const tailParts = tail === undefined ? [] : tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = tail === undefined ? headParts : [...headParts, ...Array<string>(missing).fill('0'), ...tailParts];
  return parts.reduce((acc, p) => (acc << 16n) + BigInt(parseInt(p || '0', 16)), 0n);
}

const PRIVATE_V4: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '100.64.0.0/10',
  '0.0.0.0/8',
];
const PRIVATE_V6: readonly string[] = ['fc00::/7', 'fe80::/10', '::1/128', '::/128'];

let privateBlocks: Cidr[] | undefined;
function privates(): Cidr[] {
  privateBlocks ??= [...PRIVATE_V4, ...PRIVATE_V6].map((c) => parseCidr(c));
  return privateBlocks;
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const version = isIPv4(ip) ? 4 : isIPv6(ip) ? 6 : 0;
  if (version !== cidr.version) return false;
  const n = version === 4 ? ipv4ToBigInt(ip) : ipv6ToBigInt(ip);
  return n >= cidr.first && n <= cidr.last;
}

export function classifySourceIp(value: string | null | undefined): SourceIpKind {
  if (!value) return SourceIpKind.OTHER;
  if (value === 'AWS Internal') return SourceIpKind.AWS_INTERNAL;
  if (isIPv4(value) || isIPv6(value)) {
    if (privates().some((c) => cidrContains(c, value))) return SourceIpKind.PRIVATE;
    return isIPv4(value) ? SourceIpKind.PUBLIC_IPV4 : SourceIpKind.PUBLIC_IPV6;
  }
  if (/^[a-z0-9.-]+\.amazonaws\.com$/i.test(value) || /^[a-z0-9-]+\.amazonaws\.com\.cn$/i.test(value)) {
    return SourceIpKind.AWS_SERVICE;
  }
  return SourceIpKind.OTHER;
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

export function formatAddress(n: bigint, version: 4 | 6): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => ((n >> s) & 0xffn).toString()).join('.');
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => ((n >> s) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

/** Fixed-width 32-hex-digit text of an IPv6 address: the form the SQL compares IPv6 ranges in. */
export function ipv6Hex(n: bigint): string {
  return n.toString(16).padStart(32, '0');
}
