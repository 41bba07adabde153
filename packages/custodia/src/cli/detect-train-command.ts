/**
 * `custodia detect train --format F --input FILE --model OUT.json [--supervised |
 * --unsupervised | --hybrid] [--seed N] [--bags N] [--random-forest N] [--false-positive-budget B]` (issue 6 §5): trains a detection model on a
 * flow file and writes it as a versioned model file (app/detector-files.ts). Without a
 * mode flag: hybrid for labelled input, unsupervised for unlabelled.
 */
import { writeFileSync } from 'node:fs';
import { Command } from '@commander-js/extra-typings';
import { attackThreshold, calibrationRowsFor, CustodiaError, type Calibration, DEFAULT_FALSE_POSITIVE_BUDGET, MAX_BAGS, MAX_FALSE_POSITIVE_BUDGET, DETECTOR_RANDOM_FOREST_OPTIONS, RANDOM_FOREST_LIMITS, scoreThreshold, trainDetectorFromFile, type DetectionModel, type TrainingMode } from '../app/index.js';
import { detectProgress } from './detect-progress.js';
import { formatOption, reportBadRecords } from './detect-options.js';

function modeOf(o: { supervised?: boolean; unsupervised?: boolean; hybrid?: boolean }): TrainingMode | 'auto' {
  const chosen = (['supervised', 'unsupervised', 'hybrid'] as const).filter((m) => o[m] === true);
  if (chosen.length > 1) throw new CustodiaError('request-malformed', 'choose one of --supervised, --unsupervised and --hybrid');
  return chosen[0] ?? 'auto';
}

/** The rare values a model alerts on (detect/rare-values.ts), as a sentence, or nothing. */
function rareValuesSentence(model: DetectionModel): string {
  const rare = model.kind === 'gbdt' ? [] : (model.rareValues ?? []).map((r) => `${model.schema.features[r.feature]!.name} ${r.value}`);
  return rare.length === 0 ? '' : ` It also alerts on a flow that departs from what normal flows almost always hold (${rare.join(', ')}), which the forest cannot split on.`;
}

/** Where the model alerts, and what set each cut. */
function cuts(model: DetectionModel): string {
  const at = (x: number): string => x.toPrecision(4);
  if (model.kind === 'isolation-forest') return `It alerts when the forest scores a flow above ${at(scoreThreshold(model))}.${rareValuesSentence(model)}`;
  const cut = `above ${at(attackThreshold(model))}`;
  if (model.kind === 'gbdt') return `It alerts when the trees give a flow an attack probability ${cut}.`;
  const trees = model.treesQuantile === undefined ? cut : `${cut} (the ${model.treesQuantile} quantile of normal flows they did not fit)`;
  const averaged = model.randomForest === undefined ? 'the trees give' : `the boosted trees and the random forest (${model.randomForest.trees.length} trees) give, on average,`;
  return `It alerts when ${averaged} a flow an attack probability ${trees}, or the forest scores it above ${at(model.forestThreshold)} (the ${model.normalQuantile} quantile of held-out normal flows).${rareValuesSentence(model)}`;
}

/**
 * A cut set on too few normal flows to keep its budget (detect/normal-threshold.ts): it is
 * the largest of their scores, which about 1 in n + 1 fresh normal flows passes.
 */
function calibrationWarnings(calibration: readonly Calibration[]): string[] {
  const pct = (x: number): string => `${Number((100 * x).toPrecision(2))}%`;
  return calibration.flatMap((c) => {
    const needed = calibrationRowsFor(c.quantile);
    if (c.rows >= needed) return [];
    const what = c.part === 'forest' ? "The forest's cut was set on" : "The trees' cut was set on";
    return [`Warning: ${what} ${c.rows} normal flows it did not train on; a budget of ${pct(1 - c.quantile)} needs at least ${needed}, so expect about ${pct(1 / (c.rows + 1))} of normal flows to alert there. Train on more normal flows, or raise --false-positive-budget.`];
  });
}

export function detectTrainCommand() {
  return new Command('train')
    .description('train a detection model on a flow file (labelled: hybrid by default; unlabelled: unsupervised)')
    .addOption(formatOption(true))
    .requiredOption('--input <file>', 'the flow file')
    .requiredOption('--model <file>', 'where to write the model (JSON)')
    .option('--supervised', 'gradient-boosted trees over the label classes')
    .option('--unsupervised', 'an isolation forest (on the rows labelled normal when there are labels)')
    .option('--hybrid', 'both: the trees, and the forest for attack types they never saw')
    .option('--seed <n>', 'the seed: the same seed and input give the same model file', '0')
    .option('--bags <n>', `average this many boosted ensembles (1 to ${MAX_BAGS}): steadier on known attack types, fewer unseen ones caught (docs/detect.md)`, '1')
    .option('--random-forest <trees>', `trees of the hybrid's random forest, averaged with its boosted trees (default ${DETECTOR_RANDOM_FOREST_OPTIONS.trees}, 0 for none, at most ${RANDOM_FOREST_LIMITS.trees}; docs/detect.md "Random forest")`)
    .option('--false-positive-budget <share>', `the share of normal traffic an unsupervised or hybrid model may alert on, up to ${MAX_FALSE_POSITIVE_BUDGET} (default ${DEFAULT_FALSE_POSITIVE_BUDGET}: 1%; a hybrid splits it between its trees and its forest)`)
    .exitOverride()
    .action(async (o) => {
      if (!/^\d{1,15}$/.test(o.seed)) throw new CustodiaError('request-malformed', '--seed is a non-negative integer');
      // Command-line text: hostile until it is a short run of digits in range.
      const bags = /^\d{1,2}$/.test(o.bags) ? Number(o.bags) : NaN;
      if (!(bags >= 1 && bags <= MAX_BAGS)) throw new CustodiaError('request-malformed', `--bags is a whole number from 1 to ${MAX_BAGS}`);
      const randomForestTrees = o.randomForest === undefined ? undefined : /^\d{1,4}$/.test(o.randomForest) ? Number(o.randomForest) : NaN;
      if (randomForestTrees !== undefined && !(randomForestTrees >= 0 && randomForestTrees <= RANDOM_FOREST_LIMITS.trees)) throw new CustodiaError('request-malformed', `--random-forest is a whole number of trees from 0 to ${RANDOM_FOREST_LIMITS.trees}`);
      // Command-line text again: a plain decimal share, nothing Number() would also take (hex, exponents, Infinity).
      const budget = o.falsePositiveBudget === undefined ? undefined : /^0?\.\d{1,6}$/.test(o.falsePositiveBudget) ? Number(o.falsePositiveBudget) : NaN;
      if (budget !== undefined && !(budget > 0 && budget <= MAX_FALSE_POSITIVE_BUDGET)) throw new CustodiaError('request-malformed', `--false-positive-budget is a share above 0 and at most ${MAX_FALSE_POSITIVE_BUDGET}, such as 0.01`);
      const mode = modeOf(o);
      const progress = detectProgress('reading');
      let trained;
      try {
        trained = await trainDetectorFromFile({ input: o.input, format: o.format!, mode, seed: o.seed, bags, ...(randomForestTrees === undefined ? {} : { randomForestTrees }), ...(budget === undefined ? {} : { falsePositiveBudget: budget }), onProgress: progress.update });
      } finally {
        progress.stop();
      }
      writeFileSync(o.model, trained.text);
      reportBadRecords(trained.report);
      const classes = Object.entries(trained.classes).map(([c, n]) => `${c} ${n}`).join(', ');
      process.stdout.write(`Trained ${/^[aeiou]/.test(trained.model.kind) ? "an" : "a"} ${trained.model.kind} model on ${trained.trainedRows} of ${trained.report.rows} flows${classes === '' ? '' : ` (${classes})`}; wrote ${o.model}.\n`);
      process.stdout.write(`${cuts(trained.model)}\n`);
      for (const w of calibrationWarnings(trained.calibration)) process.stderr.write(`${w}\n`);
    });
}
