/**
 * Real CloudTrail records (written by AWS, not generated here) load through every way a trail can
 * be laid out, and every record comes back over HTTP once with its values intact: the AWS IoT
 * Events documentation examples, and a real account's trail of 29 services with its oddities.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { arrangeTrail } from '../src/trail/arrange';
import { ApiCallNode, expectSameAsRecord, fetchAllPages } from './support/api-calls';
import { RawRecord, dedupe, readRecords } from './support/records';
import { TestServer, startServer } from './support/server';
import { FIXTURES, tempDir } from './support/trails';

const DOCS = path.join(FIXTURES, 'iotevents-docs');
const INVICTUS = path.join(FIXTURES, 'invictus-ir');

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

const made: string[] = [];
function scratch(): string {
  const dir = tempDir('trailql-fixture-');
  made.push(dir);
  return dir;
}

/** Copies `files` into a fresh folder and arranges that folder into a layout. */
async function arranged(files: string[]): Promise<{ dir: string; files: number; records: number }> {
  const from = scratch();
  for (const f of files) fs.copyFileSync(f, path.join(from, path.basename(f)));
  const dir = scratch();
  const result = await arrangeTrail(from, dir);
  return { dir, files: result.files.length, records: result.records };
}

const servers: TestServer[] = [];
async function serve(dir: string, env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startServer(dir, env);
  servers.push(server);
  return server;
}
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

function byEventId(nodes: ApiCallNode[]): Map<string, ApiCallNode> {
  const map = new Map(nodes.map((n) => [n.eventId as string, n]));
  expect(map.size).toBe(nodes.length);
  return map;
}

describe('AWS IoT Events documentation records (15)', () => {
  const WINDOW = { from: '2019-02-07T00:00:00Z', to: '2019-02-09T00:00:00Z' };
  const originals: RawRecord[] = readJson(path.join(DOCS, 'awsdocs-all-15-as-Records.json')).Records;
  const singles = fs.readdirSync(DOCS).filter((n) => /^awsdocs-\d\d-.+\.json$/.test(n)).sort();
  const layouts: Record<string, () => Promise<string>> = {
    's3-layout copy': async () => path.join(DOCS, 's3-layout'),
    'awsdocs-all-15-as-Records.json, plain, in a day folder': async () => {
      const dir = scratch();
      const day = path.join(dir, 'AWSLogs/123456789012/CloudTrail/us-east-1/2019/02/07');
      fs.mkdirSync(day, { recursive: true });
      fs.copyFileSync(path.join(DOCS, 'awsdocs-all-15-as-Records.json'), path.join(day, '123456789012_CloudTrail_us-east-1_20190207T2355Z_PLAINRECORDS0000.json'));
      return dir;
    },
    'awsdocs-all-15-as-Records.json arranged': async () => {
      const a = await arranged([path.join(DOCS, 'awsdocs-all-15-as-Records.json')]);
      expect(a.records).toBe(15);
      return a.dir;
    },
    'the 15 single-record files arranged': async () => {
      const a = await arranged(singles.map((n) => path.join(DOCS, n)));
      expect(a.records).toBe(15);
      return a.dir;
    },
  };

  test('the fixture is what its README says', () => {
    expect(originals).toHaveLength(15);
    expect(singles).toHaveLength(15);
    expect(singles.map((n) => readJson(path.join(DOCS, n)))).toEqual(expect.arrayContaining(originals));
    expect(new Set(originals.map((r) => r.eventID)).size).toBe(15);
  });

  describe.each(Object.keys(layouts))('%s', (name) => {
    let server: TestServer;
    let nodes: Map<string, ApiCallNode>;

    beforeAll(async () => {
      const dir = await layouts[name]();
      expect(dedupe(readRecords(dir)).map((r) => r.eventID).sort()).toEqual(originals.map((r) => r.eventID).sort());
      server = await serve(dir);
      const all = await fetchAllPages(server, WINDOW, 100);
      expect(all.total).toBe(15);
      nodes = byEventId(all.nodes);
    });

    test('apiCalls with the default IoT Events sources returns all 15', () => {
      expect([...nodes.keys()].sort()).toEqual(originals.map((r) => r.eventID).sort());
    });

    test('every value comes back as written', () => {
      for (const r of originals) expectSameAsRecord(nodes.get(r.eventID)!, r);
    });

    test('the documented shape: payloads, redaction markers, errors, assumed-role callers', () => {
      for (const r of originals) {
        const n = nodes.get(r.eventID)!;
        expect(n.requestParameters).toEqual(r.requestParameters);
        expect(n.responseElements).toBeNull();
        expect(n.caller).toMatchObject({
          arn: r.userIdentity.arn,
          principalId: r.userIdentity.principalId,
          accessKeyId: r.userIdentity.accessKeyId,
          mfaAuthenticated: false,
          identityType: 'ASSUMED_ROLE',
          category: 'ROLE_OR_FEDERATED_SESSION',
          sessionIssuer: r.userIdentity.sessionContext.sessionIssuer,
        });
      }
      const byName = (action: string) => [...nodes.values()].find((n) => n.action === action)!;
      expect(byName('DescribeLoggingOptions').requestParameters).toBeNull();
      expect(byName('CreateDetectorModel').requestParameters.key).toBe('HIDDEN_DUE_TO_SECURITY_REASONS');
      expect(byName('ListDetectors').requestParameters.stateName).toBe('HIDDEN_DUE_TO_SECURITY_REASONS');
      expect(byName('ListInputs').requestParameters.maxResults).toBe(3);
      expect(byName('PutLoggingOptions').requestParameters.loggingOptions).toEqual({
        roleArn: 'arn:aws:iam::123456789012:role/logging__logging_role',
        level: 'INFO',
        enabled: false,
      });
      for (const action of ['DeleteInput', 'UpdateInput']) {
        expect(byName(action)).toMatchObject({ errorCode: 'ResourceNotFoundException', success: false });
        expect(byName(action).errorMessage).toEqual(expect.any(String));
      }
      expect([...nodes.values()].filter((n) => n.errorCode !== null)).toHaveLength(2);
    });
  });
});

describe('a real account trail (invictus-ir, 2,900 records, no IoT Events)', () => {
  const WINDOW = { from: '2023-07-10T00:00:00Z', to: '2023-07-11T00:00:00Z' };
  const originalFiles = fs.readdirSync(path.join(INVICTUS, 'original')).filter((n) => n.endsWith('.json')).sort();
  const raw: RawRecord[] = dedupe(
    originalFiles.flatMap((n) => (readJson(path.join(INVICTUS, 'original', n)).Records as RawRecord[]).map((record) => ({ file: n, record }))),
  );
  const byId = new Map(raw.map((r) => [r.eventID as string, r]));
  /** A record of the originals having `has`; fails when the fixture has none. */
  const find = (has: (r: RawRecord) => boolean): RawRecord => {
    const r = raw.find(has);
    expect(r).toBeDefined();
    return r!;
  };

  test('the fixture is what its README says', () => {
    expect(originalFiles).toHaveLength(55);
    expect(raw).toHaveLength(2900);
    expect(readRecords(path.join(INVICTUS, 's3-layout'))).toHaveLength(2900);
  });

  const layouts: Record<string, () => Promise<string>> = {
    's3-layout copy': async () => path.join(INVICTUS, 's3-layout'),
    'the 55 delivered originals arranged': async () => {
      const a = await arranged(originalFiles.map((n) => path.join(INVICTUS, 'original', n)));
      expect(a.files).toBe(55);
      return a.dir;
    },
  };

  describe.each(Object.keys(layouts))('%s', (name) => {
    let server: TestServer;
    let nodes: Map<string, ApiCallNode>;
    let pages: number;

    beforeAll(async () => {
      const dir = await layouts[name]();
      const fromFiles = dedupe(readRecords(dir));
      expect(fromFiles).toHaveLength(byId.size);
      expect(fromFiles.map((r) => r.eventID).sort()).toEqual([...byId.keys()].sort());
      server = await serve(dir, { EVENT_SOURCES: '*' });
      const all = await fetchAllPages(server, WINDOW, 500);
      expect(all.total).toBe(raw.length);
      pages = all.pages;
      nodes = byEventId(all.nodes);
    });

    test('paging returns every record once', () => {
      expect(pages).toBe(Math.ceil(raw.length / 500));
      expect(nodes.size).toBe(2900);
      expect([...nodes.keys()].sort()).toEqual([...byId.keys()].sort());
    });

    test('every value comes back as written', () => {
      for (const r of raw) expectSameAsRecord(nodes.get(r.eventID)!, r);
    });

    test('userIdentity without type: UNKNOWN, rawType null, invokedBy kept', () => {
      const typeless = raw.filter((r) => r.userIdentity && r.userIdentity.type === undefined);
      expect(typeless).toHaveLength(42);
      for (const r of typeless) {
        expect(nodes.get(r.eventID)!.caller).toMatchObject({
          identityType: 'UNKNOWN',
          rawType: null,
          invokedBy: r.userIdentity.invokedBy,
          category: r.userIdentity.invokedBy ? 'AWS_SERVICE' : 'OTHER',
          accountId: r.userIdentity.accountId,
        });
      }
      expect(typeless.some((r) => r.userIdentity.invokedBy)).toBe(true);
    });

    test('one JSON path, several types: each record keeps its own', () => {
      const params = (r: RawRecord) => r.requestParameters ?? {};
      const maxString = find((r) => typeof params(r).maxResults === 'string');
      const maxNumber = find((r) => typeof params(r).maxResults === 'number');
      expect(nodes.get(maxString.eventID)!.requestParameters.maxResults).toBe(maxString.requestParameters.maxResults);
      expect(nodes.get(maxNumber.eventID)!.requestParameters.maxResults).toBe(maxNumber.requestParameters.maxResults);
      expect(typeof nodes.get(maxString.eventID)!.requestParameters.maxResults).toBe('string');
      expect(typeof nodes.get(maxNumber.eventID)!.requestParameters.maxResults).toBe('number');

      const tagList = find((r) => Array.isArray(params(r).tags));
      const tagObject = find((r) => params(r).tags && typeof params(r).tags === 'object' && !Array.isArray(params(r).tags));
      expect(nodes.get(tagList.eventID)!.requestParameters.tags).toEqual(tagList.requestParameters.tags);
      expect(Array.isArray(nodes.get(tagList.eventID)!.requestParameters.tags)).toBe(true);
      expect(nodes.get(tagObject.eventID)!.requestParameters.tags).toEqual(tagObject.requestParameters.tags);

      const termBool = find((r) => typeof params(r).disableApiTermination === 'boolean');
      const termObject = find((r) => typeof params(r).disableApiTermination === 'object' && params(r).disableApiTermination !== null);
      expect(nodes.get(termBool.eventID)!.requestParameters.disableApiTermination).toBe(termBool.requestParameters.disableApiTermination);
      expect(nodes.get(termObject.eventID)!.requestParameters.disableApiTermination).toEqual(termObject.requestParameters.disableApiTermination);

      const roleObject = find((r) => typeof r.responseElements?.role === 'object' && r.responseElements.role !== null);
      const roleString = find((r) => typeof r.responseElements?.role === 'string');
      expect(nodes.get(roleObject.eventID)!.responseElements.role).toEqual(roleObject.responseElements.role);
      expect(nodes.get(roleString.eventID)!.responseElements.role).toBe(roleString.responseElements.role);
    });

    test('null payloads stay null', () => {
      const noParams = raw.filter((r) => r.requestParameters === null);
      const noResponse = raw.filter((r) => r.responseElements === null);
      expect(noParams).toHaveLength(333);
      expect(noResponse).toHaveLength(2573);
      for (const r of noParams) expect(nodes.get(r.eventID)!.requestParameters).toBeNull();
      for (const r of noResponse) expect(nodes.get(r.eventID)!.responseElements).toBeNull();
    });

    test('sessionCredentialFromConsole "true" is true', () => {
      const fromConsole = raw.filter((r) => r.sessionCredentialFromConsole !== undefined);
      expect(fromConsole.length).toBeGreaterThan(0);
      for (const r of fromConsole) {
        expect(r.sessionCredentialFromConsole).toBe('true');
        expect(nodes.get(r.eventID)!.sessionCredentialFromConsole).toBe(true);
      }
      const other = find((r) => r.sessionCredentialFromConsole === undefined);
      expect(nodes.get(other.eventID)!.sessionCredentialFromConsole).toBeNull();
    });

    test('tlsDetails, vpcEndpointId, sharedEventID, serviceEventDetails, additionalEventData when present', () => {
      const tls = find((r) => r.tlsDetails?.clientProvidedHostHeader);
      expect(nodes.get(tls.eventID)!.tls).toEqual({
        version: tls.tlsDetails.tlsVersion,
        cipherSuite: tls.tlsDetails.cipherSuite,
        clientProvidedHostHeader: tls.tlsDetails.clientProvidedHostHeader,
      });
      expect(nodes.get(find((r) => !r.tlsDetails).eventID)!.tls).toBeNull();

      const vpce = find((r) => r.vpcEndpointId);
      expect(nodes.get(vpce.eventID)!.vpcEndpointId).toBe(vpce.vpcEndpointId);
      const shared = find((r) => r.sharedEventID);
      expect(nodes.get(shared.eventID)!.sharedEventId).toBe(shared.sharedEventID);
      const details = find((r) => r.serviceEventDetails);
      expect(nodes.get(details.eventID)!.serviceEventDetails).toEqual(details.serviceEventDetails);
      const extra = find((r) => r.additionalEventData);
      expect(nodes.get(extra.eventID)!.additionalEventData).toEqual(extra.additionalEventData);
      expect(nodes.get(find((r) => r.additionalEventData === undefined).eventID)!.additionalEventData).toBeNull();
      for (const eventType of ['AwsServiceEvent', 'AwsConsoleSignIn']) {
        expect(nodes.get(find((r) => r.eventType === eventType).eventID)!.eventType).toBe(eventType);
      }
    });

    test('resources keep arn, accountId and type', () => {
      const withResources = raw.filter((r) => Array.isArray(r.resources) && r.resources.length > 0);
      expect(withResources.length).toBeGreaterThan(0);
      for (const r of withResources) {
        expect(nodes.get(r.eventID)!.resources).toEqual(
          r.resources.map((x: RawRecord) => ({ arn: x.ARN ?? null, accountId: x.accountId ?? null, type: x.type ?? null })),
        );
      }
      const one = withResources.find((r) => r.resources.every((x: RawRecord) => x.ARN && x.accountId && x.type))!;
      expect(nodes.get(one.eventID)!.resources[0]).toEqual({ arn: one.resources[0].ARN, accountId: one.resources[0].accountId, type: one.resources[0].type });
    });
  });
});
