/**
 * What source-address enrichment adds: the one-time load of the offline databases, then the cost
 * per 1,000 rows when rows repeat addresses (the usual case: a page's rows come from a few
 * addresses) and per 1,000 distinct addresses (every lookup reaches the databases).
 * Run: npm run bench:enrichment (writes bench/results/enrichment.md).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AddressEnrichment } from '../src/enrichment';

function randomPublicV4(i: number): string {
  // Spread over the routed IPv4 space, skipping 0/8, 10/8, 127/8 and 224/3.
  const a = [1, 8, 23, 31, 45, 52, 63, 81, 89, 91, 100, 128, 151, 172, 185, 192, 199, 203, 212, 216][i % 20];
  return `${a}.${(i * 7) % 256}.${(i * 13) % 256}.${(i * 29) % 254 + 1}`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main(): void {
  const runs = 9;
  let t = performance.now();
  const e = AddressEnrichment.create();
  e.info('8.8.8.8');
  const loadV4Ms = performance.now() - t;
  t = performance.now();
  e.info('2001:4860:4860::8888');
  const loadV6Ms = performance.now() - t;
  global.gc?.();
  const rss = process.memoryUsage().rss / 2 ** 20;

  const distinct: number[] = [];
  const repeated: number[] = [];
  for (let r = 0; r < runs; r++) {
    const fresh = AddressEnrichment.create();
    fresh.info('8.8.8.8');
    fresh.info('2001:4860:4860::8888');
    const addrs = Array.from({ length: 1000 }, (_, i) => randomPublicV4(i + r * 1000));
    t = performance.now();
    for (const a of addrs) fresh.info(a);
    distinct.push(performance.now() - t);
    const rows = Array.from({ length: 1000 }, (_, i) => addrs[i % 50]);
    t = performance.now();
    for (const a of rows) fresh.info(a);
    repeated.push(performance.now() - t);
  }
  const fmt = (xs: number[]) => `${median(xs).toFixed(2)} ms (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)})`;
  const out = `# Source-address enrichment

Command: \`npm run bench:enrichment\` (${new Date().toISOString()}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}).

| what | time |
|---|---|
| first IPv4 lookup (loads the ASN table and the country database) | ${loadV4Ms.toFixed(0)} ms |
| first IPv6 lookup (loads the IPv6 ASN table) | ${loadV6Ms.toFixed(0)} ms |
| 1,000 distinct public addresses (every lookup reaches the databases), median of ${runs} | ${fmt(distinct)} |
| 1,000 rows from 50 addresses (cached per address), median of ${runs} | ${fmt(repeated)} |

Process RSS with the tables loaded once: ${rss.toFixed(0)} MiB (they stay loaded for the process's life; each run below loads its own copy to measure cold lookups).
Lookups happen only when a query selects \`asn\`, \`country\` or \`awsRange\`, once per distinct
address per process (LRU of 100,000 addresses); private, reserved and service addresses are never
looked up.
`;
  const file = path.join(__dirname, 'results', 'enrichment.md');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, out);
  process.stdout.write(out);
}

main();
