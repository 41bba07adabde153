/**
 * How well a detector did on labelled rows, overall and per attack class:
 *
 * - binary (attack vs normal): ROC AUC of the score (roc-auc.ts), precision, recall, F1
 *   and false-positive rate of the label, and the 2×2 confusion matrix;
 * - by class: the confusion matrix of true classes against predicted ones (which may
 *   include `unknown`, a forest-only alert), each true class's precision, recall and F1,
 *   and the macro-F1: the unweighted mean F1 over the classes that occur in the truth. A
 *   predicted class that never occurs in the truth (`unknown`) counts against the recall
 *   of the rows it took, and has no F1 of its own: the mean is over what was to be found;
 * - per attack class: its rows' detection rate (label 1, whatever class was named) and
 *   the AUC of its rows against the normal rows.
 *
 * Precision with nothing predicted, and F1 with neither, are 0 (scikit-learn's
 * `zero_division=0`).
 */
import { NORMAL_CLASS } from './detection-model.js';
import type { DetectionScores } from './detection-scores.js';
import { rocAuc } from './roc-auc.js';

export interface ClassMetrics {
  readonly class: string;
  /** True rows of the class. */
  readonly support: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Share of its rows labelled attack (any class); for `normal`, the false-positive rate. */
  readonly detectionRate: number;
  /** AUC of the score, its rows against the normal rows; null for normal or without both. */
  readonly auc: number | null;
}

export interface DetectionEvaluation {
  readonly rows: number;
  readonly attacks: number;
  /** Attack vs normal; null without both in the truth. */
  readonly auc: number | null;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly falsePositiveRate: number;
  /** [[true negatives, false positives], [false negatives, true positives]]. */
  readonly binaryConfusion: readonly [readonly [number, number], readonly [number, number]];
  /** True classes (in the truth), then predicted-only ones (`unknown`). */
  readonly classes: readonly string[];
  /** confusion[t][p]: rows of true class classes[t] predicted as classes[p]; one row per true class. */
  readonly confusion: readonly (readonly number[])[];
  readonly perClass: readonly ClassMetrics[];
  /** Mean F1 over the classes that occur in the truth. */
  readonly macroF1: number;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

function aucOrNull(scores: Float64Array, positive: boolean[]): number | null {
  const p = positive.filter(Boolean).length;
  return p === 0 || p === positive.length ? null : rocAuc(scores, positive);
}

/**
 * Scores `s` against the true class of each row (`normal` or an attack class name) and the
 * predicted class names.
 *
 * @example
 *   const e = evaluateDetections(truth, predictedNames, scores);
 *   e.macroF1; e.perClass.find((c) => c.class === 'R2L')?.recall;
 */
export function evaluateDetections(truth: readonly string[], predicted: readonly string[], s: DetectionScores): DetectionEvaluation {
  const n = truth.length;
  if (predicted.length !== n || s.rows !== n) throw new RangeError('one truth and one prediction per scored row');
  const trueClasses = [...new Set(truth)].sort((a, b) => (a === NORMAL_CLASS ? -1 : b === NORMAL_CLASS ? 1 : a < b ? -1 : a > b ? 1 : 0));
  const classes = [...trueClasses, ...[...new Set(predicted)].filter((c) => !trueClasses.includes(c)).sort()];
  const index = new Map(classes.map((c, i) => [c, i]));
  const confusion = trueClasses.map(() => new Array<number>(classes.length).fill(0));
  const binary: [[number, number], [number, number]] = [[0, 0], [0, 0]];
  for (let r = 0; r < n; r++) {
    confusion[index.get(truth[r]!)!]![index.get(predicted[r]!)!]!++;
    binary[truth[r] === NORMAL_CLASS ? 0 : 1][s.label[r] === 1 ? 1 : 0]++;
  }
  const attack = truth.map((t) => t !== NORMAL_CLASS);
  const normalRows = attack.map((a) => !a);
  const perClass = trueClasses.map((c): ClassMetrics => {
    const i = index.get(c)!;
    const tp = confusion[i]![i]!;
    const support = confusion[i]!.reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[i]!, 0);
    const precision = ratio(tp, predictedAs);
    const recall = ratio(tp, support);
    let flagged = 0;
    const rows: number[] = [];
    for (let r = 0; r < n; r++) {
      if (truth[r] !== c) continue;
      flagged += s.label[r]!;
      rows.push(r);
    }
    let auc: number | null = null;
    if (c !== NORMAL_CLASS && normalRows.some(Boolean)) {
      const pick = truth.flatMap((t, r) => (t === c || t === NORMAL_CLASS ? [r] : []));
      auc = aucOrNull(Float64Array.from(pick, (r) => s.score[r]!), pick.map((r) => truth[r] === c));
    }
    return { class: c, support, precision, recall, f1: ratio(2 * precision * recall, precision + recall), detectionRate: ratio(flagged, rows.length), auc };
  });
  const [[tn, fp], [fn, tp]] = binary;
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  return {
    rows: n,
    attacks: tp + fn,
    auc: aucOrNull(s.score, attack),
    precision,
    recall,
    f1: ratio(2 * precision * recall, precision + recall),
    falsePositiveRate: ratio(fp, fp + tn),
    binaryConfusion: binary,
    classes,
    confusion,
    perClass,
    macroF1: perClass.reduce((a, m) => a + m.f1, 0) / Math.max(1, perClass.length),
  };
}
