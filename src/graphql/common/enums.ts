import { registerEnumType } from 'type-graphql';
import { CallerCategory, IdentityType } from '../../domain/identity';
import { SourceIpKind } from '../../domain/ip';

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
    PUBLIC_IPV4: { description: 'A public IPv4 address.' },
    PUBLIC_IPV6: { description: 'A public IPv6 address.' },
    PRIVATE: { description: 'A private, loopback, link-local or shared address (RFC 1918, RFC 6598, fc00::/7, ...): usually a VPC endpoint.' },
    AWS_SERVICE: { description: 'An AWS service host name, e.g. iotevents.amazonaws.com: the service called on the caller\'s behalf.' },
    AWS_INTERNAL: { description: 'The literal "AWS Internal".' },
    OTHER: { description: 'Anything else CloudTrail wrote.' },
  },
});

export { CallerCategory, IdentityType, SourceIpKind };
