/**
 * Security labels (R4 security-labels.html): one `meta.security` Coding each. Two kinds
 * matter to access decisions here:
 *
 * - **Confidentiality** (v3-Confidentiality, R4 v3/Confidentiality/cs.html), an ordered scale
 *   U < L < M < N < R < V. A resource is treated as at least N (normal): labels U, L, M never
 *   lower it, so that adding a label can never widen access.
 * - **Sensitivity** (v3-ActCode, concepts under `_ActInformationSensitivityPolicy`; R4
 *   v3/ActCode/cs.html and the R4 security-labels value set): what kind of sensitive
 *   information a resource holds. The categories this vault assigns automatically are in
 *   {@link SENSITIVITY_LABELS}; `docs/sensitive-data.md` explains the choice.
 */
import { ACT_CODE_SYSTEM, CONFIDENTIALITY_SYSTEM } from './code-systems.js';

/**
 * One security label. `system` and `code` identify it (compared as exact strings); `display`
 * is for people only.
 *
 * @example
 *   const hiv: SecurityLabel = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'HIV' };
 */
export interface SecurityLabel {
  readonly system: string;
  readonly code: string;
  readonly display?: string;
}

/** v3-Confidentiality codes from least to most restricted. */
export const CONFIDENTIALITY_CODES = ['U', 'L', 'M', 'N', 'R', 'V'] as const;
export type ConfidentialityCode = (typeof CONFIDENTIALITY_CODES)[number];

const CONFIDENTIALITY_DISPLAY: Readonly<Record<ConfidentialityCode, string>> = {
  U: 'unrestricted',
  L: 'low',
  M: 'moderate',
  N: 'normal',
  R: 'restricted',
  V: 'very restricted',
};

/** Rank of N, the confidentiality every resource has at least. */
export const NORMAL_RANK = 3;

/**
 * The rank (0 = U … 5 = V) of a v3-Confidentiality label; undefined for any other label.
 *
 * @example
 *   confidentialityRank({ system: CONFIDENTIALITY_SYSTEM, code: 'R' }) // 4
 */
export function confidentialityRank(label: { readonly system: string; readonly code: string }): number | undefined {
  if (label.system !== CONFIDENTIALITY_SYSTEM) return undefined;
  const rank = (CONFIDENTIALITY_CODES as readonly string[]).indexOf(label.code);
  return rank < 0 ? undefined : rank;
}

/**
 * The confidentiality a resource is handled at: the highest of its confidentiality labels and
 * N. (security-labels.html: confidentiality is a "high water mark".)
 *
 * @example
 *   effectiveConfidentialityRank([]) // 3 (N)
 */
export function effectiveConfidentialityRank(labels: readonly SecurityLabel[]): number {
  let rank = NORMAL_RANK;
  for (const l of labels) {
    const r = confidentialityRank(l);
    if (r !== undefined && r > rank) rank = r;
  }
  return rank;
}

/** The v3-Confidentiality label with this code. */
export function confidentialityLabel(code: ConfidentialityCode): SecurityLabel {
  return { system: CONFIDENTIALITY_SYSTEM, code, display: CONFIDENTIALITY_DISPLAY[code] };
}

/**
 * The sensitivity categories labelled automatically, each with the v3-ActCode
 * `_ActInformationSensitivityPolicy` concept it is labelled with (R4 security-labels value set).
 */
export type SensitivityCategory = 'HIV' | 'ETH' | 'PSY' | 'SEX' | 'STD' | 'GDIS' | 'SDV';

export interface SensitivityLabelDefinition {
  readonly code: SensitivityCategory;
  readonly display: string;
  /** What the vault puts in this category (see docs/sensitive-data.md). */
  readonly scope: string;
}

/** v3-ActCode sensitivity codes (R4 security-labels value set; display as in v3-ActCode). */
export const SENSITIVITY_LABELS: Readonly<Record<SensitivityCategory, SensitivityLabelDefinition>> = {
  HIV: { code: 'HIV', display: 'HIV/AIDS information sensitivity', scope: 'HIV infection, AIDS, HIV tests and viral load, antiretroviral treatment' },
  ETH: { code: 'ETH', display: 'substance abuse information sensitivity', scope: 'alcohol and drug use disorders (42 CFR Part 2 kind of information); not tobacco' },
  PSY: { code: 'PSY', display: 'psychiatry disorder information sensitivity', scope: 'behavioural and mental health disorders other than substance use' },
  SEX: { code: 'SEX', display: 'sexuality and reproductive health information sensitivity', scope: 'contraception, pregnancy and its loss or termination, infertility, sexually transmitted infections' },
  STD: { code: 'STD', display: 'sexually transmitted disease information sensitivity', scope: 'sexually transmitted infections other than HIV (always with SEX too)' },
  GDIS: { code: 'GDIS', display: 'genetic disease information sensitivity', scope: 'germline genetic tests and results, chromosomal abnormalities, genetic carrier status, MolecularSequence' },
  SDV: { code: 'SDV', display: 'sexual assault, abuse, or domestic violence information sensitivity', scope: 'abuse, sexual assault and domestic violence' },
};

/** The v3-ActCode label of a sensitivity category. */
export function sensitivityLabel(category: SensitivityCategory): SecurityLabel {
  const d = SENSITIVITY_LABELS[category];
  return { system: ACT_CODE_SYSTEM, code: d.code, display: d.display };
}

/** `system|code`: the identity of a label. */
export function labelKey(label: { readonly system: string; readonly code: string }): string {
  return `${label.system}|${label.code}`;
}

/** Deterministic order: by system, then code (UTF-16 code unit order, which is byte order for ASCII). */
export function compareLabels(a: SecurityLabel, b: SecurityLabel): number {
  if (a.system !== b.system) return a.system < b.system ? -1 : 1;
  if (a.code !== b.code) return a.code < b.code ? -1 : 1;
  return 0;
}
