/**
 * What every caller of one account is made from: the account's random stream, its address pools,
 * key and principal ids, credential sessions, and builders for the identity types that recur (IAM
 * users, assumed roles, AWS services). The order in which callers draw from the stream is part of
 * the sample: the same seed gives the same ids only when callers are built in the same order.
 */
import { Agent, JsonObject, isoSeconds } from './formats';
import type { AccountCtx, CallSite, Persona, Profile } from './personas';
import { KEY_CHARS, Rng } from './random';

export type AddressPools = Pick<AccountCtx, 'publicV4' | 'awsV4' | 'publicV6' | 'privateIps'>;
export type SiteFn = (rng: Rng) => CallSite;

export function v6Group(rng: Rng): string {
  return (1 + rng.int(0xffff)).toString(16);
}

export function ipPools(rng: Rng): AddressPools {
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

/** Always the same address and agent. */
export function fixed(ip: string, agent: Agent): SiteFn {
  const site: CallSite = { ip, agent, internal: false };
  return () => site;
}

/** One of `ips` with one of `agents`; a share of console calls AWS proxies (`AWS Internal`). */
export function among(ips: readonly string[], agents: readonly Agent[], internalShare = 0): SiteFn {
  return (r) => {
    if (internalShare > 0 && r.chance(internalShare)) return { ip: 'AWS Internal', agent: 'console', internal: true };
    return { ip: r.pick(ips), agent: r.pick(agents), internal: false };
  };
}

const DEFAULTS = {
  errorFactor: 1,
  deniedWrites: false,
  console: false,
  serviceEvent: false,
};

export type PersonaSpec = Omit<Persona, keyof typeof DEFAULTS> & Partial<typeof DEFAULTS>;

/** How much a caller calls and from where: the part every identity type shares. */
interface Activity {
  profile: Profile;
  iotWeight: number;
  otherWeight: number;
  groups: string[];
  site: SiteFn;
  errorFactor?: number;
  deniedWrites?: boolean;
}

export interface IamUserSpec extends Omit<Activity, 'site'> {
  /** The user name, also the caller's key. */
  userName: string;
  userPath: string;
  site: (pools: AddressPools) => SiteFn;
  creds: 'console' | 'long-term' | 'mfa-session';
}

export interface AssumedRoleSpec extends Activity {
  key: string;
  roleName: string;
  rolePath: string;
  sessionName: (t: number, s: number) => string;
  /** Length of a credential session in seconds. */
  period: number;
  mfa?: boolean;
  console?: boolean;
  invokedBy?: string;
  noAccessKey?: boolean;
  ec2?: boolean;
  webId?: JsonObject;
  vpce?: string;
}

export interface AwsServiceSpec {
  key: string;
  host: string;
  profile: Profile;
  iotWeight: number;
  groups: string[];
  otherWeight: number;
}

/** The callers of one account as they are built, with what they are built from. */
export class CallerKit {
  readonly rng: Rng;
  readonly pools: AddressPools;
  /** An account outside this one (another of the sample's accounts when there is one). */
  readonly external: string;
  readonly personas: Persona[] = [];
  private readonly token: string;

  constructor(
    readonly seed: number,
    readonly account: string,
    allAccounts: readonly string[],
    readonly homeRegion: string,
  ) {
    this.rng = new Rng(`${seed}|account|${account}`);
    this.pools = ipPools(this.rng);
    this.token = this.rng.chars(KEY_CHARS, 8);
    this.external = allAccounts.filter((a) => a !== account)[0] ?? '210987654321';
  }

  aida(): string {
    return `AIDA${this.token}${this.rng.chars(KEY_CHARS, 9)}`;
  }
  aroa(): string {
    return `AROA${this.token}${this.rng.chars(KEY_CHARS, 9)}`;
  }
  akia(): string {
    return `AKIA${this.token}${this.rng.chars(KEY_CHARS, 8)}`;
  }

  /** Temporary keys (ASIA...) that change with each session. */
  tempKeys(name: string): (session: number) => string {
    let last = -1;
    let key = '';
    return (session) => {
      if (session !== last) {
        last = session;
        const h = new Rng(`${this.seed}|${this.account}|${name}|${session}`);
        key = `ASIA${this.token}${h.chars(KEY_CHARS, 8)}`;
      }
      return key;
    };
  }

  /** Sessions of `period` seconds starting at a per-caller offset; gives [session index, creation time]. */
  sessionOf(period: number): (t: number) => [number, number] {
    const off = this.rng.int(period);
    return (t) => {
      const s = Math.floor((t - off) / period);
      return [s, s * period + off];
    };
  }

  add(p: PersonaSpec): void {
    this.personas.push({ ...DEFAULTS, ...p });
  }

  iamUser(u: IamUserSpec): void {
    const A = this.account;
    const { userName } = u;
    const principalId = this.aida();
    const arn = `arn:aws:iam::${A}:user${u.userPath}${userName}`;
    const longTerm = this.akia();
    const keys = this.tempKeys(userName);
    const sess = this.sessionOf(u.creds === 'console' ? 8 * 3600 : 12 * 3600);
    this.add({
      key: userName,
      profile: u.profile,
      iotWeight: u.iotWeight,
      otherWeight: u.otherWeight,
      groups: u.groups,
      console: u.creds === 'console',
      errorFactor: u.errorFactor ?? 1,
      deniedWrites: u.deniedWrites ?? false,
      messageArn: arn,
      site: u.site(this.pools),
      identity: (t, site) => {
        if (u.creds === 'long-term') {
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
  }

  assumedRole(r: AssumedRoleSpec): void {
    const A = this.account;
    const { roleName, sessionName } = r;
    const roleId = this.aroa();
    const roleArn = `arn:aws:iam::${A}:role${r.rolePath}${roleName}`;
    const keys = this.tempKeys(r.key);
    const sess = this.sessionOf(r.period);
    const issuer: JsonObject = { type: 'Role', principalId: roleId, arn: roleArn, accountId: A, userName: roleName };
    this.add({
      key: r.key,
      profile: r.profile,
      iotWeight: r.iotWeight,
      otherWeight: r.otherWeight,
      groups: r.groups,
      console: r.console ?? false,
      errorFactor: r.errorFactor ?? 1,
      deniedWrites: r.deniedWrites ?? false,
      vpce: r.vpce,
      messageArn: `arn:aws:sts::${A}:assumed-role/${roleName}/${sessionName(0, 0)}`,
      site: r.site,
      identity: (t, site) => {
        const [s, c] = sess(t);
        const name = sessionName(t, s);
        return {
          type: 'AssumedRole',
          principalId: `${roleId}:${name}`,
          arn: `arn:aws:sts::${A}:assumed-role/${roleName}/${name}`,
          accountId: A,
          accessKeyId: r.noAccessKey ? undefined : keys(s),
          sessionContext: sessionContext(issuer, c, r.mfa ?? false, {
            webIdFederationData: r.webId,
            ec2RoleDelivery: r.ec2 ? '2.0' : undefined,
          }),
          invokedBy: r.invokedBy ?? (site.internal ? 'AWS Internal' : undefined),
        };
      },
    });
  }

  /** An AWS service acting on its own (`userIdentity.type` AWSService). */
  awsService(s: AwsServiceSpec): void {
    this.add({
      key: s.key,
      profile: s.profile,
      iotWeight: s.iotWeight,
      otherWeight: s.otherWeight,
      groups: s.groups,
      site: fixed(s.host, 'service'),
      identity: () => ({ type: 'AWSService', invokedBy: s.host }),
    });
  }
}
