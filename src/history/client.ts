/**
 * CloudTrail clients for the sync: the default credential chain, the SDK's own retry strategy
 * (throttling included; no second retry layer here), and a client-side rate limit per account and
 * region that every HTTP attempt, retries included, waits for.
 */
import Bottleneck from 'bottleneck';
import { CloudTrailClient, CloudTrailClientConfig } from '@aws-sdk/client-cloudtrail';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ACCOUNT_ID } from '../domain/aws';
import type { FinalizeHandler, FinalizeHandlerArguments, MetadataBearer } from '@smithy/types';

export interface ClientOptions {
  readonly maxAttempts: number;
  readonly requestsPerSecond: number;
  /** Extra client settings (tests: a request handler and static credentials). */
  readonly extra?: Partial<CloudTrailClientConfig>;
}

/** One limiter per key (account/region): at most `requestsPerSecond` request starts in any second. */
export class RateLimits {
  private readonly limiters = new Map<string, Bottleneck>();

  constructor(private readonly requestsPerSecond: number) {}

  limiter(key: string): Bottleneck {
    let l = this.limiters.get(key);
    if (!l) {
      // A few milliseconds over the exact spacing: timers fire late or early by a millisecond.
      l = new Bottleneck({ maxConcurrent: 1, minTime: Math.ceil(1000 / this.requestsPerSecond) + 5 });
      this.limiters.set(key, l);
    }
    return l;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.limiters.values()].map((l) => l.disconnect()));
  }
}

/**
 * A client for one region whose every attempt waits its turn at `limiter`. The wait sits inside
 * the SDK's retry middleware, so retried attempts are paced too.
 */
export function cloudTrailClient(region: string, limiter: Bottleneck, options: ClientOptions): CloudTrailClient {
  const client = new CloudTrailClient({ region, maxAttempts: options.maxAttempts, retryMode: 'standard', ...options.extra });
  client.middlewareStack.addRelativeTo(
    <Output extends MetadataBearer>(next: FinalizeHandler<object, Output>) => async (args: FinalizeHandlerArguments<object>) => {
      await limiter.schedule(() => Promise.resolve());
      return next(args);
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'trailqlRateLimit' },
  );
  return client;
}

/**
 * The account the credentials belong to (STS GetCallerIdentity, which needs no permission): the
 * one whose Event history LookupEvents reads, asked in `region` with the same settings. With it,
 * how far this host's clock is behind AWS's (ms; the SDK measures it from the answer's Date header
 * when the two differ by five minutes or more, else 0).
 */
export async function credentialsAccount(region: string, options: Pick<ClientOptions, 'maxAttempts' | 'extra'>, signal?: AbortSignal): Promise<{ account: string; clockOffsetMs: number }> {
  const { requestHandler, credentials } = options.extra ?? {};
  const sts = new STSClient({ region, maxAttempts: options.maxAttempts, retryMode: 'standard', ...(requestHandler ? { requestHandler } : {}), ...(credentials ? { credentials } : {}) });
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal });
    if (!out.Account || !ACCOUNT_ID.test(out.Account)) throw new Error(`STS GetCallerIdentity named no account (${JSON.stringify(out.Account ?? null)})`);
    return { account: out.Account, clockOffsetMs: sts.config.systemClockOffset ?? 0 };
  } finally {
    sts.destroy();
  }
}
