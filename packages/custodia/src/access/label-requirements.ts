/**
 * Which security labels need an explicit permission (a clearance an administrator grants
 * to a user) before data carrying them is visible:
 * - every sensitive category (v3-ActCode HIV, ETH, PSY, SEX, STD, GDIS, SDV) needs a
 *   clearance of the same code;
 * - confidentiality V (very restricted) needs clearance V;
 * - confidentiality R (restricted) needs clearance R — or, since the vault adds R to
 *   everything in a sensitive category, a clearance for a category the resource carries.
 * N (normal) and below need nothing. docs/access-control.md lists them for operators.
 */
import { ACT_CODE_SYSTEM, CONFIDENTIALITY_SYSTEM, SENSITIVITY_LABELS } from './policy/index.js';
import type { LabelRequirement } from './visibility-builder.js';

export const LABEL_REQUIREMENTS: readonly LabelRequirement[] = Object.freeze([
  ...Object.keys(SENSITIVITY_LABELS).map((code) => ({ system: ACT_CODE_SYSTEM, code, clearance: code })),
  { system: CONFIDENTIALITY_SYSTEM, code: 'V', clearance: 'V' },
  { system: CONFIDENTIALITY_SYSTEM, code: 'R', clearance: 'R', liftedByCarriedCategory: true },
]);

/** The clearance codes an administrator can grant. */
export const CLEARANCES: ReadonlySet<string> = new Set(LABEL_REQUIREMENTS.map((l) => l.clearance));

/** The sensitive-category label a clearance code stands for, if it is one. */
export function categoryLabel(clearance: string): { system: string; code: string } | undefined {
  return Object.hasOwn(SENSITIVITY_LABELS, clearance) ? { system: ACT_CODE_SYSTEM, code: clearance } : undefined;
}
