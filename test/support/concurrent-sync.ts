/**
 * Two syncs writing the same slot files at once (test/history-concurrent.test.ts): each reads its
 * own event source from its own Event history (so each has its own sync state), and every round
 * adds records of this moment to it, so every round of either writes into the current slot's
 * file, which both share.
 */
import { EventHistoryConfig } from '../../src/config';
import { FakeEventHistory, eventOf, iotEventsRecord } from './event-history';
import { RawRecord } from './records';

export interface ConcurrentSyncOptions {
  /** Prefix of this sync's eventIDs. */
  readonly name: string;
  readonly source: string;
  /** Records added to the history before each round. */
  readonly perRound: number;
  /** Rounds at least. */
  readonly rounds: number;
  /** Rounds at most. */
  readonly maxRounds: number;
  readonly account: string;
  readonly region: string;
  readonly settings: EventHistoryConfig;
}

export const roundIds = (o: ConcurrentSyncOptions, round: number): string[] => Array.from({ length: o.perRound }, (_, k) => `${o.name}-${round}-${k}`);

/**
 * The records a history gains before a round, timed `now` to the millisecond: after the previous
 * run's end, so a run asks for them however little time passed (the overlap is 0).
 */
export function roundRecords(o: ConcurrentSyncOptions, round: number, now: Date): RawRecord[] {
  return roundIds(o, round).map((id) => ({ ...iotEventsRecord(id, now, o.account, o.region, o.source), eventTime: now.toISOString() }));
}

/** A sync's Event history, and its rounds: each adds that round's records to the history. */
export function concurrentSyncs(o: ConcurrentSyncOptions): { history: FakeEventHistory; rounds: () => Generator<() => void> } {
  const history = new FakeEventHistory();
  function* rounds(): Generator<() => void> {
    for (let r = 0; r < o.maxRounds; r++) yield () => history.add(roundRecords(o, r, new Date()).map(eventOf));
  }
  return { history, rounds };
}
