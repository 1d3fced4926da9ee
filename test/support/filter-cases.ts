/** Filter combinations every engine must answer alike (the end-to-end set). */
export const FILTER_CASES: Record<string, Record<string, unknown>> = {
  none: {},
  actions: { actions: ['CreateDetectorModel', 'DescribeAlarm', 'BatchPutMessage'] },
  eventSources: { eventSources: ['ioteventsdata.amazonaws.com'] },
  accounts: { accounts: ['111122223333'] },
  regions: { regions: ['eu-west-1'] },
  identityTypes: { identityTypes: ['ROOT', 'FEDERATED_USER', 'UNKNOWN'] },
  categoryLongTerm: { categories: ['ROOT_OR_IAM_USER'] },
  categorySession: { categories: ['ROLE_OR_FEDERATED_SESSION'] },
  categoryService: { categories: ['AWS_SERVICE'] },
  errorsOnly: { errorsOnly: true },
  successOnly: { errorsOnly: false },
  errorCodes: { errorCodes: ['AccessDeniedException', 'ResourceNotFoundException', 'ThrottlingException'] },
  readOnly: { readOnly: true },
  writes: { readOnly: false },
  cidrV4: { sourceCidrs: ['203.0.113.0/24', '10.0.0.0/8'] },
  cidrV6: { sourceCidrs: ['2001:db8::/32'] },
  cidrV6Narrow: { sourceCidrs: ['2600:1f18::/32'] },
  sourceIps: { sourceIps: ['AWS Internal', 'iotevents.amazonaws.com'] },
  userAgent: { userAgentContains: 'aws-cli' },
  resourceName: { resourceName: 'boiler-temp' },
  combined: { regions: ['us-east-1'], errorsOnly: true, categories: ['ROLE_OR_FEDERATED_SESSION'] },
};

/** Every grouped answer, every ordering and interval. */
export const GRAPH_QUERY = `query($filter: ApiCallFilter) {
  callers(filter: $filter, first: 15) { pageInfo { hasNextPage endCursor } nodes { key arn principal identityType rawType category temporaryCredentials
    mfaAuthenticated invokedBy accountId userName stats { calls errors firstSeen lastSeen distinctActions distinctSourceIps accessKeyIds } } }
  principals: callers(filter: $filter, first: 15, groupBy: PRINCIPAL, orderBy: ERRORS_DESC) { nodes { key stats { calls errors } } }
  sourceIps(filter: $filter, first: 15, orderBy: LAST_SEEN_DESC) { nodes { address kind stats { calls errors firstSeen lastSeen distinctActions distinctCallers } } }
  actions(filter: $filter) { action eventSource calls errors distinctCallers distinctSourceIps firstSeen lastSeen errorsByCode { code calls } }
  hourly: activity(filter: $filter, interval: HOUR, groupBy: IDENTITY_TYPE) { buckets { start key calls errors } }
  daily: activity(filter: $filter, interval: DAY, groupBy: SOURCE_IP) { buckets { start key calls errors } }
  weekly: activity(filter: $filter, interval: WEEK) { buckets { start key calls errors } }
}`;

