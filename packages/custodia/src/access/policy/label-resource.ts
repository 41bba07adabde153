/**
 * Automatic security labelling (R4 security-labels.html, "Security Labels" applied by the
 * server): a resource's labels are its explicit `meta.security` plus the sensitivity labels
 * that its coded content triggers ({@link ./sensitivity-value-sets.ts}), plus confidentiality
 * R (restricted) whenever it carries any sensitivity label. Labels are only ever added:
 * explicit labels are kept as written (their system normalised, see {@link normalizeSystem}).
 *
 * Runs on every write, so it walks the parsed JSON once, iteratively, with table look-ups only.
 */
import { ACT_CODE_SYSTEM, ICD10CM_SYSTEM, ICD10_SYSTEM, LOINC_SYSTEM, RXNORM_SYSTEM, SNOMED_SYSTEM, normalizeSystem } from './code-systems.js';
import {
  SENSITIVITY_LABELS,
  compareLabels,
  confidentialityLabel,
  confidentialityRank,
  labelKey,
  sensitivityLabel,
  type SecurityLabel,
  type SensitivityCategory,
} from './security-labels.js';
import {
  CIEL_CONCEPTS,
  ICD10_RULES,
  LOINC_CONCEPTS,
  RXNORM_CONCEPTS,
  SENSITIVE_RESOURCE_TYPES,
  SNOMED_CONCEPTS,
  type SensitiveConcept,
} from './sensitivity-value-sets.js';

const CATEGORIES = Object.keys(SENSITIVITY_LABELS) as SensitivityCategory[];
const BIT = new Map<SensitivityCategory, number>(CATEGORIES.map((c, i) => [c, 1 << i]));

function maskOf(categories: readonly SensitivityCategory[]): number {
  let m = 0;
  for (const c of categories) m |= BIT.get(c)!;
  return m;
}

function conceptTable(concepts: readonly SensitiveConcept[]): Map<string, number> {
  const t = new Map<string, number>();
  for (const c of concepts) t.set(c.code, (t.get(c.code) ?? 0) | maskOf(c.categories));
  return t;
}

/** ICD-10 prefix (no dot, upper case) → categories; ranges expanded to their three-character categories. */
function icdTable(): Map<string, number> {
  const t = new Map<string, number>();
  const add = (prefix: string, mask: number): void => void t.set(prefix, (t.get(prefix) ?? 0) | mask);
  for (const rule of ICD10_RULES) {
    const mask = maskOf(rule.categories);
    if (rule.to === undefined) {
      add(rule.from, mask);
      continue;
    }
    const letter = rule.from[0]!;
    const first = Number(rule.from.slice(1));
    const last = Number(rule.to.slice(1));
    for (let n = first; n <= last; n++) {
      const category = `${letter}${String(n).padStart(2, '0')}`;
      if (!rule.except?.includes(category)) add(category, mask);
    }
  }
  return t;
}

const SNOMED = conceptTable(SNOMED_CONCEPTS);
const LOINC = conceptTable(LOINC_CONCEPTS);
const RXNORM = conceptTable(RXNORM_CONCEPTS);
const CIEL = conceptTable(CIEL_CONCEPTS);
const ICD = icdTable();
const TYPES = new Map([...SENSITIVE_RESOURCE_TYPES].map(([type, categories]) => [type, maskOf(categories)]));

const EXACT = new Map<string, Map<string, number>>([
  [SNOMED_SYSTEM, SNOMED],
  [LOINC_SYSTEM, LOINC],
  [RXNORM_SYSTEM, RXNORM],
]);

function icdMask(code: string): number {
  const c = code.replace(/[.\s]/g, '').toUpperCase();
  let mask = 0;
  for (let k = 3; k <= c.length && k <= 7; k++) mask |= ICD.get(c.slice(0, k)) ?? 0;
  return mask;
}

/** `<digits>AAA…` padded to 36 characters: an OpenMRS concept UUID for a CIEL concept. */
const CIEL_UUID = /^([1-9][0-9]{0,34})A+$/;

function cielMask(code: string): number {
  if (code.length !== 36 || code.charCodeAt(35) !== 65) return 0;
  const m = CIEL_UUID.exec(code);
  return m === null ? 0 : (CIEL.get(m[1]!) ?? 0);
}

/**
 * Categories triggered by one Coding. Unknown systems trigger nothing.
 *
 * @example
 *   codingCategories('http://hl7.org/fhir/sid/icd-10-cm', 'A54.9') // ['SEX', 'STD']
 */
export function codingCategories(system: string, code: string): SensitivityCategory[] {
  return categoriesOf(codingMask(system, code));
}

function codingMask(system: string, code: string): number {
  let mask = cielMask(code);
  const exact = EXACT.get(system);
  if (exact !== undefined) mask |= exact.get(code) ?? 0;
  else if (system === ICD10_SYSTEM || system === ICD10CM_SYSTEM) mask |= icdMask(code);
  return mask;
}

function categoriesOf(mask: number): SensitivityCategory[] {
  return CATEGORIES.filter((c) => (mask & BIT.get(c)!) !== 0);
}

/**
 * The sensitivity categories found in a resource's content: every object with a string
 * `system` and `code` (Coding, and Quantity, which never matches), in any element, extensions
 * and contained resources included, plus the always-sensitive resource types. `meta` is not
 * content and is skipped. Never throws; anything that is not JSON object/array is ignored.
 *
 * @example
 *   sensitivityCategories({ resourceType: 'MolecularSequence', coordinateSystem: 0 }) // ['GDIS']
 */
export function sensitivityCategories(resource: unknown): SensitivityCategory[] {
  return categoriesOf(contentMask(resource));
}

function contentMask(resource: unknown): number {
  let mask = 0;
  const stack: unknown[] = [resource];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (typeof v === 'object' && v !== null) stack.push(v);
      }
      continue;
    }
    const o = node as Record<string, unknown>;
    const code = o['code'];
    if (typeof code === 'string') {
      const system = o['system'];
      if (typeof system === 'string') mask |= codingMask(system, code);
    }
    const rt = o['resourceType'];
    if (typeof rt === 'string') mask |= TYPES.get(rt) ?? 0;
    for (const key in o) {
      if (key === 'meta') continue;
      const v = o[key];
      if (typeof v === 'object' && v !== null) stack.push(v);
    }
  }
  return mask;
}

function explicitLabels(resource: unknown): SecurityLabel[] {
  if (typeof resource !== 'object' || resource === null) return [];
  const meta = (resource as { meta?: unknown }).meta;
  if (typeof meta !== 'object' || meta === null) return [];
  const security = (meta as { security?: unknown }).security;
  if (!Array.isArray(security)) return [];
  const out: SecurityLabel[] = [];
  for (const c of security as unknown[]) {
    if (typeof c !== 'object' || c === null) continue;
    const { system, code, display } = c as { system?: unknown; code?: unknown; display?: unknown };
    if (typeof code !== 'string' || code === '') continue;
    const s = typeof system === 'string' ? normalizeSystem(system) : '';
    out.push(typeof display === 'string' ? { system: s, code, display } : { system: s, code });
  }
  return out;
}

/**
 * All security labels of a resource: its explicit `meta.security` labels, the sensitivity
 * labels its coded content triggers, and confidentiality R when any sensitivity label is
 * present (explicit or automatic) and no explicit confidentiality is already R or higher.
 * Deduplicated by (system, code), explicit first (keeping its display), sorted by system then
 * code. Never throws.
 *
 * @example
 *   labelResource({ resourceType: 'Condition', code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'B20' }] } })
 *   // [{ system: '…/v3-ActCode', code: 'HIV', … }, { system: '…/v3-Confidentiality', code: 'R', … }]
 */
export function labelResource(resource: unknown): SecurityLabel[] {
  const byKey = new Map<string, SecurityLabel>();
  for (const l of explicitLabels(resource)) if (!byKey.has(labelKey(l))) byKey.set(labelKey(l), l);
  for (const category of categoriesOf(contentMask(resource))) {
    const l = sensitivityLabel(category);
    if (!byKey.has(labelKey(l))) byKey.set(labelKey(l), l);
  }
  let sensitive = false;
  let rank = -1;
  for (const l of byKey.values()) {
    if (l.system === ACT_CODE_SYSTEM && Object.hasOwn(SENSITIVITY_LABELS, l.code)) sensitive = true;
    rank = Math.max(rank, confidentialityRank(l) ?? -1);
  }
  if (sensitive && rank < 4) {
    const r = confidentialityLabel('R');
    byKey.set(labelKey(r), r);
  }
  return [...byKey.values()].sort(compareLabels);
}
