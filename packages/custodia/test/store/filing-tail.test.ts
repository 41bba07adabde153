/**
 * The audit writer thread's chain heads over the tail of filings and audit_patients
 * (store/filing-tail.ts): caught up from the tail at each transaction, kept across its own
 * commits and merges, started again after a merge by another connection, a failed
 * transaction, or past its capacity; and always what the store says (property).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FilingTail } from '../../src/store/filing-tail.js';

/** A model of the two tables: the tail (index order) and the merged rows, and the merge mark. */
class ModelStore {
  tail: [string, number][] = [];
  merged = new Map<string, number>();
  through = -1;
  next = 0;
  head(name: string): number | null {
    for (let i = this.tail.length - 1; i >= 0; i--) if (this.tail[i]![0] === name) return this.tail[i]![1];
    return this.merged.get(name) ?? null;
  }
  append(names: readonly string[]): [string, number, number][] {
    const rows = names.map((n): [string, number, number] => [n, this.next++, 0]);
    for (const [n, i] of rows) this.tail.push([n, i]);
    return rows;
  }
  merge(): number {
    for (const [n, i] of this.tail) this.merged.set(n, Math.max(i, this.merged.get(n) ?? -1));
    this.tail = [];
    this.through = this.next - 1;
    return this.through;
  }
  after(idx: number): [string, number][] {
    return this.tail.filter(([, i]) => i > idx);
  }
}

/** One transaction of the thread: catch up, then read heads (counting lookups of the merged table). */
function begin(t: FilingTail, s: ModelStore): void {
  t.observe(s.after(t.readFrom(s.through)));
}

describe('filing tail', () => {
  it('reads the tail once, looks a name up in audit_patients once, and then answers from memory', () => {
    const s = new ModelStore();
    s.append(['b:a']);
    s.merge();
    s.append(['b:b']);
    const t = new FilingTail();
    let lookups = 0;
    begin(t, s);
    const merged = (name: string) => (): unknown => (lookups++, s.merged.get(name) ?? null);
    expect(t.head('b:a', merged('b:a'))).toBe(0);
    expect(t.head('b:b', merged('b:b'))).toBe(1);
    expect(t.head('b:none', merged('b:none'))).toBeNull();
    expect(lookups).toBe(2);
    t.committed(s.append(['b:a', 'b:none']));
    begin(t, s);
    expect(t.head('b:a', merged('b:a'))).toBe(2);
    expect(t.head('b:none', merged('b:none'))).toBe(3);
    expect(lookups).toBe(2);
  });

  it('sees what another connection appended to the tail, and starts again when another connection merged it', () => {
    const s = new ModelStore();
    const t = new FilingTail();
    begin(t, s);
    t.committed(s.append(['b:a']));
    s.append(['b:a']); // the vault's writer
    begin(t, s);
    expect(t.head('b:a', () => -99)).toBe(1);
    s.append(['b:a']);
    s.merge(); // by the other connection: row 2 went to audit_patients unseen
    begin(t, s);
    expect(t.head('b:a', () => s.merged.get('b:a') ?? null)).toBe(2);
  });

  it('keeps what it knows across its own merge, and trusts nothing after a failed transaction', () => {
    const s = new ModelStore();
    const t = new FilingTail();
    begin(t, s);
    const rows = s.append(['b:a']);
    t.committed(rows, s.merge());
    begin(t, s);
    expect(t.head('b:a', () => -99)).toBe(0);
    t.forget();
    begin(t, s);
    expect(t.head('b:a', () => 7)).toBe(7);
  });

  it('agrees with the store, whatever appends and merges come from where (property)', () => {
    const names = fc.array(fc.constantFrom('b:a', 'b:b', 'b:c', 'b:d', 'b:e'), { minLength: 1, maxLength: 4 });
    const step = fc.oneof(
      fc.record({ by: fc.constant('thread' as const), names, merge: fc.boolean() }),
      fc.record({ by: fc.constant('other' as const), names, merge: fc.boolean() }),
      fc.record({ by: fc.constant('failed' as const), names, merge: fc.constant(false) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 50 }), fc.integer({ min: 1, max: 4 }), (steps, capacity) => {
        const s = new ModelStore();
        const t = new FilingTail(capacity);
        for (const st of steps) {
          if (st.by === 'other') {
            s.append(st.names);
            if (st.merge) s.merge();
            continue;
          }
          begin(t, s);
          for (const n of st.names) expect(t.head(n, () => s.merged.get(n) ?? null)).toBe(s.head(n));
          if (st.by === 'failed') {
            t.forget();
            continue;
          }
          const rows = s.append(st.names);
          t.committed(rows, st.merge ? s.merge() : undefined);
        }
      }),
    );
  });

  it('starts again from the tail once it knows more names than its capacity', () => {
    const s = new ModelStore();
    s.append(['a', 'b', 'c', 'd']);
    s.merge();
    s.append(['e']);
    const t = new FilingTail(3);
    begin(t, s);
    for (const n of ['a', 'b', 'c', 'd']) t.head(n, () => s.merged.get(n) ?? null);
    expect(t.size).toBe(5);
    begin(t, s);
    expect(t.size).toBe(1);
    expect(t.head('e', () => -99)).toBe(4);
  });
});
