/**
 * Source addresses as a graph: calls whose record names no sourceIPAddress form one group whose
 * address and kind are null (never the text "null"), and its nested fields read those calls.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { RawRecord, listRecordFiles, readRecords } from './support/records';
import { SAMPLE_END } from './support/trails';
import { useSampleServer } from './support/sample-server';

const FROM = new Date(SAMPLE_END.getTime() - 6 * 3_600_000);
const W = { from: FROM.toISOString(), to: SAMPLE_END.toISOString() };
const NO_ADDRESS_IDS = ['00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000b2'];

const sample = useSampleServer(1, { iotEventsPerDay: 40 }, {
  prepare(dir) {
    const file = listRecordFiles(dir).at(-1)!;
    const base = readRecords(dir).find((f) => f.record.eventSource === 'iotevents.amazonaws.com')!.record;
    const at = new Date(SAMPLE_END.getTime() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const records = NO_ADDRESS_IDS.map((eventID) => {
      const r: RawRecord = { ...base, eventID, eventTime: at };
      delete r.sourceIPAddress;
      return r;
    });
    fs.writeFileSync(path.join(path.dirname(file), `no_address_${Date.now()}.json.gz`), gzipSync(JSON.stringify({ Records: records })));
  },
});

test('calls without a source address are one group with a null address, and its nested fields read them', async () => {
  const q = `query($f: ApiCallFilter) { sourceIps(filter: $f, first: 50, orderBy: KEY_ASC) {
    totalCount
    nodes {
      address kind
      stats { calls }
      filtered: stats(filter: $f) { calls }
      calls(first: 10) { totalCount edges { node { eventId sourceIpAddress sourceIp { address } } } }
      callers(first: 10) { totalCount nodes { calls } }
    }
  } }`;
  const res = await sample.server.gql(q, { f: W });
  expect(res.errors).toBeUndefined();
  const nodes = res.data.sourceIps.nodes as { address: string | null; kind: string | null; [k: string]: any }[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  expect(nodes.map((n) => n.address)).not.toContain('null');
  expect(nodes.length).toBe(res.data.sourceIps.totalCount);
  const missing = nodes.filter((n) => n.address === null);
  expect(missing).toHaveLength(1);
  const [none] = missing;
  expect(none.kind).toBeNull();
  expect(none.stats.calls).toBe(NO_ADDRESS_IDS.length);
  expect(none.filtered.calls).toBe(NO_ADDRESS_IDS.length);
  expect(none.calls.totalCount).toBe(NO_ADDRESS_IDS.length);
  expect(none.calls.edges.map((e: { node: { eventId: string } }) => e.node.eventId).sort()).toEqual(NO_ADDRESS_IDS);
  expect(none.calls.edges.every((e: { node: { sourceIpAddress: unknown; sourceIp: unknown } }) => e.node.sourceIpAddress === null && e.node.sourceIp === null)).toBe(true);
  expect(none.callers.totalCount).toBe(1);
  expect(none.callers.nodes[0].calls).toBe(NO_ADDRESS_IDS.length);
  // The other addresses' nested fields are not mixed with the null group.
  const named = nodes.find((n) => n.address !== null)!;
  expect(named.calls.totalCount).toBe(named.stats.calls);
});
