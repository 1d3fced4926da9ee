/** Options, result and defaults of the sample trail generator. */

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
