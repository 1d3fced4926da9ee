/**
 * Source address enrichment: the offline ASN and country databases shipped as npm packages, and
 * AWS's ip-ranges.json format, each looked up once per distinct address.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AddressEnrichment } from '../src/enrichment';
import { AsnDatabase } from '../src/enrichment/asn';
import { AwsRanges } from '../src/enrichment/aws-ranges';
import { CountryDatabase } from '../src/enrichment/country';
import { tempDir } from './support/trails';

const RANGES = {
  syncToken: '1700000000',
  createDate: '2026-11-01-00-00-00',
  prefixes: [
    { ip_prefix: '52.94.0.0/16', region: 'us-east-1', service: 'AMAZON', network_border_group: 'us-east-1' },
    { ip_prefix: '52.94.0.0/16', region: 'us-east-1', service: 'EC2', network_border_group: 'us-east-1' },
    { ip_prefix: '52.94.5.0/24', region: 'eu-west-1', service: 'S3', network_border_group: 'eu-west-1' },
    { ip_prefix: 'not-a-prefix', region: 'x', service: 'Y', network_border_group: 'x' },
  ],
  ipv6_prefixes: [{ ipv6_prefix: '2600:1f18::/33', region: 'us-east-1', service: 'EC2', network_border_group: 'us-east-1' }],
};

describe('offline databases', () => {
  const enrichment = new AddressEnrichment(new AsnDatabase(AsnDatabase.locate()!), new CountryDatabase(CountryDatabase.locate()!), new AwsRanges(RANGES));

  test('a known public address has its AS and country', () => {
    expect(enrichment.info('8.8.8.8')).toMatchObject({ asn: { number: 15169 }, country: 'US' });
    expect(enrichment.info('81.2.69.142').country).toBe('GB');
    expect(enrichment.info('2001:4860:4860::8888').asn?.number).toBe(15169);
  }, 60_000);

  test('private, service and odd addresses have none, and are never guessed', () => {
    // Texts a lenient parser reads as 8.8.8.8 (a number, octal, a short form, IPv4 in IPv6) are not addresses the service counts.
    for (const a of ['10.1.2.3', '192.168.0.1', 'iotevents.amazonaws.com', 'AWS Internal', '', '999.1.1.1', '134744072', '010.010.010.010', '8.8.2056', '0x08080808', '::ffff:8.8.8.8', '::ffff:808:808']) {
      expect(enrichment.info(a)).toEqual({ asn: null, country: null, aws: null });
    }
  });

  test('AWS ranges: the most specific prefix, a named service before AMAZON, IPv6 too', () => {
    expect(enrichment.info('52.94.5.9').aws).toEqual({ prefix: '52.94.5.0/24', service: 'S3', region: 'eu-west-1' });
    expect(enrichment.info('52.94.6.9').aws).toEqual({ prefix: '52.94.0.0/16', service: 'EC2', region: 'us-east-1' });
    expect(enrichment.info('2600:1f18:1::1').aws?.service).toBe('EC2');
    expect(enrichment.info('2600:1f18:8000::1').aws).toBeNull();
  });

  test('each distinct address reaches the databases once', () => {
    const before = enrichment.lookups;
    for (let i = 0; i < 1000; i++) enrichment.info(`8.8.4.${i % 4}`);
    expect(enrichment.lookups - before).toBe(4);
  });
});

test('without an ip-ranges file the AWS range is null', () => {
  const e = new AddressEnrichment(undefined, undefined, undefined);
  expect(e.info('52.94.5.9')).toEqual({ asn: null, country: null, aws: null });
});

test('AwsRanges reads the published file format from disk', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'ip-ranges.json');
    fs.writeFileSync(file, JSON.stringify(RANGES));
    const r = AwsRanges.fromFile(file);
    expect(r.size).toBe(4);
    expect(r.lookup('52.94.200.1')?.service).toBe('EC2');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
