/** JSON values, CloudTrail time formats, services and user agents of the sample records. */
import { IOT_EVENTS_DATA_SOURCE, IOT_EVENTS_SOURCE } from '../../domain/iotevents-actions';

export type Json = string | number | boolean | null | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json | undefined;
}

export function isoSeconds(t: number): string {
  return new Date(t * 1000).toISOString().slice(0, 19) + 'Z';
}

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The `Jul 10, 2023, 12:55:24 PM` form some services use for times in responseElements. */
export function javaDate(t: number): string {
  const d = new Date(t * 1000);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  const ss = String(d.getUTCSeconds()).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h12}:${mm}:${ss} ${h < 12 ? 'AM' : 'PM'}`;
}

export function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

export interface ServiceInfo {
  /** eventSource */
  source: string;
  /** aws-cli command namespace */
  cli: string;
  /** SDK client id used in user agents */
  sdk: string;
  /** Endpoint host, for tlsDetails.clientProvidedHostHeader */
  host: (region: string) => string;
  /** Global service: events land in us-east-1. */
  global?: boolean;
}

export const SVC: Record<string, ServiceInfo> = {
  iotevents: { source: IOT_EVENTS_SOURCE, cli: 'iotevents', sdk: 'iot-events', host: (r) => `iotevents.${r}.amazonaws.com` },
  ioteventsdata: {
    source: IOT_EVENTS_DATA_SOURCE,
    cli: 'iotevents-data',
    sdk: 'iot-events-data',
    host: (r) => `data.iotevents.${r}.amazonaws.com`,
  },
  ec2: { source: 'ec2.amazonaws.com', cli: 'ec2', sdk: 'ec2', host: (r) => `ec2.${r}.amazonaws.com` },
  s3: { source: 's3.amazonaws.com', cli: 's3api', sdk: 's3', host: (r) => `s3.${r}.amazonaws.com` },
  sts: { source: 'sts.amazonaws.com', cli: 'sts', sdk: 'sts', host: (r) => `sts.${r}.amazonaws.com` },
  iam: { source: 'iam.amazonaws.com', cli: 'iam', sdk: 'iam', host: () => 'iam.amazonaws.com', global: true },
  kms: { source: 'kms.amazonaws.com', cli: 'kms', sdk: 'kms', host: (r) => `kms.${r}.amazonaws.com` },
  monitoring: {
    source: 'monitoring.amazonaws.com',
    cli: 'cloudwatch',
    sdk: 'cloudwatch',
    host: (r) => `monitoring.${r}.amazonaws.com`,
  },
  lambda: { source: 'lambda.amazonaws.com', cli: 'lambda', sdk: 'lambda', host: (r) => `lambda.${r}.amazonaws.com` },
  logs: { source: 'logs.amazonaws.com', cli: 'logs', sdk: 'cloudwatch-logs', host: (r) => `logs.${r}.amazonaws.com` },
  iot: { source: 'iot.amazonaws.com', cli: 'iot', sdk: 'iot', host: (r) => `iot.${r}.amazonaws.com` },
  ssm: { source: 'ssm.amazonaws.com', cli: 'ssm', sdk: 'ssm', host: (r) => `ssm.${r}.amazonaws.com` },
  secretsmanager: {
    source: 'secretsmanager.amazonaws.com',
    cli: 'secretsmanager',
    sdk: 'secrets-manager',
    host: (r) => `secretsmanager.${r}.amazonaws.com`,
  },
  signin: { source: 'signin.amazonaws.com', cli: 'signin', sdk: 'signin', host: () => 'signin.aws.amazon.com' },
  cloudtrail: {
    source: 'cloudtrail.amazonaws.com',
    cli: 'cloudtrail',
    sdk: 'cloudtrail',
    host: (r) => `cloudtrail.${r}.amazonaws.com`,
  },
};

export type Agent =
  | 'console'
  | 'browser'
  | 'cli-linux'
  | 'cli-mac'
  | 'cli-v1-win'
  | 'sdk-js'
  | 'sdk-js-lambda'
  | 'sdk-js-browser'
  | 'boto3'
  | 'terraform'
  | 'go-sdk'
  | 'service';

export function userAgent(agent: Agent, svc: ServiceInfo, eventName: string, serviceHost: string): string {
  switch (agent) {
    case 'console':
      return 'console.amazonaws.com';
    case 'browser':
      return 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36';
    case 'cli-linux':
      return `aws-cli/2.13.0 Python/3.11.4 Linux/5.15.0-1040-aws exe/x86_64.ubuntu.22 prompt/off command/${svc.cli}.${kebab(eventName)}`;
    case 'cli-mac':
      return `aws-cli/2.15.30 Python/3.11.8 Darwin/23.3.0 exe/x86_64 prompt/off command/${svc.cli}.${kebab(eventName)}`;
    case 'cli-v1-win':
      return 'aws-cli/1.29.12 Python/3.9.16 Windows/10 botocore/1.31.12';
    case 'sdk-js':
      return `aws-sdk-js/3.363.0 os/linux/5.10.186-179.751.amzn2.x86_64 lang/js md/nodejs/18.17.0 api/${svc.sdk}#3.363.0`;
    case 'sdk-js-lambda':
      return `aws-sdk-js/3.363.0 os/linux/5.10.184-194.730.amzn2.x86_64 lang/js md/nodejs/18.17.0 api/${svc.sdk}#3.363.0 exec-env/AWS_Lambda_nodejs18.x`;
    case 'sdk-js-browser':
      return `aws-sdk-js/3.363.0 ua/2.0 os/macOS#10.15.7 lang/js md/browser#Chrome_118.0.0.0 api/${svc.sdk}#3.363.0`;
    case 'boto3':
      return 'Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 os/linux#5.10.184-175.749.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.0';
    case 'terraform':
      return (
        'APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) terraform-provider-aws/5.17.0 ' +
        `(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.21.0 os/linux lang/go#1.20.8 md/GOOS#linux md/GOARCH#amd64 api/${svc.cli}#1.18.4`
      );
    case 'go-sdk':
      return 'aws-sdk-go/1.44.298 (go1.20.5; linux; amd64)';
    case 'service':
      return serviceHost;
  }
}
