/** Accounts, resources and callers (personas) of the sample trail. */
import { Agent, JsonObject, isoSeconds } from './formats';
import { ALNUM, KEY_CHARS, Rng, Weighted, hex8 } from './random';

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

export function v6Group(rng: Rng): string {
  return (1 + rng.int(0xffff)).toString(16);
}

export function ipPools(rng: Rng): Pick<AccountCtx, 'publicV4' | 'awsV4' | 'publicV6' | 'privateIps'> {
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

export const EMPTY_ISSUER: JsonObject = {};

export function sessionContext(
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
export function buildAccount(
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
