/**
 * Retention rules that override erasure (GDPR Art. 17(3)(b) and (c): a legal obligation
 * to keep medical records, and public health). A hospital configures the rules of its
 * jurisdiction in a JSON file (`--retention-policy FILE`, env CUSTODIA_RETENTION_POLICY):
 *
 *   { "jurisdiction": "DE",
 *     "rules": [ { "resourceTypes": ["*"], "years": 10, "basis": "§630f(3) BGB: ten years after treatment" } ] }
 *
 * A record is under retention until its last update plus the longest period of every rule
 * that names its type or `*`. Without a file nothing is retained and erasure is only
 * stopped by legal holds. docs/operations.md lists example rules; they are examples, not
 * legal advice.
 */
import { readFileSync } from 'node:fs';
import { CustodiaError } from '../kernel/index.js';

export interface RetentionRule {
  readonly resourceTypes: readonly string[];
  readonly years: number;
  /** The law or policy, quoted back in a refusal. */
  readonly basis: string;
}

export interface RetentionPolicy {
  readonly jurisdiction: string;
  readonly rules: readonly RetentionRule[];
}

export const NO_RETENTION: RetentionPolicy = Object.freeze({ jurisdiction: 'none', rules: [] });

const invalid = (why: string): CustodiaError => new CustodiaError('config-invalid', `The retention policy is invalid: ${why}`);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const TYPE = /^(\*|[A-Z][A-Za-z]{1,63})$/;

/** Parses a policy file (operator input: checked field by field). */
export function parseRetentionPolicy(text: string): RetentionPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalid('not JSON');
  }
  if (!isObject(doc) || typeof doc['jurisdiction'] !== 'string' || doc['jurisdiction'].length > 64 || !Array.isArray(doc['rules']) || doc['rules'].length > 1000) {
    throw invalid('it needs "jurisdiction" (text) and "rules" (a list)');
  }
  const rules = doc['rules'].map((r, i): RetentionRule => {
    if (!isObject(r)) throw invalid(`rule ${i} is not an object`);
    const types = r['resourceTypes'];
    if (!Array.isArray(types) || types.length === 0 || !types.every((t) => typeof t === 'string' && TYPE.test(t))) throw invalid(`rule ${i}: resourceTypes is a list of FHIR types or "*"`);
    const years = r['years'];
    if (typeof years !== 'number' || !Number.isInteger(years) || years < 1 || years > 200) throw invalid(`rule ${i}: years is a whole number from 1 to 200`);
    if (typeof r['basis'] !== 'string' || r['basis'].trim() === '' || r['basis'].length > 500) throw invalid(`rule ${i}: basis names the law or policy`);
    return Object.freeze({ resourceTypes: Object.freeze([...(types as string[])]), years, basis: r['basis'] });
  });
  return Object.freeze({ jurisdiction: doc['jurisdiction'], rules: Object.freeze(rules) });
}

export function loadRetentionPolicy(path: string): RetentionPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CustodiaError('config-invalid', `Cannot read the retention policy ${path}`, { cause: e });
  }
  return parseRetentionPolicy(text);
}

/** `at` plus whole calendar years, in UTC (29 February moves to 1 March in a common year, as Date does). */
function addYears(at: number, years: number): number {
  const d = new Date(at);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.getTime();
}

/** The rule that keeps a record of `type` last updated at `lastUpdated` longest, and until when; undefined if none applies. */
export function retainedUntil(policy: RetentionPolicy, type: string, lastUpdated: number): { until: number; rule: RetentionRule } | undefined {
  let best: { until: number; rule: RetentionRule } | undefined;
  for (const rule of policy.rules) {
    if (!rule.resourceTypes.includes('*') && !rule.resourceTypes.includes(type)) continue;
    const until = addYears(lastUpdated, rule.years);
    if (best === undefined || until > best.until) best = { until, rule };
  }
  return best;
}
