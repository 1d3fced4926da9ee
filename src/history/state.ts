/**
 * How far a sync got, one small JSON file per account, region and event source under
 * `<trail folder>/.trailql-history/<account>/<region>/<source>.json`:
 *
 *   syncedTo     every event before this time (back to coveredFrom) is on disk
 *   coveredFrom  where that stretch begins
 *   walk         a walk in progress: [from, to) asked, everything in [doneDownTo, to) on disk
 *
 * The account is learnt from the records (recipientAccountId), so before the first record of a
 * region and source the state sits under `_pending` and moves to the account once known.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface SyncState {
  syncedTo: string | null;
  walk: { from: string; to: string; doneDownTo: string } | null;
  /**
   * Where the events on disk begin: the start of the first finished walk, or of the last one that
   * could not join the earlier ones (the sync stopped for longer than Event history keeps).
   * Absent in states written before it was kept.
   */
  coveredFrom?: string | null;
}

export const STATE_FOLDER = '.trailql-history';
const PENDING = '_pending';

/** The state file's name of a source: `*` (every source) is stored as `all-sources`. */
export function sourceFileName(source: string): string {
  return `${source === '*' ? 'all-sources' : source}.json`;
}

export class StateStore {
  constructor(private readonly trailDir: string) {}

  private file(account: string, region: string, source: string): string {
    return path.join(this.trailDir, STATE_FOLDER, account, region, sourceFileName(source));
  }

  /**
   * The state of a region and source: `account`'s when given, else the one account that has a
   * state for them (the credentials' account, which is all LookupEvents reads), else the pending
   * one, else a fresh state.
   */
  load(region: string, source: string, account?: string): { account: string; state: SyncState } {
    const root = path.join(this.trailDir, STATE_FOLDER);
    const candidates = account
      ? [account]
      : fs.existsSync(root)
        ? fs.readdirSync(root).filter((a) => a !== PENDING && fs.existsSync(this.file(a, region, source)))
        : [];
    for (const a of candidates.length === 1 ? candidates : [PENDING]) {
      const f = this.file(a, region, source);
      if (fs.existsSync(f)) return { account: a, state: JSON.parse(fs.readFileSync(f, 'utf8')) as SyncState };
    }
    return { account: candidates.length === 1 ? candidates[0] : PENDING, state: { syncedTo: null, walk: null } };
  }

  /** Writes atomically; a state learnt under `_pending` moves to its account. */
  save(account: string, region: string, source: string, state: SyncState, previousAccount?: string): void {
    const f = this.file(account, region, source);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    // Its own temporary name: a sync in another process may save the same state at the same time.
    const tmp = `${f}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(state, null, 2));
    fs.renameSync(tmp, f);
    if (previousAccount && previousAccount !== account) fs.rmSync(this.file(previousAccount, region, source), { force: true });
  }
}

export const isPending = (account: string) => account === PENDING;
