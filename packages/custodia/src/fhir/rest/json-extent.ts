/**
 * How much JSON a value holds, measured without trusting it: the patch formats use these
 * walks to bound what a hostile patch may make the server do with a stored resource
 * before doing it. Both are iterative, so a deep value never recurses, and both stop as
 * soon as the answer is known.
 */

/** Every object, array and primitive in `value`, itself included, counted up to `limit` + 1 (no further). */
export function countNodes(value: unknown, limit: number): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && n <= limit) {
    const v = stack.pop();
    n++;
    if (typeof v === 'object' && v !== null) for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push(child);
  }
  return n;
}

/** Whether `value` nests arrays and objects deeper than `max`. */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
