/**
 * Checks on a device's vital signs that need no baseline, because physiology sets the
 * bounds: a man-in-the-middle who rewrites readings in transit (the WUSTL-EHMS "spoofing"
 * and "data alteration" attacks) tends to write values no patient has, or values that
 * contradict each other. They alert from the first message, learning or not.
 *
 * 1. Implausible: a value outside what a living, monitored patient can show (below).
 * 2. Inconsistent:
 *    - Pulse_Rate (from the pulse oximeter's plethysmogram) and Heart_rate (from the
 *      ECG) count the same heartbeats. A pulse deficit exists (atrial fibrillation), so
 *      the tolerance is wide: max(20 /min, 25 % of the ECG rate).
 *    - Systolic pressure must exceed diastolic pressure.
 *
 * The bounds are deliberately loose — far outside clinical alarm limits, which are the
 * monitor's business, not the detector's. A value the parser accepted (a finite number of
 * the right order of magnitude) but that is out of these bounds is evidence of tampering
 * or a broken sensor, and it is worth a finding either way. Temperature is in °C.
 */
import type { VitalSign } from './telemetry-record.js';

export interface PlausibleRange {
  readonly min: number;
  readonly max: number;
}

/** Loose physiological bounds (adult and paediatric monitoring). */
export const PLAUSIBLE_VITALS: Readonly<Record<VitalSign, PlausibleRange>> = Object.freeze({
  Temp: { min: 15, max: 45 },
  SpO2: { min: 40, max: 100 },
  Pulse_Rate: { min: 20, max: 300 },
  SYS: { min: 40, max: 300 },
  DIA: { min: 15, max: 200 },
  Heart_rate: { min: 20, max: 300 },
  Resp_Rate: { min: 2, max: 80 },
  ST: { min: -5, max: 5 },
});

export interface VitalSignIssue {
  readonly kind: 'implausible' | 'inconsistent';
  /** The vital signs involved, with their values. */
  readonly features: readonly { readonly feature: VitalSign; readonly value: number; readonly min?: number; readonly max?: number }[];
  /** How far past the bound or tolerance (in the feature's units), and the tolerance. */
  readonly excess: number;
  readonly tolerance: number;
}

/** The pulse-deficit tolerance: max(20 /min, 25 % of the ECG rate). */
export const pulseTolerance = (heartRate: number): number => Math.max(20, 0.25 * Math.abs(heartRate));

/**
 * Every implausible value and inconsistent pair in `vitals`, in a fixed order.
 *
 * @example
 *   checkVitalSigns({ ...normal, SpO2: 140 }); // [{ kind: 'implausible', features: [{ feature: 'SpO2', value: 140, … }], … }]
 */
export function checkVitalSigns(vitals: Readonly<Record<VitalSign, number>>, ranges: Readonly<Record<VitalSign, PlausibleRange>> = PLAUSIBLE_VITALS): VitalSignIssue[] {
  const issues: VitalSignIssue[] = [];
  for (const [name, range] of Object.entries(ranges) as [VitalSign, PlausibleRange][]) {
    const v = vitals[name];
    if (v < range.min || v > range.max) {
      issues.push({ kind: 'implausible', features: [{ feature: name, value: v, min: range.min, max: range.max }], excess: v < range.min ? range.min - v : v - range.max, tolerance: 0 });
    }
  }
  const tolerance = pulseTolerance(vitals.Heart_rate);
  const gap = Math.abs(vitals.Pulse_Rate - vitals.Heart_rate);
  if (gap > tolerance) {
    issues.push({ kind: 'inconsistent', features: [{ feature: 'Pulse_Rate', value: vitals.Pulse_Rate }, { feature: 'Heart_rate', value: vitals.Heart_rate }], excess: gap, tolerance });
  }
  if (vitals.SYS <= vitals.DIA) {
    issues.push({ kind: 'inconsistent', features: [{ feature: 'SYS', value: vitals.SYS }, { feature: 'DIA', value: vitals.DIA }], excess: vitals.DIA - vitals.SYS, tolerance: 0 });
  }
  return issues;
}
