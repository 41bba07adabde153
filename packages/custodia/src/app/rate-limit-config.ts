/**
 * Rate limits as the operator writes them: `user=50/200` is 50 requests a second
 * sustained with bursts of 200 (access/rate-limiter.ts says who draws on which bucket).
 */
import { CustodiaError } from '../kernel/index.js';
import { DEFAULT_RATE_LIMITS, type RateLimit, type RateLimits } from '../access/index.js';

const KINDS = ['user', 'client', 'token', 'logout', 'authorize', 'unauthenticated'] as const;
type Kind = (typeof KINDS)[number];
/** Compiles only while KINDS names every bucket of RateLimits (the casts below rely on it). */
export type KindsCoverRateLimits = [Exclude<keyof RateLimits, 'maxKeys' | Kind>] extends [never] ? true : never;
const kindsCoverRateLimits: KindsCoverRateLimits = true;
void kindsCoverRateLimits;
/** `<kind>=<per second>/<burst>`: the whole spec, nothing else (operator text, hostile until it matches). */
const SPEC = new RegExp(`^(${KINDS.join('|')})=(\\d+(?:\\.\\d+)?)\\/(\\d+)$`);

export type RateLimitInput = Partial<Record<Kind, RateLimit>> & { readonly maxKeys?: number };

function invalid(message: string): never {
  throw new CustodiaError('config-invalid', message);
}

/** `--rate-limit` values (or CUSTODIA_RATE_LIMITS, comma-separated): `<kind>=<per second>/<burst>`, a kind of {@link KINDS}. */
export function parseRateLimitSpecs(specs: readonly string[]): RateLimitInput {
  const out: Partial<Record<Kind, RateLimit>> = {};
  for (const spec of specs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '')) {
    const m = SPEC.exec(spec);
    if (m === null) invalid(`rate limit ${JSON.stringify(spec.slice(0, 100))}: write <${KINDS.join('|')}>=<requests per second>/<burst>, e.g. user=50/200`);
    out[m[1] as Kind] = { perSecond: Number(m[2]), burst: Number(m[3]) };
  }
  return out;
}

/** The defaults with `input` over them, checked. */
export function resolveRateLimits(input: RateLimitInput = {}): RateLimits {
  const limits = { ...Object.fromEntries(KINDS.map((k) => [k, input[k] ?? DEFAULT_RATE_LIMITS[k]])), maxKeys: input.maxKeys ?? DEFAULT_RATE_LIMITS.maxKeys } as unknown as RateLimits;
  for (const kind of KINDS) {
    const { perSecond, burst } = limits[kind];
    if (!(perSecond > 0) || !Number.isFinite(perSecond)) invalid(`rate limit ${kind}: the rate must be a positive number of requests per second`);
    if (!Number.isSafeInteger(burst) || burst < 1) invalid(`rate limit ${kind}: the burst must be a whole number of at least 1`);
  }
  if (!Number.isSafeInteger(limits.maxKeys) || limits.maxKeys < 1) invalid('rate limits: maxKeys must be a positive whole number');
  return Object.freeze({ ...limits, ...Object.fromEntries(KINDS.map((k) => [k, Object.freeze({ ...limits[k] })])) });
}
