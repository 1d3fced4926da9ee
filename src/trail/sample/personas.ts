/** Accounts, resources and callers (personas) of the sample trail. */
import { CallerKit } from './caller-kit';
import { assumedRoles } from './callers-roles';
import { awsServices, crossAccount, externalIdentities, rareTypes } from './callers-other';
import { federatedUser, iamUsers, rootCallers } from './callers-users';
import { Agent, JsonObject } from './formats';
import { Rng, Weighted, hex8 } from './random';

export const DETECTOR_MODELS: readonly string[] = ['boiler-temp', 'pump-pressure', 'hvac-zone-3', 'conveyor-vibration', 'freezer-door'];
export const INPUTS: readonly string[] = ['boiler_telemetry', 'pump_readings', 'hvac_sensors', 'conveyor_accel', 'freezer_door_events'];
export const ALARM_MODELS: readonly string[] = ['boiler-overheat', 'pump-low-pressure', 'freezer-temp-high'];
export const MISSING_DETECTOR_MODELS: readonly string[] = ['boiler-temp-v0', 'myDetectorModel', 'test-model'];
export const MISSING_INPUTS: readonly string[] = ['NoSuchInput', 'pump_readings_old'];
export const MISSING_ALARM_MODELS: readonly string[] = ['pump-high-pressure', 'legacy-alarm'];
export const KEY_PREFIX: Record<string, string> = {
  'boiler-temp': 'boiler',
  'pump-pressure': 'pump',
  'hvac-zone-3': 'ahu',
  'conveyor-vibration': 'conveyor',
  'freezer-door': 'freezer',
  'boiler-overheat': 'boiler',
  'pump-low-pressure': 'pump',
  'freezer-temp-high': 'freezer',
};

export interface CallSite {
  ip: string;
  agent: Agent;
  /** Console call proxied by AWS: sourceIPAddress and userAgent `AWS Internal`. */
  internal: boolean;
}

export type Profile = 'admin' | 'readonly' | 'ingest' | 'gateway' | 'operator' | 'deploy' | 'svc-iotevents' | 'svc-iot' | 'probe' | 'none';

export interface Persona {
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

export interface Population {
  personas: Persona[];
  byKey: Map<string, Persona>;
  iot: Weighted<Persona>;
  /** Per group: callers of other services' events. */
  groups: Map<string, Weighted<Persona>>;
}

export interface AccountCtx {
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

/** The weighted choices of callers: of IoT Events calls, and per group of other services' events. */
function population(personas: Persona[]): Population {
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
  return { personas, byKey, iot, groups };
}

/**
 * The callers of one account: a fixed population, so the same principals, keys and addresses recur.
 * Families are built in this order, each drawing its ids from the account's stream in turn.
 */
export function buildAccount(
  seed: number,
  account: string,
  index: number,
  allAccounts: readonly string[],
  orgId: string | undefined,
  homeRegion: string,
): AccountCtx {
  const kit = new CallerKit(seed, account, allAccounts, homeRegion);
  rootCallers(kit, index % 2 === 0);
  const broker = iamUsers(kit);
  assumedRoles(kit);
  federatedUser(kit, broker);
  awsServices(kit);
  crossAccount(kit);
  externalIdentities(kit);
  rareTypes(kit);

  const bucketBase = orgId ? `aws-cloudtrail-logs-${orgId}` : `aws-cloudtrail-logs-${account}`;
  return {
    account,
    orgId,
    bucket: `${bucketBase}-${hex8(kit.rng.u32())}`,
    trailName: orgId ? 'org-trail' : 'management-events',
    population: population(kit.personas),
    ...kit.pools,
  };
}
