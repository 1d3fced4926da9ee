/**
 * Deterministic sample CloudTrail trail: gzipped `{"Records":[...]}` files in the S3 delivery
 * layout, with digests and one Insights file beside them, for local engines, tests and demos.
 *
 * Same options (seed, end, ...) give byte-identical files: every random choice comes from a seeded
 * generator; nothing reads the clock or Math.random.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import {
  IOT_EVENTS_ACTIONS,
  IOT_EVENTS_DATA_SOURCE,
  IOT_EVENTS_SOURCE,
  type IotEventsAction,
} from '../domain/iotevents-actions';
import { ACCOUNT_ID, ORG_ID, REGION } from '../domain/aws';
import { deliveryKey, digestKey, insightKey } from './layout';
import { scenarioCalls } from './sample-scenarios';

// ---------------------------------------------------------------------------------------------
// Options and result

export interface SampleTrailProgress {
  files: number;
  records: number;
  /** Estimated number of log files (one per account, region and 5-minute slot). */
  totalFiles: number;
}

export interface SampleTrailOrgAccount {
  /** Organization id, e.g. `o-a1b2c3d4e5`. */
  orgId: string;
  /** 12-digit member account whose logs go under `AWSLogs/<orgId>/<account>/`. */
  account: string;
}

export interface SampleTrailOptions {
  /** Folder that receives `AWSLogs/...`. */
  outDir: string;
  /** Length of the trail in days (fractions allowed). */
  days: number;
  /** End of the trail (exclusive for events, inclusive for delivery times). */
  end: Date;
  seed: number;
  /** Accounts with a single-account trail. Default `['111122223333', '444455556666']`. */
  accounts?: string[];
  /** A member account of an organization trail; default on, `null` for none. */
  orgAccount?: SampleTrailOrgAccount | null;
  /** Default `['us-east-1', 'eu-west-1']`. */
  regions?: string[];
  /** Mean IoT Events calls per account, region and day. Default 300. */
  iotEventsPerDay?: number;
  /** Other services' events per IoT Events call. Default 4. */
  otherEventsPerIotEvent?: number;
  /** Minutes between delivered files per account and region. Default 5, as CloudTrail. */
  deliveryMinutes?: number;
  onProgress?: (p: SampleTrailProgress) => void;
}

export interface SampleTrailResult {
  /** Log files written under `CloudTrail/` (digests and Insights not counted). */
  files: number;
  /** Records in those files, duplicates included. */
  records: number;
  /** Records whose eventSource is an IoT Events source, duplicates included. */
  iotEventsRecords: number;
  /** Records delivered twice (the second copy, same eventID, in a later file). */
  duplicateRecords: number;
  digestFiles: number;
  insightFiles: number;
  /** First second of the trail (events are in [start, end)). */
  start: Date;
  end: Date;
}

export const SAMPLE_DEFAULT_ACCOUNTS: readonly string[] = ['111122223333', '444455556666'];
export const SAMPLE_DEFAULT_ORG: Readonly<SampleTrailOrgAccount> = { orgId: 'o-a1b2c3d4e5', account: '777788889999' };
export const SAMPLE_DEFAULT_REGIONS: readonly string[] = ['us-east-1', 'eu-west-1'];
export const SAMPLE_DEFAULT_IOT_EVENTS_PER_DAY = 300;
export const SAMPLE_DEFAULT_OTHER_EVENTS_PER_IOT_EVENT = 4;

/** Marker CloudTrail puts in place of sensitive request values. */
export const HIDDEN = 'HIDDEN_DUE_TO_SECURITY_REASONS';

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** xmur3 string hash: a 32-bit seed generator from a string. */
function xmur3(str: string): () => number {
  let h = 1779033703 ^ str.length;
  for (let i = 0; i < str.length; i++) {
    h = Math.imul(h ^ str.charCodeAt(i), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  return () => {
    h = Math.imul(h ^ (h >>> 16), 2246822507);
    h = Math.imul(h ^ (h >>> 13), 3266489909);
    h ^= h >>> 16;
    return h >>> 0;
  };
}

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function hex8(n: number): string {
  return HEX2[(n >>> 24) & 255]! + HEX2[(n >>> 16) & 255]! + HEX2[(n >>> 8) & 255]! + HEX2[n & 255]!;
}

/** sfc32: small, fast, 128-bit state. */
class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seedText: string) {
    const h = xmur3(seedText);
    this.a = h();
    this.b = h();
    this.c = h();
    this.d = h();
    for (let i = 0; i < 15; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.u32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }

  uuid(): string {
    const a = this.u32();
    const b = ((this.u32() & 0xffff0fff) | 0x00004000) >>> 0;
    const c = ((this.u32() & 0x3fffffff) | 0x80000000) >>> 0;
    const d = this.u32();
    const bh = hex8(b);
    const ch = hex8(c);
    return `${hex8(a)}-${bh.slice(0, 4)}-${bh.slice(4)}-${ch.slice(0, 4)}-${ch.slice(4)}${hex8(d)}`;
  }

  hex(n: number): string {
    let s = '';
    while (s.length < n) s += hex8(this.u32());
    return s.slice(0, n);
  }

  /** Poisson-distributed count. */
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 40) {
      // Normal approximation (Box-Muller) for large means.
      const u = Math.max(this.next(), 1e-12);
      const v = this.next();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      return Math.max(0, Math.round(lambda + z * Math.sqrt(lambda)));
    }
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.next();
    } while (p > l);
    return k - 1;
  }
}

class Weighted<T> {
  private readonly items: T[] = [];
  private readonly cum: number[] = [];
  private total = 0;

  add(item: T, weight: number): this {
    if (weight > 0) {
      this.total += weight;
      this.items.push(item);
      this.cum.push(this.total);
    }
    return this;
  }

  get size(): number {
    return this.items.length;
  }

  pick(rng: Rng): T {
    const x = rng.next() * this.total;
    let lo = 0;
    let hi = this.cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cum[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo]!;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON values and time formats

type Json = string | number | boolean | null | Json[] | JsonObject;
interface JsonObject {
  [key: string]: Json | undefined;
}

function isoSeconds(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 19) + 'Z';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The `Jul 10, 2023, 12:55:24 PM` form some services use for times in responseElements. */
function javaDate(t: number): string {
  const d = new Date(t * 1000);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  const ss = String(d.getUTCSeconds()).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h12}:${mm}:${ss} ${h < 12 ? 'AM' : 'PM'}`;
}

function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Services

interface ServiceInfo {
  /** eventSource */
  source: string;
  /** aws-cli command namespace */
  cli: string;
  /** SDK client id used in user agents */
  sdk: string;
  /** Endpoint host, for tlsDetails.clientProvidedHostHeader */
  host: (region: string) => string;
  /** Global service: events land in us-east-1. */
  global?: boolean;
}

const SVC: Record<string, ServiceInfo> = {
  iotevents: { source: IOT_EVENTS_SOURCE, cli: 'iotevents', sdk: 'iot-events', host: (r) => `iotevents.${r}.amazonaws.com` },
  ioteventsdata: {
    source: IOT_EVENTS_DATA_SOURCE,
    cli: 'iotevents-data',
    sdk: 'iot-events-data',
    host: (r) => `data.iotevents.${r}.amazonaws.com`,
  },
  ec2: { source: 'ec2.amazonaws.com', cli: 'ec2', sdk: 'ec2', host: (r) => `ec2.${r}.amazonaws.com` },
  s3: { source: 's3.amazonaws.com', cli: 's3api', sdk: 's3', host: (r) => `s3.${r}.amazonaws.com` },
  sts: { source: 'sts.amazonaws.com', cli: 'sts', sdk: 'sts', host: (r) => `sts.${r}.amazonaws.com` },
  iam: { source: 'iam.amazonaws.com', cli: 'iam', sdk: 'iam', host: () => 'iam.amazonaws.com', global: true },
  kms: { source: 'kms.amazonaws.com', cli: 'kms', sdk: 'kms', host: (r) => `kms.${r}.amazonaws.com` },
  monitoring: {
    source: 'monitoring.amazonaws.com',
    cli: 'cloudwatch',
    sdk: 'cloudwatch',
    host: (r) => `monitoring.${r}.amazonaws.com`,
  },
  lambda: { source: 'lambda.amazonaws.com', cli: 'lambda', sdk: 'lambda', host: (r) => `lambda.${r}.amazonaws.com` },
  logs: { source: 'logs.amazonaws.com', cli: 'logs', sdk: 'cloudwatch-logs', host: (r) => `logs.${r}.amazonaws.com` },
  iot: { source: 'iot.amazonaws.com', cli: 'iot', sdk: 'iot', host: (r) => `iot.${r}.amazonaws.com` },
  ssm: { source: 'ssm.amazonaws.com', cli: 'ssm', sdk: 'ssm', host: (r) => `ssm.${r}.amazonaws.com` },
  secretsmanager: {
    source: 'secretsmanager.amazonaws.com',
    cli: 'secretsmanager',
    sdk: 'secrets-manager',
    host: (r) => `secretsmanager.${r}.amazonaws.com`,
  },
  signin: { source: 'signin.amazonaws.com', cli: 'signin', sdk: 'signin', host: () => 'signin.aws.amazon.com' },
  cloudtrail: {
    source: 'cloudtrail.amazonaws.com',
    cli: 'cloudtrail',
    sdk: 'cloudtrail',
    host: (r) => `cloudtrail.${r}.amazonaws.com`,
  },
};

// ---------------------------------------------------------------------------------------------
// User agents

type Agent =
  | 'console'
  | 'browser'
  | 'cli-linux'
  | 'cli-mac'
  | 'cli-v1-win'
  | 'sdk-js'
  | 'sdk-js-lambda'
  | 'sdk-js-browser'
  | 'boto3'
  | 'terraform'
  | 'go-sdk'
  | 'service';

function userAgent(agent: Agent, svc: ServiceInfo, eventName: string, serviceHost: string): string {
  switch (agent) {
    case 'console':
      return 'console.amazonaws.com';
    case 'browser':
      return 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36';
    case 'cli-linux':
      return `aws-cli/2.13.0 Python/3.11.4 Linux/5.15.0-1040-aws exe/x86_64.ubuntu.22 prompt/off command/${svc.cli}.${kebab(eventName)}`;
    case 'cli-mac':
      return `aws-cli/2.15.30 Python/3.11.8 Darwin/23.3.0 exe/x86_64 prompt/off command/${svc.cli}.${kebab(eventName)}`;
    case 'cli-v1-win':
      return 'aws-cli/1.29.12 Python/3.9.16 Windows/10 botocore/1.31.12';
    case 'sdk-js':
      return `aws-sdk-js/3.363.0 os/linux/5.10.186-179.751.amzn2.x86_64 lang/js md/nodejs/18.17.0 api/${svc.sdk}#3.363.0`;
    case 'sdk-js-lambda':
      return `aws-sdk-js/3.363.0 os/linux/5.10.184-194.730.amzn2.x86_64 lang/js md/nodejs/18.17.0 api/${svc.sdk}#3.363.0 exec-env/AWS_Lambda_nodejs18.x`;
    case 'sdk-js-browser':
      return `aws-sdk-js/3.363.0 ua/2.0 os/macOS#10.15.7 lang/js md/browser#Chrome_118.0.0.0 api/${svc.sdk}#3.363.0`;
    case 'boto3':
      return 'Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 os/linux#5.10.184-175.749.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.0';
    case 'terraform':
      return (
        'APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.17.0 ' +
        `(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.21.0 os/linux lang/go#1.20.8 md/GOOS#linux md/GOARCH#amd64 api/${svc.cli}#1.18.4`
      );
    case 'go-sdk':
      return 'aws-sdk-go/1.44.298 (go1.20.5; linux; amd64)';
    case 'service':
      return serviceHost;
  }
}

// ---------------------------------------------------------------------------------------------
// Accounts, resources, callers

const DETECTOR_MODELS: readonly string[] = ['boiler-temp', 'pump-pressure', 'hvac-zone-3', 'conveyor-vibration', 'freezer-door'];
const INPUTS: readonly string[] = ['boiler_telemetry', 'pump_readings', 'hvac_sensors', 'conveyor_accel', 'freezer_door_events'];
const ALARM_MODELS: readonly string[] = ['boiler-overheat', 'pump-low-pressure', 'freezer-temp-high'];
const MISSING_DETECTOR_MODELS: readonly string[] = ['boiler-temp-v0', 'myDetectorModel', 'test-model'];
const MISSING_INPUTS: readonly string[] = ['NoSuchInput', 'pump_readings_old'];
const MISSING_ALARM_MODELS: readonly string[] = ['pump-high-pressure', 'legacy-alarm'];
const KEY_PREFIX: Record<string, string> = {
  'boiler-temp': 'boiler',
  'pump-pressure': 'pump',
  'hvac-zone-3': 'ahu',
  'conveyor-vibration': 'conveyor',
  'freezer-door': 'freezer',
  'boiler-overheat': 'boiler',
  'pump-low-pressure': 'pump',
  'freezer-temp-high': 'freezer',
};

interface CallSite {
  ip: string;
  agent: Agent;
  /** Console call proxied by AWS: sourceIPAddress and userAgent `AWS Internal`. */
  internal: boolean;
}

type Profile = 'admin' | 'readonly' | 'ingest' | 'gateway' | 'operator' | 'deploy' | 'svc-iotevents' | 'svc-iot' | 'probe' | 'none';

interface Persona {
  key: string;
  profile: Profile;
  iotWeight: number;
  otherWeight: number;
  /** Which other-service event groups this caller takes part in. */
  groups: readonly string[];
  errorFactor: number;
  /** Writes fail with AccessDenied. */
  deniedWrites: boolean;
  /** sessionCredentialFromConsole "true" on its records. */
  console: boolean;
  /** The AwsServiceEvent caller without a userIdentity.type. */
  serviceEvent: boolean;
  eventVersion?: string;
  vpce?: string;
  /** ARN used in AccessDenied messages. */
  messageArn?: string;
  site: (rng: Rng) => CallSite;
  identity: (t: number, site: CallSite) => JsonObject;
}

interface Population {
  personas: Persona[];
  byKey: Map<string, Persona>;
  iot: Weighted<Persona>;
  /** Per group: callers of other services' events. */
  groups: Map<string, Weighted<Persona>>;
}

interface AccountCtx {
  account: string;
  orgId?: string;
  bucket: string;
  trailName: string;
  population: Population;
  /** Public IPv4 addresses, test-net style (office, home, VPN). */
  publicV4: string[];
  /** AWS-owned public IPv4 (Lambda, CI runners, NAT gateways). */
  awsV4: string[];
  publicV6: string[];
  privateIps: string[];
}

function v6Group(rng: Rng): string {
  return (1 + rng.int(0xffff)).toString(16);
}

function ipPools(rng: Rng): Pick<AccountCtx, 'publicV4' | 'awsV4' | 'publicV6' | 'privateIps'> {
  const publicV4 = [
    `198.51.100.${rng.range(2, 254)}`,
    `198.51.100.${rng.range(2, 254)}`,
    `203.0.113.${rng.range(2, 254)}`,
    `203.0.113.${rng.range(2, 254)}`,
    `192.0.2.${rng.range(2, 254)}`,
    `192.0.2.${rng.range(2, 254)}`,
    `198.51.100.${rng.range(2, 254)}`,
    `203.0.113.${rng.range(2, 254)}`,
  ];
  const awsV4 = [
    `54.${rng.range(144, 240)}.${rng.range(0, 255)}.${rng.range(1, 254)}`,
    `3.${rng.range(80, 239)}.${rng.range(0, 255)}.${rng.range(1, 254)}`,
    `52.${rng.range(0, 95)}.${rng.range(0, 255)}.${rng.range(1, 254)}`,
    `18.${rng.range(130, 235)}.${rng.range(0, 255)}.${rng.range(1, 254)}`,
  ];
  const publicV6 = [
    `2001:db8:${v6Group(rng)}:${v6Group(rng)}::${v6Group(rng)}`,
    `2001:db8:${v6Group(rng)}::${v6Group(rng)}:${v6Group(rng)}`,
    `2600:1f18:${v6Group(rng)}:${v6Group(rng)}:${v6Group(rng)}:${v6Group(rng)}:${v6Group(rng)}:${v6Group(rng)}`,
    `2a05:d018:${v6Group(rng)}:${v6Group(rng)}::${v6Group(rng)}:${v6Group(rng)}`,
  ];
  const privateIps = [
    `10.${rng.range(0, 255)}.${rng.range(0, 255)}.${rng.range(4, 254)}`,
    `10.${rng.range(0, 255)}.${rng.range(0, 255)}.${rng.range(4, 254)}`,
    `172.${rng.range(16, 31)}.${rng.range(0, 255)}.${rng.range(4, 254)}`,
    `192.168.${rng.range(0, 255)}.${rng.range(4, 254)}`,
  ];
  return { publicV4, awsV4, publicV6, privateIps };
}

const EMPTY_ISSUER: JsonObject = {};

function sessionContext(
  issuer: JsonObject,
  creation: number,
  mfa: boolean,
  extra?: { webIdFederationData?: JsonObject; ec2RoleDelivery?: string },
): JsonObject {
  return {
    sessionIssuer: issuer,
    webIdFederationData: extra?.webIdFederationData ?? {},
    attributes: { creationDate: isoSeconds(creation), mfaAuthenticated: mfa ? 'true' : 'false' },
    ec2RoleDelivery: extra?.ec2RoleDelivery,
  };
}

/**
 * The callers of one account: a fixed population, so the same principals, keys and addresses recur.
 */
function buildAccount(
  seed: number,
  account: string,
  index: number,
  allAccounts: readonly string[],
  orgId: string | undefined,
  homeRegion: string,
): AccountCtx {
  const rng = new Rng(`${seed}|account|${account}`);
  const pools = ipPools(rng);
  const { publicV4, awsV4, publicV6, privateIps } = pools;
  const token = rng.chars(KEY_CHARS, 8);
  const aida = (): string => `AIDA${token}${rng.chars(KEY_CHARS, 9)}`;
  const aroa = (): string => `AROA${token}${rng.chars(KEY_CHARS, 9)}`;
  const akia = (): string => `AKIA${token}${rng.chars(KEY_CHARS, 8)}`;
  const A = account;
  const others = allAccounts.filter((a) => a !== account);
  const external = others[0] ?? '210987654321';

  /** Temporary keys (ASIA...) that change with each session. */
  const tempKeys = (name: string): ((session: number) => string) => {
    let last = -1;
    let key = '';
    return (session) => {
      if (session !== last) {
        last = session;
        const h = new Rng(`${seed}|${A}|${name}|${session}`);
        key = `ASIA${token}${h.chars(KEY_CHARS, 8)}`;
      }
      return key;
    };
  };
  /** Sessions of `period` seconds starting at a per-caller offset; gives [session index, creation time]. */
  const sessionOf = (period: number): ((t: number) => [number, number]) => {
    const off = rng.int(period);
    return (t) => {
      const s = Math.floor((t - off) / period);
      return [s, s * period + off];
    };
  };

  const fixed = (ip: string, agent: Agent): ((r: Rng) => CallSite) => {
    const site: CallSite = { ip, agent, internal: false };
    return () => site;
  };
  const among = (ips: readonly string[], agents: readonly Agent[], internalShare = 0): ((r: Rng) => CallSite) => {
    return (r) => {
      if (internalShare > 0 && r.chance(internalShare)) return { ip: 'AWS Internal', agent: 'console', internal: true };
      return { ip: r.pick(ips), agent: r.pick(agents), internal: false };
    };
  };

  const personas: Persona[] = [];
  const base = {
    errorFactor: 1,
    deniedWrites: false,
    console: false,
    serviceEvent: false,
  };
  const add = (p: Omit<Persona, keyof typeof base> & Partial<typeof base>): void => {
    personas.push({ ...base, ...p });
  };

  // --- Root
  {
    const rootArn = `arn:aws:iam::${A}:root`;
    const mfa = index % 2 === 0;
    const sess = sessionOf(3 * 3600);
    const keys = tempKeys('root-console');
    add({
      key: 'root-console',
      profile: 'admin',
      iotWeight: 0.8,
      otherWeight: 0.3,
      groups: ['human', 'console'],
      console: true,
      messageArn: rootArn,
      site: among([publicV4[0]!, publicV6[0]!], ['console', 'browser'], 0.3),
      identity: (t, site) => {
        const [s, c] = sess(t);
        return {
          type: 'Root',
          principalId: A,
          arn: rootArn,
          accountId: A,
          accessKeyId: keys(s),
          sessionContext: sessionContext(EMPTY_ISSUER, c, mfa),
          invokedBy: site.internal ? 'AWS Internal' : undefined,
        };
      },
    });
    const rootKey = akia();
    add({
      key: 'root-cli',
      profile: 'admin',
      iotWeight: 0.3,
      otherWeight: 0.05,
      groups: ['human'],
      messageArn: rootArn,
      site: among([publicV4[4]!], ['cli-v1-win']),
      identity: () => ({ type: 'Root', principalId: A, arn: rootArn, accountId: A, accessKeyId: rootKey }),
    });
  }

  // --- IAM users
  const iamUser = (
    key: string,
    userName: string,
    userPath: string,
    opts: {
      profile: Profile;
      iotWeight: number;
      otherWeight: number;
      groups: string[];
      site: (r: Rng) => CallSite;
      creds: 'console' | 'long-term' | 'mfa-session';
      errorFactor?: number;
      deniedWrites?: boolean;
    },
  ): void => {
    const principalId = aida();
    const arn = `arn:aws:iam::${A}:user${userPath}${userName}`;
    const longTerm = akia();
    const keys = tempKeys(key);
    const sess = sessionOf(opts.creds === 'console' ? 8 * 3600 : 12 * 3600);
    add({
      key,
      profile: opts.profile,
      iotWeight: opts.iotWeight,
      otherWeight: opts.otherWeight,
      groups: opts.groups,
      console: opts.creds === 'console',
      errorFactor: opts.errorFactor ?? 1,
      deniedWrites: opts.deniedWrites ?? false,
      messageArn: arn,
      site: opts.site,
      identity: (t, site) => {
        if (opts.creds === 'long-term') {
          return { type: 'IAMUser', principalId, arn, accountId: A, accessKeyId: longTerm, userName };
        }
        const [s, c] = sess(t);
        return {
          type: 'IAMUser',
          principalId,
          arn,
          accountId: A,
          accessKeyId: keys(s),
          userName,
          sessionContext: sessionContext(EMPTY_ISSUER, c, true),
          invokedBy: site.internal ? 'AWS Internal' : undefined,
        };
      },
    });
  };
  iamUser('alice', 'alice', '/', {
    profile: 'admin',
    iotWeight: 4,
    otherWeight: 2,
    groups: ['human', 'console'],
    site: among([publicV4[0]!, publicV4[1]!, publicV6[0]!], ['console', 'console', 'browser'], 0.25),
    creds: 'console',
  });
  iamUser('bob', 'bob', '/', {
    profile: 'admin',
    iotWeight: 3,
    otherWeight: 1.5,
    groups: ['human'],
    site: among([publicV4[1]!, publicV6[1]!], ['cli-linux']),
    creds: 'long-term',
  });
  iamUser('carol', 'carol', '/', {
    profile: 'readonly',
    iotWeight: 2,
    otherWeight: 1,
    groups: ['human'],
    site: among([publicV6[0]!, publicV4[2]!], ['cli-mac']),
    creds: 'mfa-session',
  });
  iamUser('svc-iot-gateway', 'svc-iot-gateway', '/service/', {
    profile: 'gateway',
    iotWeight: 6,
    otherWeight: 1,
    groups: ['workload'],
    site: among([publicV4[3]!, privateIps[3]!], ['boto3']),
    creds: 'long-term',
  });
  iamUser('ci-deployer', 'ci-deployer', '/automation/', {
    profile: 'deploy',
    iotWeight: 4,
    otherWeight: 3,
    groups: ['workload', 'deploy'],
    site: among([awsV4[1]!, awsV4[3]!], ['terraform']),
    creds: 'long-term',
  });
  iamUser('temp-contractor', 'temp-contractor', '/', {
    profile: 'probe',
    iotWeight: 1,
    otherWeight: 0.4,
    groups: ['human'],
    site: among([publicV4[7]!, publicV6[3]!], ['cli-linux', 'go-sdk']),
    creds: 'long-term',
    errorFactor: 5,
    deniedWrites: true,
  });
  const brokerId = aida();
  const brokerArn = `arn:aws:iam::${A}:user/federation-broker`;

  // --- Assumed roles
  const assumedRole = (
    key: string,
    roleName: string,
    rolePath: string,
    sessionName: (t: number, s: number) => string,
    opts: {
      profile: Profile;
      iotWeight: number;
      otherWeight: number;
      groups: string[];
      site: (r: Rng) => CallSite;
      period: number;
      mfa?: boolean;
      console?: boolean;
      invokedBy?: string;
      noAccessKey?: boolean;
      ec2?: boolean;
      webId?: JsonObject;
      errorFactor?: number;
      deniedWrites?: boolean;
      vpce?: string;
    },
  ): void => {
    const roleId = aroa();
    const roleArn = `arn:aws:iam::${A}:role${rolePath}${roleName}`;
    const keys = tempKeys(key);
    const sess = sessionOf(opts.period);
    const issuer: JsonObject = { type: 'Role', principalId: roleId, arn: roleArn, accountId: A, userName: roleName };
    add({
      key,
      profile: opts.profile,
      iotWeight: opts.iotWeight,
      otherWeight: opts.otherWeight,
      groups: opts.groups,
      console: opts.console ?? false,
      errorFactor: opts.errorFactor ?? 1,
      deniedWrites: opts.deniedWrites ?? false,
      vpce: opts.vpce,
      messageArn: `arn:aws:sts::${A}:assumed-role/${roleName}/${sessionName(0, 0)}`,
      site: opts.site,
      identity: (t, site) => {
        const [s, c] = sess(t);
        const name = sessionName(t, s);
        return {
          type: 'AssumedRole',
          principalId: `${roleId}:${name}`,
          arn: `arn:aws:sts::${A}:assumed-role/${roleName}/${name}`,
          accountId: A,
          accessKeyId: opts.noAccessKey ? undefined : keys(s),
          sessionContext: sessionContext(issuer, c, opts.mfa ?? false, {
            webIdFederationData: opts.webId,
            ec2RoleDelivery: opts.ec2 ? '2.0' : undefined,
          }),
          invokedBy: opts.invokedBy ?? (site.internal ? 'AWS Internal' : undefined),
        };
      },
    });
  };
  const ssoSuffix = rng.hex(16);
  assumedRole('admin-role', 'Admin', '/', () => 'dave.martin', {
    profile: 'admin',
    iotWeight: 4,
    otherWeight: 2,
    groups: ['human'],
    site: among([publicV4[2]!, publicV4[5]!], ['cli-mac', 'cli-linux']),
    period: 3600,
    mfa: true,
  });
  assumedRole('sso-admin', `AWSReservedSSO_AdministratorAccess_${ssoSuffix}`, `/aws-reserved/sso.amazonaws.com/${homeRegion}/`, () => 'erin@example.com', {
    profile: 'admin',
    iotWeight: 6,
    otherWeight: 2,
    groups: ['human', 'console'],
    site: among([publicV4[5]!, publicV4[6]!, publicV6[2]!], ['console', 'browser'], 0.2),
    period: 8 * 3600,
    console: true,
  });
  assumedRole('sso-readonly', `AWSReservedSSO_ReadOnlyAccess_${rng.hex(16)}`, `/aws-reserved/sso.amazonaws.com/${homeRegion}/`, () => 'frank@example.com', {
    profile: 'readonly',
    iotWeight: 5,
    otherWeight: 1.5,
    groups: ['human', 'console'],
    site: among([publicV4[6]!, publicV6[1]!], ['console', 'cli-linux'], 0.15),
    period: 8 * 3600,
    console: true,
    deniedWrites: true,
  });
  assumedRole('ingest-lambda', 'IoTEventsIngestLambdaRole', '/service-role/', () => 'iot-events-ingest', {
    profile: 'ingest',
    iotWeight: 20,
    otherWeight: 10,
    groups: ['workload', 'lambda'],
    site: among([awsV4[0]!, awsV4[1]!, awsV4[2]!], ['sdk-js-lambda']),
    period: 6 * 3600,
  });
  const instanceId = `i-0${rng.hex(16)}`;
  const vpce = `vpce-0${rng.hex(16)}`;
  assumedRole('gateway-ec2', 'plant-gateway-ec2-role', '/', () => instanceId, {
    profile: 'gateway',
    iotWeight: 10,
    otherWeight: 12,
    groups: ['workload', 'ec2'],
    site: among([privateIps[0]!, privateIps[1]!, privateIps[2]!], ['boto3']),
    period: 6 * 3600,
    ec2: true,
    vpce,
  });
  assumedRole(
    'iotevents-slr',
    'AWSServiceRoleForIoTEvents',
    '/aws-service-role/iotevents.amazonaws.com/',
    () => 'IoTEvents',
    {
      profile: 'svc-iotevents',
      iotWeight: 3,
      otherWeight: 2,
      groups: ['slr'],
      site: fixed('iotevents.amazonaws.com', 'service'),
      period: 3600,
      invokedBy: 'iotevents.amazonaws.com',
      noAccessKey: true,
    },
  );
  assumedRole('iot-rule-role', 'iot-rule-to-iotevents-role', '/service-role/', (_t, s) => `iot-rule-${(s >>> 0).toString(16)}`, {
    profile: 'svc-iot',
    iotWeight: 15,
    otherWeight: 0,
    groups: [],
    site: fixed('iot.amazonaws.com', 'service'),
    period: 3600,
    invokedBy: 'iot.amazonaws.com',
  });
  const poolId = `${homeRegion}:${rng.uuid()}`;
  assumedRole('cognito-dashboard', 'Cognito_PlantDashboardAuth_Role', '/', () => 'CognitoIdentityCredentials', {
    profile: 'operator',
    iotWeight: 5,
    otherWeight: 0.5,
    groups: ['web'],
    site: among([publicV6[3]!, publicV4[7]!, publicV6[1]!], ['sdk-js-browser']),
    period: 3600,
    webId: {
      federatedProvider: 'cognito-identity.amazonaws.com',
      attributes: {
        'cognito-identity.amazonaws.com:aud': poolId,
        'cognito-identity.amazonaws.com:amr': 'authenticated',
      },
    },
  });

  // --- Federated user
  {
    const keys = tempKeys('federated');
    const sess = sessionOf(12 * 3600);
    const issuer: JsonObject = { type: 'IAMUser', principalId: brokerId, arn: brokerArn, accountId: A, userName: 'federation-broker' };
    add({
      key: 'federated-grace',
      profile: 'operator',
      iotWeight: 2,
      otherWeight: 0.8,
      groups: ['human'],
      messageArn: `arn:aws:sts::${A}:federated-user/grace`,
      site: among([publicV4[4]!, publicV6[2]!], ['sdk-js', 'cli-linux']),
      identity: (t) => {
        const [s, c] = sess(t);
        return {
          type: 'FederatedUser',
          principalId: `${A}:grace`,
          arn: `arn:aws:sts::${A}:federated-user/grace`,
          accountId: A,
          accessKeyId: keys(s),
          sessionContext: sessionContext(issuer, c, false),
        };
      },
    });
  }

  // --- AWS services acting on their own
  const awsService = (key: string, host: string, profile: Profile, iotWeight: number, groups: string[], otherWeight: number): void => {
    add({
      key,
      profile,
      iotWeight,
      otherWeight,
      groups,
      site: fixed(host, 'service'),
      identity: () => ({ type: 'AWSService', invokedBy: host }),
    });
  };
  awsService('svc-iotevents', 'iotevents.amazonaws.com', 'svc-iotevents', 2, [], 0);
  awsService('svc-iot', 'iot.amazonaws.com', 'svc-iot', 6, [], 0);
  awsService('svc-cloudtrail', 'cloudtrail.amazonaws.com', 'none', 0, ['svc-cloudtrail'], 3);
  awsService('svc-config', 'config.amazonaws.com', 'none', 0, ['svc-config'], 1);

  // --- Another account
  {
    const principalId = `AIDA${rng.chars(KEY_CHARS, 17)}`;
    add({
      key: 'cross-account',
      profile: 'probe',
      iotWeight: 0.8,
      otherWeight: 0.3,
      groups: ['cross'],
      errorFactor: 4,
      messageArn: `arn:aws:iam::${external}:user/auditor`,
      site: among([publicV4[3]!, awsV4[2]!], ['boto3', 'cli-linux']),
      identity: () => ({ type: 'AWSAccount', principalId, accountId: external }),
    });
  }

  // --- Web identity, SAML, Identity Center
  {
    const sub = String(100000000000000000000n + BigInt(rng.range(1, 1e9)) * 7919n);
    const app = `${rng.range(100000000000, 999999999999)}-${rng.chars('abcdefghijklmnopqrstuvwxyz0123456789', 32)}.apps.googleusercontent.com`;
    add({
      key: 'web-identity',
      profile: 'operator',
      iotWeight: 0.8,
      otherWeight: 0.3,
      groups: ['webid'],
      site: among([publicV6[3]!, publicV4[7]!], ['sdk-js-browser']),
      identity: () => ({
        type: 'WebIdentityUser',
        principalId: `accounts.google.com:${app}:${sub}`,
        userName: sub,
        identityProvider: 'accounts.google.com',
      }),
    });
    const idp = `${rng.chars(ALNUM, 14)}+${rng.chars(ALNUM, 8)}/${rng.chars(ALNUM, 4)}=`;
    add({
      key: 'saml-user',
      profile: 'readonly',
      iotWeight: 1.2,
      otherWeight: 0.3,
      groups: ['saml'],
      site: among([publicV4[1]!, publicV4[2]!], ['browser', 'console']),
      identity: () => ({
        type: 'SAMLUser',
        principalId: `${idp}:henry@example.com`,
        userName: 'henry@example.com',
        identityProvider: idp,
      }),
    });
    const userId = rng.uuid();
    const storeId = `d-${rng.hex(10)}`;
    const credentialId = rng.chars(ALNUM, 59);
    add({
      key: 'identity-center',
      profile: 'operator',
      iotWeight: 1.2,
      otherWeight: 0.2,
      groups: ['idc'],
      eventVersion: '1.09',
      site: among([publicV4[5]!, publicV6[0]!], ['browser', 'console']),
      identity: () => ({
        type: 'IdentityCenterUser',
        accountId: A,
        onBehalfOf: { userId, identityStoreArn: `arn:aws:identitystore::${A}:identitystore/${storeId}` },
        credentialId,
      }),
    });
  }

  // --- Rare types
  {
    const principalId = `AIDA${rng.chars(KEY_CHARS, 17)}`;
    add({
      key: 'unknown',
      profile: 'probe',
      iotWeight: 0.4,
      otherWeight: 0.1,
      groups: ['cross'],
      errorFactor: 8,
      site: among([publicV4[7]!, publicV4[4]!], ['go-sdk']),
      identity: () => ({ type: 'Unknown', principalId, accountId: '999988887777', userName: 'scanner' }),
    });
    const roleId = aroa();
    const roleArn = `arn:aws:iam::${A}:role/iotevents-config-reader`;
    add({
      key: 'role',
      profile: 'readonly',
      iotWeight: 0.4,
      otherWeight: 0.1,
      groups: ['role'],
      site: fixed('AWS Internal', 'service'),
      identity: () => ({ type: 'Role', principalId: roleId, arn: roleArn, accountId: A, userName: 'iotevents-config-reader' }),
    });
    add({
      key: 'no-type',
      profile: 'svc-iot',
      iotWeight: 0.6,
      otherWeight: 0.6,
      groups: ['notype'],
      serviceEvent: true,
      site: fixed('iot.amazonaws.com', 'service'),
      identity: () => ({ accountId: A, invokedBy: 'iot.amazonaws.com' }),
    });
  }

  const byKey = new Map(personas.map((p) => [p.key, p]));
  const iot = new Weighted<Persona>();
  const groups = new Map<string, Weighted<Persona>>();
  for (const p of personas) {
    iot.add(p, p.iotWeight);
    for (const g of p.groups) {
      let w = groups.get(g);
      if (!w) groups.set(g, (w = new Weighted<Persona>()));
      w.add(p, Math.max(p.otherWeight, 0.01));
    }
  }
  const bucketBase = orgId ? `aws-cloudtrail-logs-${orgId}` : `aws-cloudtrail-logs-${A}`;
  return {
    account,
    orgId,
    bucket: `${bucketBase}-${hex8(rng.u32())}`,
    trailName: orgId ? 'org-trail' : 'management-events',
    population: { personas, byKey, iot, groups },
    ...pools,
  };
}

// ---------------------------------------------------------------------------------------------
// IoT Events calls

const ACTION_WEIGHT: Record<string, number> = {
  CreateDetectorModel: 1,
  UpdateDetectorModel: 1.5,
  DeleteDetectorModel: 0.8,
  DescribeDetectorModel: 4,
  CreateInput: 1,
  UpdateInput: 1,
  DeleteInput: 0.8,
  DescribeInput: 3,
  CreateAlarmModel: 1,
  UpdateAlarmModel: 1,
  DeleteAlarmModel: 0.8,
  DescribeAlarmModel: 3,
  ListDetectorModels: 4,
  ListDetectorModelVersions: 2,
  ListAlarmModels: 3,
  ListAlarmModelVersions: 1.5,
  ListInputs: 3,
  ListInputRoutings: 1.5,
  DescribeLoggingOptions: 1.5,
  PutLoggingOptions: 0.8,
  StartDetectorModelAnalysis: 1,
  DescribeDetectorModelAnalysis: 1.5,
  GetDetectorModelAnalysisResults: 1,
  ListTagsForResource: 2,
  TagResource: 1,
  UntagResource: 0.8,
  BatchPutMessage: 10,
  BatchUpdateDetector: 3,
  BatchDeleteDetector: 1,
  BatchAcknowledgeAlarm: 2,
  BatchDisableAlarm: 1,
  BatchEnableAlarm: 1,
  BatchResetAlarm: 1.5,
  BatchSnoozeAlarm: 1,
  DescribeAlarm: 4,
  DescribeDetector: 5,
  ListAlarms: 3,
  ListDetectors: 4,
};

function profileWeight(profile: Profile, a: IotEventsAction): number {
  const w = ACTION_WEIGHT[a.name] ?? 1;
  const write = !a.readOnly;
  switch (profile) {
    case 'admin':
      return a.plane === 'control' ? w : w * (write ? 0.2 : 0.5);
    case 'readonly':
      return write ? w * 0.08 : w;
    case 'deploy':
      if (a.plane === 'data') return 0;
      return write ? w * 3 : w;
    case 'ingest':
      return { BatchPutMessage: 20, BatchUpdateDetector: 4, DescribeDetector: 2, ListDetectors: 1, DescribeInput: 0.5 }[a.name] ?? 0;
    case 'gateway':
      return { BatchPutMessage: 20, DescribeDetector: 1, BatchDeleteDetector: 0.5 }[a.name] ?? 0;
    case 'operator':
      if (a.plane === 'control') return a.readOnly ? w * 0.2 : 0;
      return a.name === 'BatchPutMessage' ? 0 : w;
    case 'svc-iotevents':
      return (
        {
          BatchUpdateDetector: 3,
          BatchResetAlarm: 1,
          BatchEnableAlarm: 0.5,
          DescribeDetectorModel: 1,
          DescribeInput: 0.5,
          ListInputRoutings: 0.5,
        }[a.name] ?? 0
      );
    case 'svc-iot':
      return a.name === 'BatchPutMessage' ? 1 : 0;
    case 'probe':
      return 1;
    case 'none':
      return 0;
  }
}

const actionTables = new Map<Profile, Weighted<IotEventsAction>>();
function actionTable(profile: Profile): Weighted<IotEventsAction> {
  let t = actionTables.get(profile);
  if (!t) {
    t = new Weighted<IotEventsAction>();
    for (const a of IOT_EVENTS_ACTIONS) t.add(a, profileWeight(profile, a));
    actionTables.set(profile, t);
  }
  return t;
}

type ErrorKind = 'denied' | 'notFound' | 'throttled' | 'invalid' | 'validation' | 'exists' | 'inUse' | 'internal';

const RESOURCE_TYPE = {
  detectorModel: 'AWS::IoTEvents::DetectorModel',
  input: 'AWS::IoTEvents::Input',
  alarmModel: 'AWS::IoTEvents::AlarmModel',
} as const;

type ResKind = keyof typeof RESOURCE_TYPE;

function iotArn(region: string, account: string, kind: ResKind, name: string): string {
  return `arn:aws:iotevents:${region}:${account}:${kind}/${name}`;
}

interface Stream {
  rng: Rng;
  ctx: AccountCtx;
  region: string;
  /** Version counters per model, so Update* responses count up. */
  versions: Map<string, number>;
  /** Recent StartDetectorModelAnalysis ids. */
  analyses: string[];
}

interface Built {
  json: string;
  iot: boolean;
}

function pickKind(rng: Rng, action: IotEventsAction, kind: ResKind | null): ResKind | null {
  if (action.resource === 'any') return rng.pick<ResKind>(['detectorModel', 'detectorModel', 'input', 'alarmModel']);
  return kind;
}

function chooseError(rng: Rng, action: IotEventsAction, p: Persona, hasResource: boolean): ErrorKind | null {
  if (p.deniedWrites && !action.readOnly) return rng.chance(0.92) ? 'denied' : null;
  if (!rng.chance(0.072 * p.errorFactor)) return null;
  if (p.errorFactor >= 4 && rng.chance(0.7)) return 'denied';
  const w = new Weighted<ErrorKind>()
    .add('denied', 3)
    .add('notFound', hasResource && action.name !== 'CreateDetectorModel' && action.name !== 'CreateInput' && action.name !== 'CreateAlarmModel' ? 3 : 0)
    .add('throttled', action.plane === 'data' ? 4 : 2)
    .add('invalid', 1.5)
    .add('validation', 1)
    .add('exists', action.name.startsWith('Create') ? 2 : 0)
    .add('inUse', action.name === 'DeleteInput' || action.name === 'DeleteDetectorModel' ? 1 : 0)
    .add('internal', 0.3);
  return w.pick(rng);
}

function keyValueFor(rng: Rng, model: string): string {
  const prefix = KEY_PREFIX[model] ?? 'device';
  return `${prefix}-${String(rng.range(1, 12)).padStart(2, '0')}`;
}

const KIND_LABEL: Record<ResKind, string> = { detectorModel: 'Detector model', input: 'Input', alarmModel: 'Alarm model' };

function errorMessage(kind: ErrorKind, action: IotEventsAction, p: Persona, resourceArn: string | null, resKind: ResKind | null, name: string | null): [string, string] {
  switch (kind) {
    case 'denied': {
      const who = p.messageArn ? `User: ${p.messageArn}` : 'User';
      const on = resourceArn ? ` on resource: ${resourceArn}` : '';
      const code = p.key.length % 3 === 0 ? 'AccessDenied' : 'AccessDeniedException';
      const why = p.key.startsWith('root')
        ? 'with an explicit deny in a service control policy'
        : `because no identity-based policy allows the iotevents:${action.name} action`;
      return [code, `${who} is not authorized to perform: iotevents:${action.name}${on} ${why}`];
    }
    case 'notFound':
      return ['ResourceNotFoundException', `${resKind ? KIND_LABEL[resKind] : 'Resource'} of name: ${name ?? 'unknown'} not found`];
    case 'throttled':
      return ['ThrottlingException', 'Rate exceeded'];
    case 'invalid':
      return action.name.startsWith('List')
        ? ['InvalidRequestException', "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 250"]
        : ['InvalidRequestException', 'The request is invalid: check the request parameters and try again'];
    case 'validation':
      return ['ValidationException', `1 validation error detected: Value '${name ?? ''}' at '${resKind ?? 'resource'}Name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_-]+$`];
    case 'exists':
      return ['ResourceAlreadyExistsException', `${resKind ? KIND_LABEL[resKind] : 'Resource'} ${name ?? ''} already exists`];
    case 'inUse':
      return ['ResourceInUseException', `${resKind ? KIND_LABEL[resKind] : 'Resource'} ${name ?? ''} is in use`];
    case 'internal':
      return ['InternalFailureException', 'An internal failure occurred'];
  }
}

function iotRecord(st: Stream, t: number): Built {
  const { rng, ctx, region } = st;
  const A = ctx.account;
  const p = ctx.population.iot.pick(rng);
  if (p.serviceEvent) return iotServiceEvent(st, t, p);
  const action = actionTable(p.profile).pick(rng);
  const site = p.site(rng);

  const resKind = pickKind(rng, action, action.resource === 'any' || action.resource === null ? null : action.resource);
  const err = chooseError(rng, action, p, resKind !== null);
  const missing = err === 'notFound';
  let name: string | null = null;
  if (resKind === 'detectorModel') name = rng.pick(missing ? MISSING_DETECTOR_MODELS : DETECTOR_MODELS);
  else if (resKind === 'input') name = rng.pick(missing ? MISSING_INPUTS : INPUTS);
  else if (resKind === 'alarmModel') name = rng.pick(missing ? MISSING_ALARM_MODELS : ALARM_MODELS);
  if (err === 'validation' && name) name = `${name} (copy)`;
  const arn = resKind && name ? iotArn(region, A, resKind, name) : null;

  const { params, response, extraResources } = iotPayload(st, action, t, name, arn);
  let resources: Json[] | undefined;
  if (resKind && arn && err !== 'validation') {
    resources = [{ accountId: A, type: RESOURCE_TYPE[resKind], ARN: arn }];
  }
  if (extraResources && err !== 'validation') resources = extraResources;

  let errorCode: string | undefined;
  let errorMsg: string | undefined;
  if (err) [errorCode, errorMsg] = errorMessage(err, action, p, arn, resKind, name);

  // Data-plane reads are sometimes recorded under the control-plane source (as in the AWS docs' examples).
  let source = action.eventSource;
  if (action.plane === 'data' && (action.name === 'DescribeDetector' || action.name === 'ListDetectors') && rng.chance(0.15)) {
    source = IOT_EVENTS_SOURCE;
  }
  const svc = source === IOT_EVENTS_SOURCE ? SVC.iotevents! : SVC.ioteventsdata!;
  const dataEvent = source === IOT_EVENTS_DATA_SOURCE;
  const json = record(st, {
    persona: p,
    site,
    t,
    svc,
    eventName: action.name,
    errorCode,
    errorMessage: errorMsg,
    requestParameters: params,
    responseElements: err ? null : response,
    readOnly: action.readOnly,
    resources,
    dataEvent,
  });
  return { json, iot: true };
}

function iotServiceEvent(st: Stream, t: number, p: Persona): Built {
  const { rng, ctx, region } = st;
  const input = rng.pick(INPUTS);
  const arn = iotArn(region, ctx.account, 'input', input);
  const rec: JsonObject = {
    eventVersion: '1.08',
    userIdentity: p.identity(t, p.site(rng)),
    eventTime: isoSeconds(t),
    eventSource: IOT_EVENTS_DATA_SOURCE,
    eventName: 'BatchPutMessage',
    awsRegion: region,
    sourceIPAddress: 'iot.amazonaws.com',
    userAgent: 'iot.amazonaws.com',
    requestParameters: null,
    responseElements: null,
    eventID: rng.uuid(),
    readOnly: false,
    resources: [{ accountId: ctx.account, type: RESOURCE_TYPE.input, ARN: arn }],
    eventType: 'AwsServiceEvent',
    managementEvent: false,
    recipientAccountId: ctx.account,
    sharedEventID: rng.uuid(),
    serviceEventDetails: { ruleName: `${input}_to_iotevents`, inputName: input, messageCount: rng.range(1, 10) },
    eventCategory: 'Data',
  };
  return { json: JSON.stringify(rec), iot: true };
}

function nextVersion(st: Stream, key: string): number {
  const v = (st.versions.get(key) ?? 1) + 1;
  st.versions.set(key, v);
  return v;
}

function messageId(rng: Rng): string {
  return rng.chars(ALNUM, 12);
}

function iotPayload(
  st: Stream,
  action: IotEventsAction,
  t: number,
  name: string | null,
  arn: string | null,
): { params: Json; response: Json; extraResources?: Json[] } {
  const { rng, ctx, region } = st;
  const A = ctx.account;
  const n = name ?? '';
  const roleArn = `arn:aws:iam::${A}:role/service-role/iotevents-actions-role`;
  const created = javaDate(t);
  const maxResults = rng.pick([10, 25, 50, 100, 250]);
  const keyValue = (): string => keyValueFor(rng, n);
  const batch = <T extends Json>(make: () => T): T[] => {
    const k = rng.chance(0.7) ? 1 : rng.range(2, 4);
    const out: T[] = [];
    for (let i = 0; i < k; i++) out.push(make());
    return out;
  };
  switch (action.name) {
    case 'CreateDetectorModel':
    case 'UpdateDetectorModel': {
      const create = action.name === 'CreateDetectorModel';
      const evaluationMethod = rng.chance(0.7) ? 'BATCH' : 'SERIAL';
      const description = `Detects ${n.replace(/-/g, ' ')} anomalies`;
      const version = create ? 1 : nextVersion(st, `dm:${n}`);
      return {
        params: {
          detectorModelName: n,
          detectorModelDefinition: HIDDEN,
          detectorModelDescription: description,
          key: create ? HIDDEN : undefined,
          roleArn,
          evaluationMethod,
        },
        response: {
          detectorModelConfiguration: {
            detectorModelName: n,
            detectorModelVersion: String(version),
            detectorModelDescription: description,
            detectorModelArn: arn,
            roleArn,
            creationTime: created,
            lastUpdateTime: created,
            status: 'ACTIVATING',
            key: HIDDEN,
            evaluationMethod,
          },
        },
      };
    }
    case 'DeleteDetectorModel':
      return { params: { detectorModelName: n }, response: null };
    case 'DescribeDetectorModel':
      return {
        params: { detectorModelName: n, detectorModelVersion: rng.chance(0.2) ? String(rng.range(1, 6)) : undefined },
        response: null,
      };
    case 'CreateInput':
    case 'UpdateInput': {
      const description = `Telemetry for ${n.replace(/_/g, ' ')}`;
      return {
        params: {
          inputName: n,
          inputDescription: description,
          inputDefinition: { attributes: [{ jsonPath: 'sensorData.value' }, { jsonPath: 'sensorData.deviceId' }] },
        },
        response: {
          inputConfiguration: {
            inputName: n,
            inputDescription: description,
            inputArn: arn,
            creationTime: created,
            lastUpdateTime: created,
            status: action.name === 'CreateInput' ? 'CREATING' : 'UPDATING',
          },
        },
      };
    }
    case 'DeleteInput':
    case 'DescribeInput':
      return { params: { inputName: n }, response: null };
    case 'CreateAlarmModel':
    case 'UpdateAlarmModel': {
      const create = action.name === 'CreateAlarmModel';
      const version = create ? 1 : nextVersion(st, `am:${n}`);
      return {
        params: {
          alarmModelName: n,
          alarmModelDescription: `Alarm for ${n.replace(/-/g, ' ')}`,
          roleArn,
          key: create ? HIDDEN : undefined,
          severity: rng.range(1, 5),
          alarmRule: {
            simpleRule: {
              inputProperty: `$input.${rng.pick(INPUTS)}.sensorData.value`,
              comparisonOperator: rng.pick(['GREATER', 'LESS', 'GREATER_OR_EQUAL']),
              threshold: String(rng.range(10, 120)),
            },
          },
          alarmCapabilities: { acknowledgeFlow: { enabled: true } },
        },
        response: {
          creationTime: created,
          alarmModelArn: arn,
          alarmModelVersion: String(version),
          lastUpdateTime: created,
          status: create ? 'ACTIVE' : 'ACTIVATING',
        },
      };
    }
    case 'DeleteAlarmModel':
      return { params: { alarmModelName: n }, response: null };
    case 'DescribeAlarmModel':
      return { params: { alarmModelName: n }, response: null };
    case 'ListDetectorModels':
    case 'ListAlarmModels':
    case 'ListInputs':
      return {
        params: { nextToken: rng.chance(0.15) ? rng.chars(ALNUM, 64) : undefined, maxResults },
        response: null,
      };
    case 'ListDetectorModelVersions':
      return { params: { detectorModelName: n, maxResults }, response: null };
    case 'ListAlarmModelVersions':
      return { params: { alarmModelName: n, maxResults }, response: null };
    case 'ListInputRoutings':
      return { params: { inputIdentifier: { iotEventsInputIdentifier: { inputName: n } }, maxResults }, response: null };
    case 'DescribeLoggingOptions':
      return { params: null, response: null };
    case 'PutLoggingOptions':
      return {
        params: {
          loggingOptions: {
            roleArn: `arn:aws:iam::${A}:role/iotevents-logging-role`,
            level: rng.pick(['ERROR', 'INFO', 'DEBUG']),
            enabled: rng.chance(0.8),
            detectorDebugOptions: rng.chance(0.3)
              ? [{ detectorModelName: rng.pick(DETECTOR_MODELS), keyValue: 'boiler-01' }]
              : undefined,
          },
        },
        response: null,
      };
    case 'StartDetectorModelAnalysis': {
      const analysisId = rng.uuid();
      st.analyses.push(analysisId);
      if (st.analyses.length > 5) st.analyses.shift();
      return { params: { detectorModelDefinition: HIDDEN }, response: { analysisId } };
    }
    case 'DescribeDetectorModelAnalysis':
      return { params: { analysisId: st.analyses.length ? rng.pick(st.analyses) : rng.uuid() }, response: null };
    case 'GetDetectorModelAnalysisResults':
      return {
        params: { analysisId: st.analyses.length ? rng.pick(st.analyses) : rng.uuid(), maxResults },
        response: null,
      };
    case 'ListTagsForResource':
      return { params: { resourceArn: arn }, response: null };
    case 'TagResource':
      return {
        params: {
          resourceArn: arn,
          tags: [
            { key: 'team', value: rng.pick(['plant-ops', 'facilities', 'reliability']) },
            { key: 'env', value: rng.pick(['prod', 'staging']) },
          ],
        },
        response: null,
      };
    case 'UntagResource':
      return { params: { resourceArn: arn, tagKeys: [rng.pick(['cost-center', 'owner', 'env'])] }, response: null };
    case 'BatchPutMessage': {
      const messages = batch(() => ({
        messageId: messageId(rng),
        inputName: rng.chance(0.85) ? n : rng.pick(INPUTS),
        payload: HIDDEN,
        timestamp: rng.chance(0.3) ? { timeInMillis: t * 1000 - rng.int(5000) } : undefined,
      }));
      const inputs = [...new Set(messages.map((m) => m.inputName))];
      return {
        params: { messages },
        response: { BatchPutMessageErrorEntries: [] },
        extraResources: inputs.map((i) => ({ accountId: A, type: RESOURCE_TYPE.input, ARN: iotArn(region, A, 'input', i) })),
      };
    }
    case 'BatchUpdateDetector':
      return {
        params: {
          detectors: batch(() => ({
            messageId: messageId(rng),
            detectorModelName: n,
            keyValue: keyValue(),
            state: { stateName: HIDDEN, variables: [{ name: 'threshold', value: HIDDEN }], timers: [] },
          })),
        },
        response: { batchUpdateDetectorErrorEntries: [] },
      };
    case 'BatchDeleteDetector':
      return {
        params: { detectors: batch(() => ({ messageId: messageId(rng), detectorModelName: n, keyValue: keyValue() })) },
        response: { batchDeleteDetectorErrorEntries: [] },
      };
    case 'BatchAcknowledgeAlarm':
    case 'BatchDisableAlarm':
    case 'BatchEnableAlarm':
    case 'BatchResetAlarm':
    case 'BatchSnoozeAlarm': {
      const field = {
        BatchAcknowledgeAlarm: 'acknowledgeActionRequests',
        BatchDisableAlarm: 'disableActionRequests',
        BatchEnableAlarm: 'enableActionRequests',
        BatchResetAlarm: 'resetActionRequests',
        BatchSnoozeAlarm: 'snoozeActionRequests',
      }[action.name];
      const snooze = action.name === 'BatchSnoozeAlarm';
      return {
        params: {
          [field]: batch(() => ({
            requestId: rng.uuid(),
            alarmModelName: n,
            keyValue: keyValue(),
            note: rng.chance(0.5) ? HIDDEN : undefined,
            snoozeDuration: snooze ? rng.pick([300, 900, 3600]) : undefined,
          })),
        },
        response: { errorEntries: [] },
      };
    }
    case 'DescribeAlarm':
      return { params: { alarmModelName: n, keyValue: keyValue() }, response: null };
    case 'DescribeDetector':
      return { params: { detectorModelName: n, keyValue: keyValue() }, response: null };
    case 'ListAlarms':
      return { params: { alarmModelName: n, maxResults }, response: null };
    case 'ListDetectors':
      return {
        params: { detectorModelName: n, stateName: rng.chance(0.4) ? HIDDEN : undefined, maxResults },
        response: null,
      };
    default:
      return { params: null, response: null };
  }
}

// ---------------------------------------------------------------------------------------------
// The record itself

interface RecordInput {
  persona: Persona;
  site: CallSite;
  t: number;
  svc: ServiceInfo;
  eventName: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters: Json;
  responseElements: Json;
  additionalEventData?: Json;
  /** Omit requestID (console sign-in, service events). */
  noRequestId?: boolean;
  s3RequestId?: boolean;
  readOnly: boolean;
  resources?: Json[];
  eventType?: string;
  dataEvent?: boolean;
  awsRegion?: string;
}

const TLS = [
  { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256' },
  { tlsVersion: 'TLSv1.2', cipherSuite: 'ECDHE-RSA-AES128-GCM-SHA256' },
];

function record(st: Stream, r: RecordInput): string {
  const { rng, ctx, region } = st;
  const p = r.persona;
  const site = r.site;
  const serviceCall = site.agent === 'service' || site.internal;
  const version = p.eventVersion ?? (rng.chance(0.3) ? '1.09' : '1.08');
  const host = r.svc.host(region);
  const ip = site.ip;
  const ua = site.internal ? 'AWS Internal' : userAgent(site.agent, r.svc, r.eventName, ip);
  const vpce = p.vpce && !serviceCall ? p.vpce : undefined;
  let tls: JsonObject | undefined;
  if (!serviceCall) {
    const tl = TLS[rng.int(2)]!;
    tls = { tlsVersion: tl.tlsVersion, cipherSuite: tl.cipherSuite, clientProvidedHostHeader: host };
  }
  const rec: JsonObject = {
    eventVersion: version,
    userIdentity: p.identity(r.t, site),
    eventTime: isoSeconds(r.t),
    eventSource: r.svc.source,
    eventName: r.eventName,
    awsRegion: r.awsRegion ?? region,
    sourceIPAddress: ip,
    userAgent: ua,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    requestParameters: r.requestParameters,
    responseElements: r.responseElements,
    additionalEventData: r.additionalEventData,
    requestID: r.noRequestId ? undefined : r.s3RequestId ? rng.chars(UPPER_ALNUM, 16) : rng.uuid(),
    eventID: rng.uuid(),
    readOnly: r.readOnly,
    resources: r.resources,
    eventType: r.eventType ?? 'AwsApiCall',
    managementEvent: !r.dataEvent,
    recipientAccountId: ctx.account,
    vpcEndpointId: vpce,
    vpcEndpointAccountId: vpce && version === '1.09' ? ctx.account : undefined,
    eventCategory: r.dataEvent ? 'Data' : 'Management',
    tlsDetails: tls,
    sessionCredentialFromConsole: p.console && (site.agent === 'console' || site.agent === 'browser') && !site.internal ? 'true' : undefined,
  };
  return JSON.stringify(rec);
}

// ---------------------------------------------------------------------------------------------
// Other services' events

interface OtherCtx {
  st: Stream;
  t: number;
  p: Persona;
  A: string;
  region: string;
  rng: Rng;
}

interface OtherSpec {
  params?: Json;
  response?: Json;
  resources?: Json[];
  additionalEventData?: Json;
  error?: [string, string];
}

interface OtherTemplate {
  svc: ServiceInfo;
  name: string;
  readOnly: boolean;
  weight: number;
  groups: readonly string[];
  build?: (c: OtherCtx) => OtherSpec;
  s3?: boolean;
  eventType?: string;
  noRequestId?: boolean;
}

const WORK = ['workload', 'human', 'lambda', 'ec2', 'deploy'];
const HUMAN = ['human', 'console'];

function bucketName(c: OtherCtx): string {
  return c.rng.pick([`plant-telemetry-archive-${c.A}`, `iotevents-artifacts-${c.A}-${c.region}`, `${c.st.ctx.bucket}`]);
}

function s3Extra(c: OtherCtx): Json {
  return {
    SignatureVersion: 'SigV4',
    CipherSuite: 'ECDHE-RSA-AES128-GCM-SHA256',
    bytesTransferredIn: 0,
    AuthenticationMethod: 'AuthHeader',
    'x-amz-id-2': `${c.rng.chars(ALNUM, 56)}=`,
    bytesTransferredOut: c.rng.range(80, 2000),
  };
}

function credentialsResponse(c: OtherCtx, roleName: string): Json {
  const sessionName = `session-${c.rng.hex(8)}`;
  return {
    credentials: {
      accessKeyId: `ASIA${c.rng.chars(KEY_CHARS, 16)}`,
      sessionToken: `IQoJb3JpZ2luX2VjE${c.rng.chars(ALNUM, 40)}`,
      expiration: javaDate(c.t + 3600),
    },
    assumedRoleUser: {
      assumedRoleId: `AROA${c.rng.chars(KEY_CHARS, 17)}:${sessionName}`,
      arn: `arn:aws:sts::${c.A}:assumed-role/${roleName}/${sessionName}`,
    },
  };
}

const OTHER: readonly OtherTemplate[] = [
  // EC2
  {
    svc: SVC.ec2!,
    name: 'DescribeInstances',
    readOnly: true,
    weight: 8,
    groups: WORK,
    build: (c) => ({
      params: c.rng.chance(0.5)
        ? { instancesSet: {}, filterSet: {} }
        : { instancesSet: { items: [{ instanceId: `i-0${c.rng.hex(16)}` }] }, filterSet: {} },
    }),
  },
  { svc: SVC.ec2!, name: 'DescribeSecurityGroups', readOnly: true, weight: 3, groups: WORK, build: () => ({ params: { securityGroupSet: {}, securityGroupIdSet: {}, filterSet: {} } }) },
  { svc: SVC.ec2!, name: 'DescribeVpcs', readOnly: true, weight: 2, groups: WORK, build: () => ({ params: { vpcSet: {}, filterSet: {} } }) },
  {
    svc: SVC.ec2!,
    name: 'DescribeNetworkInterfaces',
    readOnly: true,
    weight: 2,
    groups: ['lambda', 'ec2', 'svc-config'],
    build: () => ({ params: { networkInterfaceIdSet: {}, filterSet: {} } }),
  },
  { svc: SVC.ec2!, name: 'DescribeRegions', readOnly: true, weight: 1, groups: HUMAN, build: () => ({ params: { regionSet: {}, allRegions: false } }) },
  {
    svc: SVC.ec2!,
    name: 'DescribeInstanceStatus',
    readOnly: true,
    weight: 2,
    groups: ['ec2', 'human'],
    build: (c) => ({
      params: { instancesSet: {}, filterSet: {}, includeAllInstances: false },
      error: c.rng.chance(0.05)
        ? ['Client.UnauthorizedOperation', 'You are not authorized to perform this operation.']
        : undefined,
    }),
  },
  {
    svc: SVC.ec2!,
    name: 'SharedSnapshotVolumeCreated',
    readOnly: false,
    weight: 0.3,
    groups: ['notype'],
    eventType: 'AwsServiceEvent',
    noRequestId: true,
  },
  // S3 (management events)
  { svc: SVC.s3!, name: 'ListBuckets', readOnly: true, weight: 2, groups: HUMAN, s3: true, build: (c) => ({ params: { Host: 's3.amazonaws.com' }, additionalEventData: s3Extra(c) }) },
  ...(['GetBucketAcl', 'GetBucketLocation', 'GetBucketVersioning', 'GetBucketPolicy', 'ListAccessPoints'] as const).map(
    (name): OtherTemplate => ({
      svc: SVC.s3!,
      name,
      readOnly: true,
      weight: name === 'GetBucketAcl' ? 4 : name === 'ListAccessPoints' ? 0.5 : 1.5,
      groups: name === 'GetBucketAcl' ? ['svc-cloudtrail', 'svc-config', 'human'] : ['human', 'console', 'deploy', 'svc-config'],
      s3: true,
      build: (c) => {
        const bucket = bucketName(c);
        const host = `${bucket}.s3.${c.region}.amazonaws.com`;
        const params: JsonObject =
          name === 'ListAccessPoints'
            ? { bucket, Host: `${c.A}.s3-control.${c.region}.amazonaws.com`, maxResults: '1' }
            : { bucketName: bucket, Host: host, [name.slice(9).toLowerCase() || 'acl']: '' };
        return {
          params,
          additionalEventData: s3Extra(c),
          resources: [{ accountId: c.A, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }],
          error:
            name === 'GetBucketPolicy' && c.rng.chance(0.5) ? ['NoSuchBucketPolicy', 'The bucket policy does not exist'] : undefined,
        };
      },
    }),
  ),
  // STS
  {
    svc: SVC.sts!,
    name: 'AssumeRole',
    readOnly: true,
    weight: 6,
    groups: ['workload', 'human', 'deploy'],
    build: (c) => {
      const role = c.rng.pick(['IoTEventsIngestLambdaRole', 'Admin', 'plant-gateway-ec2-role', 'TerraformDeployRole']);
      const roleArn = `arn:aws:iam::${c.A}:role/${role}`;
      return {
        params: { roleArn, roleSessionName: `session-${c.rng.hex(8)}`, durationSeconds: 3600 },
        response: credentialsResponse(c, role),
        resources: [
          { accountId: c.A, type: 'AWS::IAM::Role', ARN: roleArn },
        ],
      };
    },
  },
  { svc: SVC.sts!, name: 'GetCallerIdentity', readOnly: true, weight: 4, groups: ['workload', 'human', 'deploy', 'cross'], build: () => ({ params: null }) },
  {
    svc: SVC.sts!,
    name: 'AssumeRoleWithWebIdentity',
    readOnly: true,
    weight: 1,
    groups: ['webid'],
    build: (c) => ({
      params: {
        roleArn: `arn:aws:iam::${c.A}:role/Cognito_PlantDashboardAuth_Role`,
        roleSessionName: 'CognitoIdentityCredentials',
        durationSeconds: 3600,
      },
      response: credentialsResponse(c, 'Cognito_PlantDashboardAuth_Role'),
    }),
  },
  {
    svc: SVC.sts!,
    name: 'AssumeRoleWithSAML',
    readOnly: true,
    weight: 0.8,
    groups: ['saml'],
    build: (c) => ({
      params: {
        roleArn: `arn:aws:iam::${c.A}:role/SAML-Operators`,
        principalArn: `arn:aws:iam::${c.A}:saml-provider/CorpIdP`,
        durationSeconds: 3600,
      },
      response: credentialsResponse(c, 'SAML-Operators'),
    }),
  },
  { svc: SVC.sts!, name: 'GetSessionToken', readOnly: true, weight: 0.3, groups: ['human'], build: () => ({ params: { durationSeconds: 43200, serialNumber: HIDDEN } }) },
  // IAM (global)
  ...(['GetRole', 'ListRoles', 'GetUser', 'ListAttachedRolePolicies', 'GetPolicyVersion', 'ListAccessKeys'] as const).map(
    (name): OtherTemplate => ({
      svc: SVC.iam!,
      name,
      readOnly: true,
      weight: name === 'GetRole' ? 2 : 0.8,
      groups: ['human', 'deploy', 'svc-config', 'console', 'idc'],
      build: (c) => ({
        params:
          name === 'GetRole' || name === 'ListAttachedRolePolicies'
            ? { roleName: c.rng.pick(['IoTEventsIngestLambdaRole', 'iotevents-actions-role', 'plant-gateway-ec2-role']) }
            : name === 'GetPolicyVersion'
              ? { policyArn: `arn:aws:iam::${c.A}:policy/IoTEventsOperators`, versionId: `v${c.rng.range(1, 5)}` }
              : name === 'ListRoles'
                ? { maxItems: 100 }
                : null,
      }),
    }),
  ),
  // KMS
  {
    svc: SVC.kms!,
    name: 'Decrypt',
    readOnly: true,
    weight: 6,
    groups: ['workload', 'lambda', 'ec2'],
    build: (c) => ({
      params: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { aws_lambda_FunctionName: 'iot-events-ingest' } },
      resources: [{ accountId: c.A, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${c.region}:${c.A}:key/${c.st.ctx.bucket.slice(-8)}-1d2e-4f3a-9b8c-${c.A}` }],
    }),
  },
  {
    svc: SVC.kms!,
    name: 'GenerateDataKey',
    readOnly: true,
    weight: 3,
    groups: ['workload', 'svc-cloudtrail'],
    build: (c) => ({
      params: { keyId: `arn:aws:kms:${c.region}:${c.A}:alias/aws/s3`, keySpec: 'AES_256', encryptionContext: { 'aws:s3:arn': `arn:aws:s3:::${bucketName(c)}` } },
      resources: [{ accountId: c.A, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${c.region}:${c.A}:key/${c.st.ctx.bucket.slice(-8)}-1d2e-4f3a-9b8c-${c.A}` }],
    }),
  },
  { svc: SVC.kms!, name: 'RotateKey', readOnly: false, weight: 0.1, groups: ['notype'], eventType: 'AwsServiceEvent', noRequestId: true },
  // CloudWatch
  {
    svc: SVC.monitoring!,
    name: 'GetMetricData',
    readOnly: true,
    weight: 3,
    groups: ['human', 'console', 'web', 'idc'],
    build: (c) => ({
      params: {
        metricDataQueries: [{ id: 'm1', metricStat: { metric: { namespace: 'AWS/IoTEvents', metricName: 'MessagesProcessed' }, period: 300, stat: 'Sum' } }],
        startTime: javaDate(c.t - 3 * 3600),
        endTime: javaDate(c.t),
      },
    }),
  },
  { svc: SVC.monitoring!, name: 'DescribeAlarms', readOnly: true, weight: 3, groups: ['human', 'console', 'svc-config', 'web'], build: () => ({ params: { maxRecords: 100 } }) },
  { svc: SVC.monitoring!, name: 'ListMetrics', readOnly: true, weight: 1, groups: HUMAN, build: () => ({ params: { namespace: 'AWS/IoTEvents' } }) },
  {
    svc: SVC.monitoring!,
    name: 'PutMetricAlarm',
    readOnly: false,
    weight: 0.3,
    groups: ['deploy'],
    build: () => ({ params: { alarmName: 'iotevents-input-errors', metricName: 'InputErrors', namespace: 'AWS/IoTEvents', threshold: 1.0, evaluationPeriods: 1, comparisonOperator: 'GreaterThanOrEqualToThreshold' } }),
  },
  // Lambda
  { svc: SVC.lambda!, name: 'ListFunctions20150331', readOnly: true, weight: 1, groups: HUMAN, build: () => ({ params: null }) },
  { svc: SVC.lambda!, name: 'GetFunction20150331v2', readOnly: true, weight: 1.5, groups: ['human', 'deploy', 'console'], build: () => ({ params: { functionName: 'iot-events-ingest' } }) },
  {
    svc: SVC.lambda!,
    name: 'GetFunctionConfiguration20150331v2',
    readOnly: true,
    weight: 1,
    groups: ['deploy', 'svc-config'],
    build: () => ({ params: { functionName: 'iot-events-ingest' } }),
  },
  // Logs
  {
    svc: SVC.logs!,
    name: 'CreateLogStream',
    readOnly: false,
    weight: 3,
    groups: ['lambda', 'slr'],
    build: (c) => ({ params: { logGroupName: '/aws/lambda/iot-events-ingest', logStreamName: `${isoSeconds(c.t).slice(0, 10).replace(/-/g, '/')}/[$LATEST]${c.rng.hex(32)}` } }),
  },
  { svc: SVC.logs!, name: 'DescribeLogGroups', readOnly: true, weight: 1.5, groups: ['human', 'console', 'svc-config'], build: () => ({ params: { limit: 50 } }) },
  {
    svc: SVC.logs!,
    name: 'DescribeLogStreams',
    readOnly: true,
    weight: 1.5,
    groups: ['human', 'console'],
    build: () => ({ params: { logGroupName: '/aws/iotevents/detectors', orderBy: 'LastEventTime', descending: true, limit: 50 } }),
  },
  {
    svc: SVC.logs!,
    name: 'FilterLogEvents',
    readOnly: true,
    weight: 0.5,
    groups: ['human'],
    build: (c) => ({ params: { logGroupName: '/aws/iotevents/detectors', startTime: (c.t - 3600) * 1000, limit: 100 } }),
  },
  // IoT Core
  { svc: SVC.iot!, name: 'DescribeEndpoint', readOnly: true, weight: 2, groups: ['workload', 'ec2', 'lambda'], build: () => ({ params: { endpointType: 'iot:Data-ATS' } }) },
  { svc: SVC.iot!, name: 'ListThings', readOnly: true, weight: 1.5, groups: ['human', 'console', 'web'], build: () => ({ params: { maxResults: 50 } }) },
  {
    svc: SVC.iot!,
    name: 'DescribeThing',
    readOnly: true,
    weight: 1.5,
    groups: ['workload', 'human'],
    build: (c) => ({ params: { thingName: keyValueFor(c.rng, c.rng.pick(DETECTOR_MODELS)) } }),
  },
  { svc: SVC.iot!, name: 'GetTopicRule', readOnly: true, weight: 0.5, groups: ['deploy', 'human'], build: () => ({ params: { ruleName: 'boiler_telemetry_to_iotevents' } }) },
  { svc: SVC.iot!, name: 'ListTopicRules', readOnly: true, weight: 0.5, groups: ['human', 'console'], build: () => ({ params: null }) },
  // SSM
  {
    svc: SVC.ssm!,
    name: 'UpdateInstanceInformation',
    readOnly: false,
    weight: 4,
    groups: ['ec2'],
    build: (c) => ({
      params: { instanceId: `i-0${c.rng.hex(16)}`, agentVersion: '3.2.1705.0', agentStatus: 'Active', platformType: 'Linux', platformName: 'Amazon Linux', platformVersion: '2023' },
    }),
  },
  { svc: SVC.ssm!, name: 'GetParameter', readOnly: true, weight: 2, groups: ['lambda', 'ec2', 'deploy'], build: () => ({ params: { name: '/plant/iotevents/config', withDecryption: true } }) },
  { svc: SVC.ssm!, name: 'ListInstanceAssociations', readOnly: true, weight: 2, groups: ['ec2'], build: (c) => ({ params: { instanceId: `i-0${c.rng.hex(16)}`, maxResults: 20 } }) },
  // Secrets Manager
  {
    svc: SVC.secretsmanager!,
    name: 'GetSecretValue',
    readOnly: true,
    weight: 2,
    groups: ['lambda', 'ec2'],
    build: (c) => ({ params: { secretId: `arn:aws:secretsmanager:${c.region}:${c.A}:secret:plant/gateway-${c.rng.chars(ALNUM, 6)}` } }),
  },
  // Console sign-in
  {
    svc: SVC.signin!,
    name: 'ConsoleLogin',
    readOnly: false,
    weight: 0.5,
    groups: ['console'],
    eventType: 'AwsConsoleSignIn',
    noRequestId: true,
    build: (c) => ({
      params: null,
      response: { ConsoleLogin: 'Success' },
      additionalEventData: { LoginTo: 'https://console.aws.amazon.com/console/home', MobileVersion: 'No', MFAUsed: c.rng.chance(0.7) ? 'Yes' : 'No' },
    }),
  },
  // CloudTrail
  { svc: SVC.cloudtrail!, name: 'LookupEvents', readOnly: true, weight: 0.5, groups: ['human', 'console', 'idc'], build: () => ({ params: { maxResults: 50, lookupAttributes: [{ attributeKey: 'EventSource', attributeValue: IOT_EVENTS_SOURCE }] } }) },
  { svc: SVC.cloudtrail!, name: 'DescribeTrails', readOnly: true, weight: 0.5, groups: ['human', 'svc-config'], build: () => ({ params: { includeShadowTrails: true } }) },
];

function otherTable(region: string): Weighted<OtherTemplate> {
  const w = new Weighted<OtherTemplate>();
  for (const t of OTHER) {
    // Global services' events are delivered with the us-east-1 events only.
    if (t.svc.global && region !== 'us-east-1') continue;
    w.add(t, t.weight);
  }
  return w;
}

function otherRecord(st: Stream, table: Weighted<OtherTemplate>, t: number): Built {
  const { rng, ctx, region } = st;
  const tpl = table.pick(rng);
  let chooser: Weighted<Persona> | undefined;
  const g = tpl.groups.length === 1 ? tpl.groups[0]! : rng.pick(tpl.groups);
  chooser = ctx.population.groups.get(g);
  if (!chooser) {
    for (const alt of tpl.groups) {
      chooser = ctx.population.groups.get(alt);
      if (chooser) break;
    }
  }
  const p = chooser ? chooser.pick(rng) : ctx.population.byKey.get('bob')!;
  if (tpl.eventType === 'AwsServiceEvent') {
    const rec: JsonObject = {
      eventVersion: '1.08',
      userIdentity: { accountId: ctx.account, invokedBy: tpl.svc.source },
      eventTime: isoSeconds(t),
      eventSource: tpl.svc.source,
      eventName: tpl.name,
      awsRegion: region,
      sourceIPAddress: tpl.svc.source,
      userAgent: tpl.svc.source,
      requestParameters: null,
      responseElements: null,
      eventID: rng.uuid(),
      readOnly: tpl.readOnly,
      resources:
        tpl.name === 'RotateKey'
          ? [{ accountId: ctx.account, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${region}:${ctx.account}:key/${rng.uuid()}` }]
          : undefined,
      eventType: 'AwsServiceEvent',
      managementEvent: true,
      recipientAccountId: ctx.account,
      sharedEventID: tpl.name === 'SharedSnapshotVolumeCreated' ? rng.uuid() : undefined,
      serviceEventDetails: tpl.name === 'SharedSnapshotVolumeCreated' ? { snapshotId: `snap-0${rng.hex(16)}` } : { keyRotated: true },
      eventCategory: 'Management',
    };
    return { json: JSON.stringify(rec), iot: false };
  }
  const site = p.site(rng);
  const c: OtherCtx = { st, t, p, A: ctx.account, region, rng };
  const spec = tpl.build ? tpl.build(c) : {};
  let error = spec.error;
  if (!error && rng.chance(0.01)) error = ['ThrottlingException', 'Rate exceeded'];
  const json = record(st, {
    persona: p,
    site,
    t,
    svc: tpl.svc,
    eventName: tpl.name,
    errorCode: error?.[0],
    errorMessage: error?.[1],
    requestParameters: spec.params ?? null,
    responseElements: error ? null : (spec.response ?? null),
    additionalEventData: spec.additionalEventData,
    noRequestId: tpl.noRequestId,
    s3RequestId: tpl.s3,
    readOnly: tpl.readOnly,
    resources: spec.resources,
    eventType: tpl.eventType,
    awsRegion: tpl.svc.global ? 'us-east-1' : undefined,
  });
  return { json, iot: false };
}

// ---------------------------------------------------------------------------------------------
// Time shape of the traffic

function hourlyShape(h: number): number {
  return 0.35 + 1.35 * Math.exp(-((h - 13) * (h - 13)) / (2 * 3.5 * 3.5));
}

/** Mean of hourlyShape over a day, so that activity() averages to 1 over a week. */
const HOURLY_MEAN = (() => {
  let sum = 0;
  for (let i = 0; i < 288; i++) sum += hourlyShape((i + 0.5) / 12);
  return sum / 288;
})();
const WEEKDAY = 1.12;
const WEEKEND = 0.55;
const WEEKLY_MEAN = (5 * WEEKDAY + 2 * WEEKEND) / 7;

/** Relative activity by UTC hour (busier in working hours) and weekday (quieter at weekends); mean 1. */
function activity(t: number): number {
  const d = new Date(t * 1000);
  const h = d.getUTCHours() + d.getUTCMinutes() / 60;
  const day = d.getUTCDay();
  return (hourlyShape(h) / HOURLY_MEAN) * ((day === 0 || day === 6 ? WEEKEND : WEEKDAY) / WEEKLY_MEAN);
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Seconds between delivered files of one account and region (CloudTrail delivers about every 5 minutes). */
const DEFAULT_SLOT = 300;
const DIGEST_HOURS = [6, 18];

interface Entry {
  t: number;
  json: string;
  iot: boolean;
}

interface FileInfo {
  key: string;
  hash: string;
  oldest: number;
  newest: number;
}

class Writer {
  private readonly dirs = new Set<string>();
  files = 0;
  records = 0;
  iotRecords = 0;
  digests = 0;
  insights = 0;
  duplicates = 0;

  private readonly inflight = new Set<Promise<void>>();
  private failure: Error | undefined;

  constructor(private readonly outDir: string) {}

  write(key: string, content: string): Buffer {
    const gz = zlib.gzipSync(Buffer.from(content, 'utf8'));
    // gzip header OS byte: fixed, so output does not depend on the platform.
    gz[9] = 3;
    const full = path.join(this.outDir, key);
    const dir = path.dirname(full);
    if (!this.dirs.has(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      this.dirs.add(dir);
    }
    // Writes overlap with generation; backpressure() bounds how many are in flight.
    const pending: Promise<void> = fs.promises.writeFile(full, gz).then(
      () => {
        this.inflight.delete(pending);
      },
      (e: unknown) => {
        this.inflight.delete(pending);
        this.failure ??= e instanceof Error ? e : new Error(String(e));
      },
    );
    this.inflight.add(pending);
    return gz;
  }

  /** Waits while too many writes are in flight; rethrows the first write error. */
  async backpressure(limit = 64): Promise<void> {
    while (this.inflight.size >= limit) await Promise.race(this.inflight);
    if (this.failure) throw this.failure;
  }

  async drain(): Promise<void> {
    await this.backpressure(1);
  }
}

function sha256(buf: Buffer): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

interface StreamPlan {
  ctx: AccountCtx;
  region: string;
  homeRegion: string;
  first: boolean;
}

async function generateStream(
  plan: StreamPlan,
  opts: { seed: number; startSec: number; endSec: number; iotPerSlot: number; otherPerSlot: number; slot: number },
  w: Writer,
  progress: () => void,
): Promise<void> {
  const SLOT = opts.slot;
  const { ctx, region } = plan;
  const { startSec, endSec } = opts;
  const rng = new Rng(`${opts.seed}|stream|${ctx.orgId ?? ''}|${ctx.account}|${region}`);
  const st: Stream = { rng, ctx, region, versions: new Map(), analyses: [] };
  const table = otherTable(region);
  const pending = new Map<number, Entry[]>();
  const digestFiles = new Map<number, FileInfo[]>();

  const push = (d: number, e: Entry): void => {
    let list = pending.get(d);
    if (!list) pending.set(d, (list = []));
    list.push(e);
  };

  const flush = (d: number): void => {
    const entries = pending.get(d);
    if (!entries) return;
    pending.delete(d);
    if (d > endSec) return;
    // Delivery order within a file is not strictly chronological.
    for (let i = 1; i < entries.length; i++) {
      if (rng.chance(0.1)) {
        const tmp = entries[i - 1]!;
        entries[i - 1] = entries[i]!;
        entries[i] = tmp;
      }
    }
    let nFiles = 1 + Math.floor(entries.length / 150);
    if (entries.length >= 2 && rng.chance(0.12)) nFiles++;
    const buckets: Entry[][] = Array.from({ length: nFiles }, () => []);
    for (const e of entries) buckets[nFiles === 1 ? 0 : rng.int(nFiles)]!.push(e);
    const time = new Date(d * 1000);
    const hour = time.getUTCHours();
    const digestHour = DIGEST_HOURS.find((h) => h === hour + 1);
    for (const bucket of buckets) {
      if (bucket.length === 0) continue;
      const key = deliveryKey({ account: ctx.account, region, orgId: ctx.orgId, time, unique: rng.chars(ALNUM, 16) });
      let content = '{"Records":[';
      let oldest = Infinity;
      let newest = -Infinity;
      for (let i = 0; i < bucket.length; i++) {
        const e = bucket[i]!;
        if (i) content += ',';
        content += e.json;
        if (e.t < oldest) oldest = e.t;
        if (e.t > newest) newest = e.t;
        if (e.iot) w.iotRecords++;
      }
      content += ']}';
      const gz = w.write(key, content);
      w.files++;
      w.records += bucket.length;
      if (digestHour !== undefined) {
        const h = Math.floor(d / 3600) * 3600 + 3600;
        let list = digestFiles.get(h);
        if (!list) digestFiles.set(h, (list = []));
        list.push({ key, hash: sha256(gz), oldest, newest });
      }
      progress();
    }
  };

  // The planted insight scenarios (first account, home region), delivered two minutes after each call.
  if (plan.first) {
    for (const c of scenarioCalls(ctx.account, region, startSec, endSec)) {
      const d = Math.ceil((c.t + 120) / SLOT) * SLOT;
      if (d <= endSec) push(d, { t: c.t, json: c.json, iot: true });
    }
  }

  const firstBlock = Math.floor(startSec / SLOT);
  const lastBlock = Math.ceil(endSec / SLOT);
  let yieldCounter = 0;
  for (let b = firstBlock; b < lastBlock; b++) {
    const from = Math.max(b * SLOT, startSec);
    const to = Math.min((b + 1) * SLOT, endSec);
    if (to > from) {
      const frac = (to - from) / SLOT;
      const act = activity(b * SLOT + SLOT / 2);
      const nIot = rng.poisson(opts.iotPerSlot * act * frac);
      const nOther = rng.poisson(opts.otherPerSlot * act * frac);
      const n = nIot + nOther;
      if (n > 0) {
        const times: number[] = [];
        for (let i = 0; i < n; i++) times.push(from + rng.int(to - from));
        times.sort((x, y) => x - y);
        let iotLeft = nIot;
        let left = n;
        for (const t of times) {
          const isIot = rng.next() * left < iotLeft;
          left--;
          if (isIot) iotLeft--;
          const built = isIot ? iotRecord(st, t) : otherRecord(st, table, t);
          // Delivery: usually 1-15 minutes after the event, rarely hours later.
          const lag = rng.chance(0.002) ? rng.range(3600, 6 * 3600) : rng.range(60, 900);
          const d = Math.ceil((t + lag) / SLOT) * SLOT;
          if (d > endSec) continue;
          const entry: Entry = { t, json: built.json, iot: built.iot };
          push(d, entry);
          if (rng.chance(0.001)) {
            const d2 = d + SLOT * rng.range(1, 3);
            if (d2 <= endSec) {
              push(d2, entry);
              w.duplicates++;
            }
          }
        }
      }
    }
    // Every event from here on is at or after (b+1)*SLOT and is delivered after it: that slot is complete.
    flush((b + 1) * SLOT);
    await w.backpressure();
    if (++yieldCounter % 64 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  for (const d of [...pending.keys()].sort((x, y) => x - y)) flush(d);

  writeDigests(plan, digestFiles, startSec, endSec, rng, w);
  if (plan.first) writeInsight(plan, startSec, endSec, rng, w, SLOT);
  await w.backpressure();
}

function writeDigests(plan: StreamPlan, files: Map<number, FileInfo[]>, startSec: number, endSec: number, rng: Rng, w: Writer): void {
  const { ctx, region } = plan;
  const fingerprint = rng.hex(32);
  let prev: { key: string; hash: string; signature: string } | null = null;
  const firstDay = Math.floor(startSec / 86400);
  const lastDay = Math.floor(endSec / 86400);
  for (let day = firstDay; day <= lastDay; day++) {
    for (const hour of DIGEST_HOURS) {
      const h = day * 86400 + hour * 3600;
      if (h - 3600 < startSec || h > endSec) continue;
      const stamp = h + 31;
      const time = new Date(stamp * 1000);
      const key = digestKey({ account: ctx.account, region, orgId: ctx.orgId, trailName: ctx.trailName, homeRegion: plan.homeRegion, time });
      const logFiles = files.get(h) ?? [];
      const oldest = logFiles.length ? Math.min(...logFiles.map((f) => f.oldest)) : null;
      const newest = logFiles.length ? Math.max(...logFiles.map((f) => f.newest)) : null;
      const digest: JsonObject = {
        awsAccountId: ctx.account,
        digestStartTime: isoSeconds(h - 3600 + 31),
        digestEndTime: isoSeconds(stamp),
        digestS3Bucket: ctx.bucket,
        digestS3Object: key,
        digestPublicKeyFingerprint: fingerprint,
        digestSignatureAlgorithm: 'SHA256withRSA',
        newestEventTime: newest === null ? null : isoSeconds(newest),
        oldestEventTime: oldest === null ? null : isoSeconds(oldest),
        previousDigestS3Bucket: prev ? ctx.bucket : null,
        previousDigestS3Object: prev ? prev.key : null,
        previousDigestHashValue: prev ? prev.hash : null,
        previousDigestHashAlgorithm: prev ? 'SHA-256' : null,
        previousDigestSignature: prev ? prev.signature : null,
        logFiles: logFiles.map((f) => ({
          s3Bucket: ctx.bucket,
          s3Object: f.key,
          hashValue: f.hash,
          hashAlgorithm: 'SHA-256',
          newestEventTime: isoSeconds(f.newest),
          oldestEventTime: isoSeconds(f.oldest),
        })),
      };
      const gz = w.write(key, JSON.stringify(digest));
      w.digests++;
      prev = { key, hash: sha256(gz), signature: rng.hex(128) };
    }
  }
}

/** One CloudTrail Insights file (an API call rate insight on BatchPutMessage): not API calls. */
function writeInsight(plan: StreamPlan, startSec: number, endSec: number, rng: Rng, w: Writer, SLOT: number): void {
  const { ctx, region } = plan;
  const mid = Math.floor((startSec + endSec) / 2 / SLOT) * SLOT;
  const startT = mid - 1800;
  if (startT < startSec || mid + SLOT > endSec) return;
  const shared = rng.uuid();
  const base = (state: 'Start' | 'End', t: number, extra: JsonObject): JsonObject => ({
    eventVersion: '1.08',
    eventTime: isoSeconds(t),
    awsRegion: region,
    eventID: rng.uuid(),
    eventType: 'AwsCloudTrailInsight',
    recipientAccountId: ctx.account,
    sharedEventID: shared,
    insightDetails: {
      state,
      eventSource: IOT_EVENTS_DATA_SOURCE,
      eventName: 'BatchPutMessage',
      insightType: 'ApiCallRateInsight',
      insightContext: extra,
    },
    eventCategory: 'Insight',
  });
  const stats = { baseline: { average: 0.2135 }, insight: { average: 4.5 } };
  const records = [
    base('Start', startT, { statistics: stats }),
    base('End', mid, {
      statistics: { ...stats, insightDuration: 30, baselineDuration: 10050 },
      attributions: [
        { attribute: 'userIdentityArn', insight: [{ value: `arn:aws:sts::${ctx.account}:assumed-role/IoTEventsIngestLambdaRole/iot-events-ingest`, average: 4.1 }], baseline: [] },
        { attribute: 'userAgent', insight: [{ value: 'iot.amazonaws.com', average: 0.4 }], baseline: [] },
        { attribute: 'errorCode', insight: [{ value: 'null', average: 4.5 }], baseline: [] },
      ],
    }),
  ];
  const key = insightKey({ account: ctx.account, region, orgId: ctx.orgId, time: new Date((mid + SLOT) * 1000), unique: rng.chars(ALNUM, 16) });
  w.write(key, JSON.stringify({ Records: records }));
  w.insights++;
}

/** Writes a sample trail under `options.outDir` (creating it) and says what it wrote. */
export async function generateSampleTrail(options: SampleTrailOptions): Promise<SampleTrailResult> {
  const days = options.days;
  if (!(days > 0) || !Number.isFinite(days)) throw new Error(`days must be a positive number, got ${days}`);
  const endMs = options.end.getTime();
  if (!Number.isFinite(endMs)) throw new Error('end must be a valid date');
  if (!Number.isInteger(options.seed)) throw new Error(`seed must be an integer, got ${options.seed}`);
  const accounts = options.accounts ?? [...SAMPLE_DEFAULT_ACCOUNTS];
  const org = options.orgAccount === undefined ? SAMPLE_DEFAULT_ORG : options.orgAccount;
  const regions = options.regions ?? [...SAMPLE_DEFAULT_REGIONS];
  const iotPerDay = options.iotEventsPerDay ?? SAMPLE_DEFAULT_IOT_EVENTS_PER_DAY;
  const otherPerIot = options.otherEventsPerIotEvent ?? SAMPLE_DEFAULT_OTHER_EVENTS_PER_IOT_EVENT;
  for (const a of [...accounts, ...(org ? [org.account] : [])]) {
    if (!ACCOUNT_ID.test(a)) throw new Error(`account must be 12 digits, got ${a}`);
  }
  if (org && !ORG_ID.test(org.orgId)) throw new Error(`orgId must look like o-xxxxxxxxxx, got ${org.orgId}`);
  for (const r of regions) if (!REGION.test(r)) throw new Error(`not a region: ${r}`);
  if (regions.length === 0) throw new Error('at least one region is needed');
  if (!(iotPerDay >= 0) || !(otherPerIot >= 0)) throw new Error('rates must be non-negative');
  const allAccounts = [...accounts, ...(org ? [org.account] : [])];
  if (new Set(allAccounts).size !== allAccounts.length) throw new Error('accounts must be distinct');

  const endSec = Math.floor(endMs / 1000);
  const startSec = endSec - Math.round(days * 86400);
  const homeRegion = regions[0]!;
  const ctxs: AccountCtx[] = accounts.map((a, i) => buildAccount(options.seed, a, i, allAccounts, undefined, homeRegion));
  if (org) ctxs.push(buildAccount(options.seed, org.account, accounts.length, allAccounts, org.orgId, homeRegion));

  fs.mkdirSync(options.outDir, { recursive: true });
  const w = new Writer(options.outDir);
  const SLOT = Math.round((options.deliveryMinutes ?? DEFAULT_SLOT / 60) * 60);
  if (!(SLOT >= 60 && SLOT <= 86400)) throw new Error('deliveryMinutes must be from 1 to 1440');
  const slotsPerStream = Math.ceil((endSec - startSec) / SLOT);
  const totalFiles = slotsPerStream * ctxs.length * regions.length;
  const progress = options.onProgress
    ? (): void => {
        if (w.files % 200 === 0) options.onProgress!({ files: w.files, records: w.records, totalFiles: Math.max(totalFiles, w.files) });
      }
    : (): void => {};

  let first = true;
  for (const ctx of ctxs) {
    for (const region of regions) {
      await generateStream(
        { ctx, region, homeRegion, first },
        {
          seed: options.seed,
          startSec,
          endSec,
          iotPerSlot: (iotPerDay * SLOT) / 86400,
          otherPerSlot: (iotPerDay * otherPerIot * SLOT) / 86400,
          slot: SLOT,
        },
        w,
        progress,
      );
      first = false;
    }
  }
  await w.drain();
  options.onProgress?.({ files: w.files, records: w.records, totalFiles: w.files });
  return {
    files: w.files,
    records: w.records,
    iotEventsRecords: w.iotRecords,
    duplicateRecords: w.duplicates,
    digestFiles: w.digests,
    insightFiles: w.insights,
    start: new Date(startSec * 1000),
    end: new Date(endSec * 1000),
  };
}
