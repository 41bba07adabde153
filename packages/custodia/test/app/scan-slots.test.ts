/**
 * Long audit-trail scans (an accounting of disclosures) run one at a time per caller and
 * a few at a time in the process; one more is refused at once with `rate-limited` and a
 * Retry-After, and a slot is free again when its scan ends, whether it succeeded or failed.
 */
import { describe, expect, it } from 'vitest';
import { ScanSlots } from '../../src/app/scan-slots.js';
import { isCustodiaError } from '../../src/kernel/index.js';

/** A scan that runs until `finish` is called (or fails when `fail` is). */
function pending(): { scan: () => Promise<string>; finish: () => void; fail: () => void } {
  let finish!: () => void;
  let fail!: () => void;
  const done = new Promise<string>((resolve, reject) => {
    finish = () => resolve('done');
    fail = () => reject(new Error('scan failed'));
  });
  return { scan: () => done, finish, fail };
}

const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(isCustodiaError(e, 'rate-limited')).toBe(true);
  expect((e as { retryAfterMs?: number }).retryAfterMs).toBe(1000);
};

describe('ScanSlots', () => {
  it('runs one scan per caller, and at most `total` in all', async () => {
    const slots = new ScanSlots(2);
    const a = pending();
    const b = pending();
    const running = [slots.run('user:a', a.scan), slots.run('user:b', b.scan)];
    await refusal(slots.run('user:a', async () => 'again'));
    await refusal(slots.run('user:c', async () => 'third'));
    a.finish();
    expect(await running[0]).toBe('done');
    // a's slot is free: c gets it; a may not start a second while b and c run.
    const c = pending();
    const third = slots.run('user:c', c.scan);
    await refusal(slots.run('user:a', async () => 'again'));
    b.finish();
    c.finish();
    expect(await Promise.all([running[1], third])).toEqual(['done', 'done']);
    expect(await slots.run('user:a', async () => 'free')).toBe('free');
  });

  it('frees the slot of a scan that failed', async () => {
    const slots = new ScanSlots(1);
    const a = pending();
    const running = slots.run('user:a', a.scan);
    await refusal(slots.run('user:b', async () => 'b'));
    a.fail();
    await expect(running).rejects.toThrow('scan failed');
    expect(await slots.run('user:b', async () => 'b')).toBe('b');
  });
});
