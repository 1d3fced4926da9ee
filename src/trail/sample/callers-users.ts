/** The account's own people and programs with long-lived identities: root, IAM users, a federated user. */
import { CallerKit, EMPTY_ISSUER, IamUserSpec, among, sessionContext } from './caller-kit';
import { JsonObject } from './formats';

/** The root user, in the console and (rarely, from one office) with an access key. */
export function rootCallers(kit: CallerKit, mfa: boolean): void {
  const A = kit.account;
  const { publicV4, publicV6 } = kit.pools;
  const rootArn = `arn:aws:iam::${A}:root`;
  const sess = kit.sessionOf(3 * 3600);
  const keys = kit.tempKeys('root-console');
  kit.add({
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
  const rootKey = kit.akia();
  kit.add({
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

export const IAM_USERS: readonly IamUserSpec[] = [
  {
    userName: 'alice',
    userPath: '/',
    profile: 'admin',
    iotWeight: 4,
    otherWeight: 2,
    groups: ['human', 'console'],
    site: (p) => among([p.publicV4[0]!, p.publicV4[1]!, p.publicV6[0]!], ['console', 'console', 'browser'], 0.25),
    creds: 'console',
  },
  {
    userName: 'bob',
    userPath: '/',
    profile: 'admin',
    iotWeight: 3,
    otherWeight: 1.5,
    groups: ['human'],
    site: (p) => among([p.publicV4[1]!, p.publicV6[1]!], ['cli-linux']),
    creds: 'long-term',
  },
  {
    userName: 'carol',
    userPath: '/',
    profile: 'readonly',
    iotWeight: 2,
    otherWeight: 1,
    groups: ['human'],
    site: (p) => among([p.publicV6[0]!, p.publicV4[2]!], ['cli-mac']),
    creds: 'mfa-session',
  },
  {
    userName: 'svc-iot-gateway',
    userPath: '/service/',
    profile: 'gateway',
    iotWeight: 6,
    otherWeight: 1,
    groups: ['workload'],
    site: (p) => among([p.publicV4[3]!, p.privateIps[3]!], ['boto3']),
    creds: 'long-term',
  },
  {
    userName: 'ci-deployer',
    userPath: '/automation/',
    profile: 'deploy',
    iotWeight: 4,
    otherWeight: 3,
    groups: ['workload', 'deploy'],
    site: (p) => among([p.awsV4[1]!, p.awsV4[3]!], ['terraform']),
    creds: 'long-term',
  },
  {
    userName: 'temp-contractor',
    userPath: '/',
    profile: 'probe',
    iotWeight: 1,
    otherWeight: 0.4,
    groups: ['human'],
    site: (p) => among([p.publicV4[7]!, p.publicV6[3]!], ['cli-linux', 'go-sdk']),
    creds: 'long-term',
    errorFactor: 5,
    deniedWrites: true,
  },
];

/** The IAM user that issues federated sessions (GetFederationToken); it makes no calls itself. */
export interface Broker {
  principalId: string;
  arn: string;
}

/** The IAM users of IAM_USERS, then the federation broker's id. */
export function iamUsers(kit: CallerKit): Broker {
  for (const u of IAM_USERS) kit.iamUser(u);
  return { principalId: kit.aida(), arn: `arn:aws:iam::${kit.account}:user/federation-broker` };
}

/** A federated user whose sessions the broker issues. */
export function federatedUser(kit: CallerKit, broker: Broker): void {
  const A = kit.account;
  const { publicV4, publicV6 } = kit.pools;
  const keys = kit.tempKeys('federated');
  const sess = kit.sessionOf(12 * 3600);
  const issuer: JsonObject = { type: 'IAMUser', principalId: broker.principalId, arn: broker.arn, accountId: A, userName: 'federation-broker' };
  kit.add({
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
