/**
 * Callers with role sessions: people through a role or IAM Identity Center, Lambda and EC2
 * workloads, service-linked and service roles, and a Cognito identity pool. Ids some roles need
 * (SSO suffixes, the instance, the endpoint, the pool) are drawn where the sequence below draws
 * them: moving a draw changes every id after it.
 */
import { CallerKit, among, fixed } from './caller-kit';

/** A permission set's role in IAM Identity Center, used through the console by one person. */
function ssoRole(kit: CallerKit, key: string, permissionSet: string, suffix: string, person: string) {
  return {
    key,
    roleName: `AWSReservedSSO_${permissionSet}_${suffix}`,
    rolePath: `/aws-reserved/sso.amazonaws.com/${kit.homeRegion}/`,
    sessionName: () => person,
    groups: ['human', 'console'],
    period: 8 * 3600,
    console: true,
  };
}

export function assumedRoles(kit: CallerKit): void {
  const { rng, homeRegion } = kit;
  const { publicV4, publicV6, awsV4, privateIps } = kit.pools;

  const ssoSuffix = rng.hex(16);
  kit.assumedRole({
    key: 'admin-role',
    roleName: 'Admin',
    rolePath: '/',
    sessionName: () => 'dave.martin',
    profile: 'admin',
    iotWeight: 4,
    otherWeight: 2,
    groups: ['human'],
    site: among([publicV4[2]!, publicV4[5]!], ['cli-mac', 'cli-linux']),
    period: 3600,
    mfa: true,
  });
  kit.assumedRole({
    ...ssoRole(kit, 'sso-admin', 'AdministratorAccess', ssoSuffix, 'erin@example.com'),
    profile: 'admin',
    iotWeight: 6,
    otherWeight: 2,
    site: among([publicV4[5]!, publicV4[6]!, publicV6[2]!], ['console', 'browser'], 0.2),
  });
  kit.assumedRole({
    ...ssoRole(kit, 'sso-readonly', 'ReadOnlyAccess', rng.hex(16), 'frank@example.com'),
    profile: 'readonly',
    iotWeight: 5,
    otherWeight: 1.5,
    site: among([publicV4[6]!, publicV6[1]!], ['console', 'cli-linux'], 0.15),
    deniedWrites: true,
  });
  kit.assumedRole({
    key: 'ingest-lambda',
    roleName: 'IoTEventsIngestLambdaRole',
    rolePath: '/service-role/',
    sessionName: () => 'iot-events-ingest',
    profile: 'ingest',
    iotWeight: 20,
    otherWeight: 10,
    groups: ['workload', 'lambda'],
    site: among([awsV4[0]!, awsV4[1]!, awsV4[2]!], ['sdk-js-lambda']),
    period: 6 * 3600,
  });
  const instanceId = `i-0${rng.hex(16)}`;
  const vpce = `vpce-0${rng.hex(16)}`;
  kit.assumedRole({
    key: 'gateway-ec2',
    roleName: 'plant-gateway-ec2-role',
    rolePath: '/',
    sessionName: () => instanceId,
    profile: 'gateway',
    iotWeight: 10,
    otherWeight: 12,
    groups: ['workload', 'ec2'],
    site: among([privateIps[0]!, privateIps[1]!, privateIps[2]!], ['boto3']),
    period: 6 * 3600,
    ec2: true,
    vpce,
  });
  kit.assumedRole({
    key: 'iotevents-slr',
    roleName: 'AWSServiceRoleForIoTEvents',
    rolePath: '/aws-service-role/iotevents.amazonaws.com/',
    sessionName: () => 'IoTEvents',
    profile: 'svc-iotevents',
    iotWeight: 3,
    otherWeight: 2,
    groups: ['slr'],
    site: fixed('iotevents.amazonaws.com', 'service'),
    period: 3600,
    invokedBy: 'iotevents.amazonaws.com',
    noAccessKey: true,
  });
  kit.assumedRole({
    key: 'iot-rule-role',
    roleName: 'iot-rule-to-iotevents-role',
    rolePath: '/service-role/',
    sessionName: (_t, s) => `iot-rule-${(s >>> 0).toString(16)}`,
    profile: 'svc-iot',
    iotWeight: 15,
    otherWeight: 0,
    groups: [],
    site: fixed('iot.amazonaws.com', 'service'),
    period: 3600,
    invokedBy: 'iot.amazonaws.com',
  });
  const poolId = `${homeRegion}:${rng.uuid()}`;
  kit.assumedRole({
    key: 'cognito-dashboard',
    roleName: 'Cognito_PlantDashboardAuth_Role',
    rolePath: '/',
    sessionName: () => 'CognitoIdentityCredentials',
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
}
