/**
 * A bounded window of numbers kept sorted, for robust statistics over the last n
 * samples: the median, the median absolute deviation from it (MAD) and the mean absolute
 * deviation. Insertion and removal are a binary search and one `copyWithin` (a memmove),
 * O(n); the median is O(1) and the MAD O(log n): the deviations of the values below and
 * above the median are two sorted sequences, so their k-th smallest is found by binary
 * search on how many come from each (the classic selection of the k-th element of the
 * union of two sorted arrays).
 *
 * Memory grows with use, up to the capacity: the array starts at {@link INITIAL_SLOTS}
 * values and doubles when full. Baselines are made for whatever device address a message
 * names (attacker-influenced), and most of a flood of invented addresses send a message
 * or two: allocating the whole window up front would give them the memory of real devices.
 */

/** Values a window holds before it first grows. */
export const INITIAL_SLOTS = 16;

export class SortedWindow {
  readonly capacity: number;
  #values: Float64Array;
  #n = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
    this.capacity = capacity;
    this.#values = new Float64Array(Math.min(capacity, INITIAL_SLOTS));
  }

  /** Values the window has room for now (it grows up to {@link capacity}). */
  get allocated(): number {
    return this.#values.length;
  }

  get size(): number {
    return this.#n;
  }

  /** The first index whose value is ≥ v (all values are finite). */
  #lowerBound(v: number): number {
    let lo = 0;
    let hi = this.#n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#values[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Fills an empty window with `values` (finite, at most capacity): one sort instead of an insert each. */
  fill(values: Float64Array): void {
    if (this.#n !== 0) throw new RangeError('only an empty window can be filled');
    if (values.length > this.capacity) throw new RangeError('more values than the window holds');
    let size = this.#values.length;
    while (size < values.length) size = Math.min(this.capacity, 2 * size);
    this.#values = new Float64Array(size);
    this.#values.set(values);
    this.#values.subarray(0, values.length).sort();
    this.#n = values.length;
  }

  /** Adds a finite value; the caller keeps the count within capacity. */
  insert(v: number): void {
    if (this.#n === this.#values.length) {
      if (this.#n === this.capacity) throw new RangeError('the window is full');
      const grown = new Float64Array(Math.min(this.capacity, 2 * this.#n));
      grown.set(this.#values);
      this.#values = grown;
    }
    const at = this.#lowerBound(v);
    this.#values.copyWithin(at + 1, at, this.#n);
    this.#values[at] = v;
    this.#n += 1;
  }

  /** Removes one occurrence of `v`, which must be in the window. */
  remove(v: number): void {
    const at = this.#lowerBound(v);
    if (at >= this.#n || this.#values[at] !== v) throw new RangeError('the value is not in the window');
    this.#values.copyWithin(at, at + 1, this.#n);
    this.#n -= 1;
  }

  /**
   * The median (the mean of the two middle values when the count is even).
   *
   * @example
   *   // window 1, 2, 9, 10 → 5.5
   */
  median(): number {
    const n = this.#n;
    if (n === 0) return Number.NaN;
    const v = this.#values;
    return n % 2 === 1 ? v[(n - 1) / 2]! : (v[n / 2 - 1]! + v[n / 2]!) / 2;
  }

  /** The k-th smallest (0-based) of |x − m| over the window, m its median. */
  #kthDeviation(k: number, m: number): number {
    const v = this.#values;
    const p = this.#lowerBound(m); // values below m: v[0, p), deviations m − v[p−1−a] ascending in a
    const nA = p;
    const nB = this.#n - p; // values ≥ m: deviations v[p+b] − m ascending in b
    const a = (i: number): number => m - v[p - 1 - i]!;
    const b = (j: number): number => v[p + j]! - m;
    // Take i from A and k+1−i from B: the least i for which A's next is not below B's last.
    let lo = Math.max(0, k + 1 - nB);
    let hi = Math.min(k + 1, nA);
    while (lo < hi) {
      const i = (lo + hi) >>> 1;
      if (a(i) < b(k - i)) lo = i + 1;
      else hi = i;
    }
    const j = k + 1 - lo;
    return Math.max(lo > 0 ? a(lo - 1) : -Infinity, j > 0 ? b(j - 1) : -Infinity);
  }

  /**
   * The median absolute deviation from the median, unscaled (multiply by 1.4826 for a
   * consistent estimate of σ under normality).
   *
   * @example
   *   // window 1, 2, 3, 4, 100 → median 3, deviations 0 1 1 2 97 → MAD 1
   */
  mad(): number {
    const n = this.#n;
    if (n === 0) return Number.NaN;
    const m = this.median();
    return n % 2 === 1 ? this.#kthDeviation((n - 1) / 2, m) : (this.#kthDeviation(n / 2 - 1, m) + this.#kthDeviation(n / 2, m)) / 2;
  }

  /** The mean of |x − median| over the window, O(n). */
  meanAbsoluteDeviation(): number {
    const n = this.#n;
    if (n === 0) return Number.NaN;
    const m = this.median();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.abs(this.#values[i]! - m);
    return sum / n;
  }
}
