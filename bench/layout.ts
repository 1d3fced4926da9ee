/** The layout of the trails the benchmarks generate: three regions, one account with a trail of its own and one through an organization trail. */
export const BENCH_LAYOUT = {
  seed: 1,
  regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'],
  accounts: ['111122223333'],
  orgAccount: { orgId: 'o-a1b2c3d4e5', account: '777788889999' },
};
