/** The answer floor (app/answer-floor.ts): which answers it holds, and until what, on a timer the test fires by hand. */
import { describe, expect, it } from 'vitest';
import { answerFloor, isHeldRefusal, type FloorTimer } from '../../src/app/index.js';
import { CustodiaError } from '../../src/kernel/index.js';

/** Timers that fire only when the test says so. */
function manualTimer(): FloorTimer & { armed: { ms: number; cancelled: boolean; fire: () => void }[]; fireAll: () => void } {
  const t = {
    armed: [] as { ms: number; cancelled: boolean; fire: () => void }[],
    after(ms: number, fire: () => void) {
      const timer = { ms, cancelled: false, fire };
      t.armed.push(timer);
      return () => void (timer.cancelled = true);
    },
    fireAll() {
      for (const a of t.armed) if (!a.cancelled) a.fire();
    },
  };
  return t;
}

/** Whether `p` has settled once pending callbacks have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('answer floor', () => {
  it('holds client errors but 429, and nothing else', () => {
    for (const code of ['resource-not-found', 'version-not-found', 'forbidden', 'unauthenticated', 'version-conflict', 'request-malformed'] as const) expect(isHeldRefusal(new CustodiaError(code, 'x')), code).toBe(true);
    for (const code of ['rate-limited', 'storage-unavailable', 'audit-unavailable'] as const) expect(isHeldRefusal(new CustodiaError(code, 'x')), code).toBe(false);
    expect(isHeldRefusal(new Error('a bug'))).toBe(false);
    expect(isHeldRefusal(undefined)).toBe(false);
  });

  it('arms one timer of the floor at arrival, and releases a held refusal only when it fires', async () => {
    const timer = manualTimer();
    const floor = answerFloor(25, timer);
    const armed = floor.start();
    expect(timer.armed.map((a) => a.ms)).toEqual([25]);
    const refusal = armed.refuse(new CustodiaError('resource-not-found', 'x'));
    expect(await settled(refusal)).toBe(false);
    timer.fireAll();
    expect(await settled(refusal)).toBe(true);
  });

  it('releases at once a refusal that comes after the timer fired', async () => {
    const timer = manualTimer();
    const armed = answerFloor(25, timer).start();
    timer.fireAll();
    expect(await settled(armed.refuse(new CustodiaError('forbidden', 'x')))).toBe(true);
  });

  it('drops the timer of an answer it does not hold, and arms none at floor 0', async () => {
    const timer = manualTimer();
    const floor = answerFloor(25, timer);
    floor.start().done();
    expect(await settled(floor.start().refuse(new CustodiaError('rate-limited', 'x')))).toBe(true);
    expect(await settled(floor.start().refuse(new Error('a bug')))).toBe(true);
    expect(timer.armed.map((a) => a.cancelled)).toEqual([true, true, true]);
    const off = manualTimer();
    expect(await settled(answerFloor(0, off).start().refuse(new CustodiaError('resource-not-found', 'x')))).toBe(true);
    expect(off.armed).toEqual([]);
  });
});
