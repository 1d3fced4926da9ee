/**
 * Autonomous system of an address, from the offline RouteViews/DB-IP table shipped in the
 * `@ip-location-db/asn` npm package (CC BY 4.0; see README). Loaded once, on first use, into sorted
 * arrays searched by bisection.
 */
import * as fs from 'node:fs';
import * as ipaddr from 'ipaddr.js';

export interface AsnInfo {
  readonly number: number;
  readonly organization: string | null;
}

interface Table<N> {
  readonly starts: N[] | Uint32Array;
  readonly ends: N[] | Uint32Array;
  readonly asns: Uint32Array;
  readonly orgs: Uint32Array;
}

/** Splits one CSV line of the table: start,end,asn,organization (the last may be quoted). */
function fields(line: string): [string, string, string, string] | null {
  const a = line.indexOf(',');
  const b = line.indexOf(',', a + 1);
  const c = line.indexOf(',', b + 1);
  if (a < 0 || b < 0 || c < 0) return null;
  let org = line.slice(c + 1);
  if (org.startsWith('"') && org.endsWith('"')) org = org.slice(1, -1).replace(/""/g, '"');
  return [line.slice(0, a), line.slice(a + 1, b), line.slice(b + 1, c), org];
}

export class AsnDatabase {
  private v4?: Table<number>;
  private v6?: Table<bigint>;
  private readonly names: string[] = [];
  private readonly nameIndex = new Map<string, number>();

  constructor(private readonly dir: string) {}

  /** The package's folder, when it is installed. */
  static locate(): string | undefined {
    try {
      return require('node:path').dirname(require.resolve('@ip-location-db/asn/package.json')) as string;
    } catch {
      return undefined;
    }
  }

  private name(org: string): number {
    let i = this.nameIndex.get(org);
    if (i === undefined) {
      i = this.names.length;
      this.names.push(org);
      this.nameIndex.set(org, i);
    }
    return i;
  }

  private load<N>(file: string, num: (s: string) => N, typed: boolean): Table<N> {
    const lines = fs.readFileSync(`${this.dir}/${file}`, 'utf8').split('\n');
    const starts: N[] = [];
    const ends: N[] = [];
    const asns: number[] = [];
    const orgs: number[] = [];
    for (const line of lines) {
      const f = line && fields(line);
      if (!f) continue;
      starts.push(num(f[0]));
      ends.push(num(f[1]));
      asns.push(Number(f[2]));
      orgs.push(this.name(f[3]));
    }
    return {
      starts: typed ? Uint32Array.from(starts as number[]) : starts,
      ends: typed ? Uint32Array.from(ends as number[]) : ends,
      asns: Uint32Array.from(asns),
      orgs: Uint32Array.from(orgs),
    };
  }

  lookup(address: string): AsnInfo | null {
    let parsed;
    try {
      parsed = ipaddr.parse(address);
    } catch {
      return null;
    }
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
    if (parsed.kind() === 'ipv4') {
      this.v4 ??= this.load('asn-ipv4-num.csv', Number, true);
      const n = parsed.toByteArray().reduce((acc, b) => acc * 256 + b, 0);
      return this.find(this.v4, n);
    }
    this.v6 ??= this.load('asn-ipv6-num.csv', BigInt, false);
    const n = parsed.toByteArray().reduce((acc, b) => (acc << 8n) + BigInt(b), 0n);
    return this.find(this.v6, n);
  }

  private find<N extends number | bigint>(t: Table<N>, n: N): AsnInfo | null {
    let lo = 0;
    let hi = t.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((t.starts[mid] as N) <= n) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0 || (t.ends[hi] as N) < n) return null;
    const org = this.names[t.orgs[hi]];
    return { number: t.asns[hi], organization: org ? org : null };
  }
}
