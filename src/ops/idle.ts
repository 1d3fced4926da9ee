/** Callers waiting for some work in progress to drop to zero. */
export class IdleWaiters {
  private waiters: (() => void)[] = [];

  /** Resolves true at once when `idleNow`, else at the next wake(), or false after `timeoutMs`. */
  wait(idleNow: boolean, timeoutMs: number): Promise<boolean> {
    if (idleNow) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(wake);
    });
  }

  /** The work dropped to zero: releases every waiter. */
  wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
