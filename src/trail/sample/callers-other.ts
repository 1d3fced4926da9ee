/**
 * Callers from outside the account's own IAM: AWS services on their own, another account,
 * web identity, SAML and Identity Center users, and the rare identity types CloudTrail writes.
 */
import { AwsServiceSpec, CallerKit, among, fixed } from './caller-kit';
import { ALNUM, KEY_CHARS } from './random';

export const AWS_SERVICES: readonly AwsServiceSpec[] = [
  { key: 'svc-iotevents', host: 'iotevents.amazonaws.com', profile: 'svc-iotevents', iotWeight: 2, groups: [], otherWeight: 0 },
  { key: 'svc-iot', host: 'iot.amazonaws.com', profile: 'svc-iot', iotWeight: 6, groups: [], otherWeight: 0 },
  { key: 'svc-cloudtrail', host: 'cloudtrail.amazonaws.com', profile: 'none', iotWeight: 0, groups: ['svc-cloudtrail'], otherWeight: 3 },
  { key: 'svc-config', host: 'config.amazonaws.com', profile: 'none', iotWeight: 0, groups: ['svc-config'], otherWeight: 1 },
];

export function awsServices(kit: CallerKit): void {
  for (const s of AWS_SERVICES) kit.awsService(s);
}

/** A user of another account (`userIdentity.type` AWSAccount), probing. */
export function crossAccount(kit: CallerKit): void {
  const { publicV4, awsV4 } = kit.pools;
  const { external } = kit;
  const principalId = `AIDA${kit.rng.chars(KEY_CHARS, 17)}`;
  kit.add({
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

/** Users an outside identity provider vouches for: web identity (Google), SAML, Identity Center. */
export function externalIdentities(kit: CallerKit): void {
  const { rng, account: A } = kit;
  const { publicV4, publicV6 } = kit.pools;
  const sub = String(100000000000000000000n + BigInt(rng.range(1, 1e9)) * 7919n);
  const app = `${rng.range(100000000000, 999999999999)}-${rng.chars('abcdefghijklmnopqrstuvwxyz0123456789', 32)}.apps.googleusercontent.com`;
  kit.add({
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
  kit.add({
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
  kit.add({
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

/** Identity types seldom seen: Unknown, a bare Role, and an AwsServiceEvent without a type. */
export function rareTypes(kit: CallerKit): void {
  const { rng, account: A } = kit;
  const { publicV4 } = kit.pools;
  const principalId = `AIDA${rng.chars(KEY_CHARS, 17)}`;
  kit.add({
    key: 'unknown',
    profile: 'probe',
    iotWeight: 0.4,
    otherWeight: 0.1,
    groups: ['cross'],
    errorFactor: 8,
    site: among([publicV4[7]!, publicV4[4]!], ['go-sdk']),
    identity: () => ({ type: 'Unknown', principalId, accountId: '999988887777', userName: 'scanner' }),
  });
  const roleId = kit.aroa();
  const roleArn = `arn:aws:iam::${A}:role/iotevents-config-reader`;
  kit.add({
    key: 'role',
    profile: 'readonly',
    iotWeight: 0.4,
    otherWeight: 0.1,
    groups: ['role'],
    site: fixed('AWS Internal', 'service'),
    identity: () => ({ type: 'Role', principalId: roleId, arn: roleArn, accountId: A, userName: 'iotevents-config-reader' }),
  });
  kit.add({
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
