/**
 * Detection models from the command line's point of view (issue 6 §5): train one from a
 * flow file, score a flow file with one, evaluate one on a labelled flow file. The CLI
 * subcommands (cli/detect-*-command.ts) only parse flags and print; everything else is here.
 *
 * Training modes:
 * - `unsupervised`: an isolation forest. With labels, on the rows labelled normal; without,
 *   on every row (which assumes the traffic is mostly normal). Its threshold is the
 *   1 − b quantile of held-out rows' scores, b the false-positive budget (default 0.01).
 * - `supervised`: gradient-boosted trees over the classes of the labels.
 * - `hybrid`: both (detect/train-detector.ts); the budget is split evenly between the
 *   trees' cut and the forest's threshold, each at the 1 − b/2 quantile of normal rows
 *   the part did not train on.
 * Supervised and hybrid need every row labelled, and refuse (`request-malformed`, exit 2)
 * otherwise. `auto` is hybrid for a labelled input and unsupervised for an unlabelled one.
 */
import {
  evaluateDetections, formatModelFile, formatOfSchema, NORMAL_CLASS, schemaForFormat,
  trainHybridDetector, trainSupervisedDetector, trainUnsupervisedDetector, selectRows,
  type DetectionEvaluation, type DetectionExplanation, type DetectionModel, type DetectionScores, type FeatureSchema, type FlowFormat, type Scorer,
  type Calibration, type TrainingStage,
} from '../detect/index.js';
import { CustodiaError, isCustodiaError, seededRandom } from '../kernel/index.js';
import { readAllFlowRows, readFlowRows, type FlowReadProgress, type FlowReadReport, type FlowRowBatch } from './flow-rows.js';

export type TrainingMode = 'unsupervised' | 'supervised' | 'hybrid';

/** Where a long step is: reading (with bytes), then the training stages. */
export type DetectorProgress = ({ readonly stage: 'reading' } & FlowReadProgress) | { readonly stage: TrainingStage | 'scoring' };

export interface TrainedDetector {
  readonly mode: TrainingMode;
  readonly model: DetectionModel;
  /** The model file's text (deterministic for a seed). */
  readonly text: string;
  readonly trainedRows: number;
  readonly classes: Readonly<Record<string, number>>;
  readonly report: FlowReadReport;
  /** Each cut set on normal rows, and on how many (detect/normal-threshold.ts: too few cannot keep the budget). */
  readonly calibration: readonly Calibration[];
}

function refuse(message: string): CustodiaError {
  return new CustodiaError('request-malformed', message);
}

/**
 * Trains a model of `mode` on the flows of `input`, seeded with `seed`; `bags` boosted
 * ensembles averaged for the trees (default 1; detect/train-detector.ts); `randomForestTrees`
 * the trees of a hybrid's random forest (default 100, 0 for none); `falsePositiveBudget`
 * the share of normal traffic an unsupervised or hybrid model may alert on (default
 * 0.01, detect/train-detector.ts; a supervised model refuses one).
 *
 * @example
 *   const { text } = await trainDetectorFromFile({ input: 'KDDTrain+_20Percent.txt', format: 'nsl-kdd', mode: 'hybrid', seed: '1' });
 */
export async function trainDetectorFromFile(o: { input: string; format: FlowFormat; mode: TrainingMode | 'auto'; seed: string; bags?: number; randomForestTrees?: number; falsePositiveBudget?: number; onProgress?: (p: DetectorProgress) => void }): Promise<TrainedDetector> {
  if (o.mode === 'supervised' && o.falsePositiveBudget !== undefined) throw refuse('a supervised model has no false-positive budget (it cuts at 0.5); train --hybrid or --unsupervised to set one');
  const schema = schemaForFormat(o.format);
  const read = await readAllFlowRows(o.input, o.format, schema, (p) => o.onProgress?.({ stage: 'reading', ...p }));
  try {
    return trainOn(schema, read, o);
  } catch (e) {
    // A refusal after reading says which records were skipped: often they are why.
    if (!isCustodiaError(e) || read.report.badRecords === 0) throw e;
    const first = read.report.firstBad.slice(0, 3).map((b) => `line ${b.line}: ${b.reason}`).join('; ');
    throw new CustodiaError(e.code, `${e.message} (${read.report.badRecords} bad records were skipped; ${first})`);
  }
}

function trainOn(schema: FeatureSchema, { matrix, classes, report }: Awaited<ReturnType<typeof readAllFlowRows>>, o: Parameters<typeof trainDetectorFromFile>[0]): TrainedDetector {
  if (matrix.rows === 0) throw refuse('the input holds no readable flow records');
  const counts: Record<string, number> = {};
  let unlabelled = 0;
  for (const c of classes) {
    if (c === undefined) unlabelled++;
    else counts[c] = (counts[c] ?? 0) + 1;
  }
  const mode: TrainingMode = o.mode !== 'auto' ? o.mode : unlabelled === matrix.rows ? 'unsupervised' : 'hybrid';
  if (mode !== 'hybrid' && o.randomForestTrees !== undefined) throw refuse('only a hybrid model has a random forest beside its boosted trees (labelled flows, --hybrid)');
  const options = {
    random: seededRandom(`custodia-detect:${o.seed}`),
    ...(o.bags === undefined ? {} : { bags: o.bags }),
    ...(o.randomForestTrees === undefined ? {} : { randomForest: o.randomForestTrees === 0 ? (false as const) : { trees: o.randomForestTrees } }),
    ...(o.falsePositiveBudget === undefined ? {} : { falsePositiveBudget: o.falsePositiveBudget }),
    onStage: (stage: TrainingStage) => o.onProgress?.({ stage }),
    onCalibrated: (c: Calibration) => calibration.push(c),
  };
  const calibration: Calibration[] = [];
  let model: DetectionModel;
  let trainedRows = matrix.rows;
  if (mode === 'unsupervised') {
    const normal = unlabelled === matrix.rows ? null : classes.flatMap((c, i) => (c === NORMAL_CLASS ? [i] : []));
    if (normal !== null && normal.length === 0) throw refuse('the input is labelled but has no normal rows to learn from');
    const rows = normal === null ? matrix : selectRows(matrix, normal);
    trainedRows = rows.rows;
    model = trainUnsupervisedDetector(schema, rows, options);
  } else {
    if (unlabelled === matrix.rows) throw refuse(`--${mode} needs labelled flows, and the input has no labels (train with --unsupervised)`);
    if (unlabelled > 0) throw refuse(`--${mode} needs every flow labelled; ${unlabelled} of ${matrix.rows} have no label`);
    if (counts[NORMAL_CLASS] === undefined) throw refuse('the input has no rows labelled normal (or BENIGN)');
    const names = [NORMAL_CLASS, ...Object.keys(counts).filter((c) => c !== NORMAL_CLASS).sort()];
    if (names.length < 2) throw refuse('the input has no attack rows to learn from');
    const index = new Map(names.map((c, i) => [c, i]));
    const y = Int32Array.from(classes, (c) => index.get(c!)!);
    model = mode === 'supervised' ? trainSupervisedDetector(schema, matrix, y, names, options) : trainHybridDetector(schema, matrix, y, names, options);
  }
  return { mode, model, text: formatModelFile(model), trainedRows, classes: counts, report, calibration };
}

/** The format to read with: the one asked for, which must be the model's, or the model's. */
export function formatFor(model: { readonly schema: FeatureSchema }, asked: FlowFormat | undefined): FlowFormat {
  const own = formatOfSchema(model.schema);
  if (own === undefined) throw refuse(`the model's feature schema (${model.schema.id}) is not one of a flow format`);
  if (asked !== undefined && asked !== own) throw refuse(`the model was trained on ${own} flows, not ${asked}`);
  return own;
}

export interface ScoredBatch {
  readonly lines: readonly number[];
  readonly endpoints: FlowRowBatch['endpoints'];
  readonly startTimes: FlowRowBatch['startTimes'];
  readonly scores: DetectionScores;
  readonly classNames: readonly string[];
  /** For rows labelled attack when explanations were asked for. */
  readonly explanations?: readonly (DetectionExplanation | undefined)[];
}

/**
 * Scores every flow of `input` with `scorer`, batch by batch (rows are never all held).
 * Explanations need a scorer that can explain (`Scorer.explain`): our models, or an imported
 * ONNX model whose sidecar gives a reference row.
 *
 * @example
 *   await scoreFlowFile({ scorer, input: 'conn.log', format: 'zeek', onBatch: (b) => write(b) });
 */
export async function scoreFlowFile(o: { scorer: Scorer; input: string; format: FlowFormat; explain?: number; onBatch: (b: ScoredBatch) => void | Promise<void>; onProgress?: (p: DetectorProgress) => void }): Promise<FlowReadReport> {
  const { scorer } = o;
  const { explain } = o;
  if (explain !== undefined && scorer.explain === undefined) throw refuse(`this ${scorer.kind} model cannot explain its scores: --explain and --raise-findings need a Custodia model, or an ONNX sidecar with a reference row`);
  return readFlowRows(o.input, o.format, scorer.schema, async (batch) => {
    const scores = await scorer.score(batch.matrix);
    const classNames = Array.from(scores.classIndex, (c) => scorer.className(c));
    const explanations = explain === undefined ? undefined : await scorer.explain?.(batch.matrix, scores, explain);
    return o.onBatch({ lines: batch.lines, endpoints: batch.endpoints, startTimes: batch.startTimes, scores, classNames, ...(explanations === undefined ? {} : { explanations }) });
  }, (p) => o.onProgress?.({ stage: 'reading', ...p }));
}

/**
 * Evaluates `scorer` on the labelled flows of `input` (unlabelled rows are skipped and counted).
 *
 * @example
 *   const { evaluation } = await evaluateFlowFile({ scorer, input: 'test.txt', format: 'nsl-kdd' });
 */
export async function evaluateFlowFile(o: { scorer: Scorer; input: string; format: FlowFormat; onProgress?: (p: DetectorProgress) => void }): Promise<{ evaluation: DetectionEvaluation; unlabelled: number; report: FlowReadReport }> {
  const { matrix, classes, report } = await readAllFlowRows(o.input, o.format, o.scorer.schema, (p) => o.onProgress?.({ stage: 'reading', ...p }));
  const labelled = classes.flatMap((c, i) => (c === undefined ? [] : [i]));
  if (labelled.length === 0) throw refuse('evaluation needs labelled flows, and the input has none');
  o.onProgress?.({ stage: 'scoring' });
  const rows = labelled.length === matrix.rows ? matrix : selectRows(matrix, labelled);
  const scores = await o.scorer.score(rows);
  const predicted = Array.from(scores.classIndex, (c) => o.scorer.className(c));
  const evaluation = evaluateDetections(labelled.map((i) => classes[i]!), predicted, scores);
  return { evaluation, unlabelled: matrix.rows - labelled.length, report };
}
