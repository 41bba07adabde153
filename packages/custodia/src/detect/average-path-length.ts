/**
 * Liu, Ting, Zhou, "Isolation Forest", ICDM 2008, §2 eq. (1): the average path length of
 * an unsuccessful search in a binary search tree of n points,
 *
 *     c(n) = 2·H(n − 1) − 2(n − 1)/n,   c(1) = c(0) = 0,
 *
 * used to normalise path lengths (the score) and to credit an external node that still
 * holds n > 1 points with the depth of the subtree that was not grown.
 *
 * The paper estimates the harmonic number H(i) by ln(i) + γ (γ = 0.5772156649). That
 * estimate is poor for small i — it gives c(2) ≈ 0.15 where the definition gives exactly
 * 1, which is why scikit-learn special-cases n = 2 — and small n is exactly where the
 * external-node adjustment is used. We compute H(i) itself: by summation for i ≤ 64 and,
 * above, by the asymptotic series ln i + γ + 1/(2i) − 1/(12i²) + 1/(120i⁴), whose error is
 * below 1/(252·i⁶) < 10⁻¹³. It differs from the paper's estimate by less than 1/(2i).
 */

/** Euler–Mascheroni constant γ. */
export const EULER_GAMMA = 0.5772156649015329;

const SUMMED = 64;

/**
 * The harmonic number H(i) = 1 + 1/2 + … + 1/i (H(0) = 0).
 *
 * @example
 *   harmonic(1); // 1
 *   harmonic(3); // 1.8333…
 */
export function harmonic(i: number): number {
  if (i <= SUMMED) {
    let h = 0;
    for (let k = 1; k <= i; k++) h += 1 / k;
    return h;
  }
  const i2 = i * i;
  return Math.log(i) + EULER_GAMMA + 1 / (2 * i) - 1 / (12 * i2) + 1 / (120 * i2 * i2);
}

/**
 * c(n): the expected path length of an unsuccessful BST search among n points.
 *
 * @example
 *   averagePathLength(2);   // 1
 *   averagePathLength(256); // 10.2487…
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  return 2 * harmonic(n - 1) - (2 * (n - 1)) / n;
}
