/**
 * GiveWay: a loop that awaits only resolved promises (as the synchronous SQLite store's
 * answers are) never lets I/O callbacks run; with GiveWay it lets them in once its slice
 * is spent, and not before.
 */
import { describe, expect, it } from 'vitest';
import { GiveWay } from '../../src/kernel/index.js';

/** Runs `steps` steps of about 0.1 ms of work each, awaiting `between` after each; whether a callback queued at the start ran before the loop ended. */
async function otherWorkRanDuring(steps: number, between: () => Promise<void>): Promise<boolean> {
  let ran = false;
  setImmediate(() => (ran = true));
  let ranDuring = false;
  for (let i = 0; i < steps; i++) {
    const until = performance.now() + 0.1;
    while (performance.now() < until) {
      // busy: the store's synchronous work
    }
    await between();
    if (ran) ranDuring = true;
  }
  return ranDuring;
}

describe('GiveWay', () => {
  it('lets waiting callbacks run once the slice is spent', async () => {
    // Awaiting a resolved promise alone (the store's answer) never lets the callback in.
    expect(await otherWorkRanDuring(100, async () => undefined)).toBe(false);
    const turns = new GiveWay(1);
    expect(await otherWorkRanDuring(100, () => turns.ifDue())).toBe(true);
  });

  it('does not give way within the slice', async () => {
    const turns = new GiveWay(60_000);
    expect(await otherWorkRanDuring(20, () => turns.ifDue())).toBe(false);
  });
});
