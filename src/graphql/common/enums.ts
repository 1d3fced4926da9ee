import { registerEnumType } from 'type-graphql';
import { CallerCategory, IdentityType } from '../../domain/identity';
import { SourceIpKind } from '../../domain/ip';
import { CallOutcome } from '../../query/filter';

registerEnumType(IdentityType, {
  name: 'IdentityType',
  description: 'CloudTrail `userIdentity.type`, classified. UNKNOWN when the record has no type or one not listed here.',
  valuesConfig: {
    ROOT: { description: 'Root: the account root user.' },
    IAM_USER: { description: 'IAMUser: an IAM user\'s long-term credentials.' },
    ASSUMED_ROLE: { description: 'AssumedRole: a role session (AssumeRole and its variants).' },
    ROLE: { description: 'Role: the type CloudTrail writes for some calls made with role credentials.' },
    FEDERATED_USER: { description: 'FederatedUser: a session from GetFederationToken.' },
    AWS_SERVICE: { description: 'AWSService: an AWS service acting with its own credentials.' },
    AWS_ACCOUNT: { description: 'AWSAccount: another AWS account.' },
    IDENTITY_CENTER_USER: { description: 'IdentityCenterUser: an IAM Identity Center user.' },
    DIRECTORY: { description: 'Directory: a directory service user.' },
    SAML_USER: { description: 'SAMLUser: a SAML-federated user.' },
    WEB_IDENTITY_USER: { description: 'WebIdentityUser: a web identity federated user.' },
    UNKNOWN: { description: 'No userIdentity.type, or one not listed here (rawType holds it).' },
  },
});

registerEnumType(CallerCategory, {
  name: 'CallerCategory',
  description: 'What kind of credentials made a call.',
  valuesConfig: {
    ROOT_OR_IAM_USER: { description: 'The account root user or an IAM user (userIdentity.type Root or IAMUser).' },
    ROLE_OR_FEDERATED_SESSION: {
      description: 'Temporary credentials of a role session or a federated user (AssumedRole, Role, FederatedUser, WebIdentityUser, SAMLUser).',
    },
    AWS_SERVICE: { description: 'Another AWS service (AWSService, or a record with no type but invokedBy).' },
    OTHER: { description: 'Anything else: AWSAccount, IdentityCenterUser, Directory, Unknown.' },
  },
});

registerEnumType(SourceIpKind, {
  name: 'SourceIpKind',
  description: 'What a sourceIPAddress value is.',
  valuesConfig: {
    PUBLIC_IPV4: { description: 'An IPv4 address in no special-purpose range.' },
    PUBLIC_IPV6: { description: 'An IPv6 address in no special-purpose range.' },
    PRIVATE: { description: 'A private address (RFC 1918, IPv6 unique local fc00::/7): usually through a VPC endpoint.' },
    SHARED: { description: 'Carrier-grade NAT shared space, 100.64.0.0/10 (RFC 6598).' },
    LOOPBACK: { description: '127.0.0.0/8 or ::1.' },
    LINK_LOCAL: { description: '169.254.0.0/16 or fe80::/10.' },
    MULTICAST: { description: '224.0.0.0/4 or ff00::/8.' },
    DOCUMENTATION: { description: 'A documentation range: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20.' },
    RESERVED: { description: 'Another special-purpose range (IANA registries, as ipaddr.js names them): 0.0.0.0/8, 240.0.0.0/4, benchmarking, IPv4-mapped, 6to4, Teredo, ...' },
    AWS_SERVICE: { description: 'An AWS service host name, e.g. iotevents.amazonaws.com: the service called on the caller\'s behalf.' },
    AWS_INTERNAL: { description: 'The literal "AWS Internal".' },
    OTHER: { description: 'Anything else CloudTrail wrote, or no address at all. Addresses count only in plain form: dotted IPv4 without leading zeros, hexadecimal IPv6 without a zone.' },
  },
});

registerEnumType(CallOutcome, {
  name: 'CallOutcome',
  description: 'Whether a call failed.',
  valuesConfig: {
    SUCCESS: { description: 'Calls without an errorCode.' },
    ERROR: { description: 'Calls with an errorCode.' },
    ANY: { description: 'Both.' },
  },
});

export { CallerCategory, CallOutcome, IdentityType, SourceIpKind };
