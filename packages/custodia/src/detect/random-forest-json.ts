/**
 * A random forest (random-forest.ts) as a member of a model file, and back:
 * `{ "numClasses", "numFeatures", "trees": [{ "feature", "threshold", "left", "right",
 * "counts" }] }`, each tree's arrays by node, `counts` holding each leaf's training rows
 * of each class, leaves in node order. Whole numbers and finite doubles only, so a
 * reloaded forest scores bit for bit as the original.
 *
 * Parsing is hostile input (see model-file.ts): types and ranges here, then the
 * RandomForest constructor checks every tree's structure (children after parents, one
 * parent each, every node reachable, counts whole and non-empty) before anything scores.
 */
import { RANDOM_FOREST_LIMITS, RandomForest, type RandomForestTree } from './random-forest.js';
import { forestJsonNodes } from './isolation-forest-json.js';
import { exactKeys, finites, int32s, invalidModel, isRecord, positiveInteger } from './model-json-checks.js';

const TREE_KEYS = ['feature', 'threshold', 'left', 'right', 'counts'] as const;
const FOREST_KEYS = ['numClasses', 'numFeatures', 'trees'] as const;

/** Tree nodes a random-forest member declares, counted before anything is allocated for them. */
export function randomForestJsonNodes(value: unknown): number {
  const trees = isRecord(value) ? value['trees'] : undefined;
  if (!Array.isArray(trees)) return 0;
  // The nodes as an isolation forest's are counted, and each leaf's class counts beside them.
  let counts = 0;
  for (const tree of trees) counts += isRecord(tree) && Array.isArray(tree['counts']) ? tree['counts'].length : 0;
  return forestJsonNodes(value) + counts;
}

function parseTree(v: unknown, t: number): RandomForestTree {
  const tree = exactKeys(v, TREE_KEYS, `random forest tree ${t}`);
  const counts = finites(tree['counts'], `random forest tree ${t} counts`);
  return {
    feature: int32s(tree['feature'], -1, `random forest tree ${t} feature`),
    threshold: finites(tree['threshold'], `random forest tree ${t} threshold`),
    left: int32s(tree['left'], -1, `random forest tree ${t} left`),
    right: int32s(tree['right'], -1, `random forest tree ${t} right`),
    counts,
  };
}

/** The random forest of a model file's member `value`, for `classes` classes and rows `width` wide. Throws `model-invalid`. */
export function randomForestFromJson(value: unknown, classes: number, width: number): RandomForest {
  const model = exactKeys(value, FOREST_KEYS, 'the random forest');
  if (positiveInteger(model['numClasses'], 'the random forest numClasses') !== classes) throw invalidModel('the random forest does not score one output per class');
  if (positiveInteger(model['numFeatures'], 'the random forest numFeatures') !== width) throw invalidModel('the random forest does not take the schema features');
  const trees = model['trees'];
  if (!Array.isArray(trees) || trees.length < 1 || trees.length > RANDOM_FOREST_LIMITS.trees) throw invalidModel(`the random forest must have 1 to ${RANDOM_FOREST_LIMITS.trees} trees`);
  return new RandomForest(classes, width, trees.map(parseTree));
}

/** The JSON form of a random forest, members in a fixed order. */
export function randomForestToJson(forest: RandomForest): Record<string, unknown> {
  return {
    numClasses: forest.numClasses,
    numFeatures: forest.numFeatures,
    trees: forest.trees.map((t) => Object.fromEntries(TREE_KEYS.map((k) => [k, Array.from(t[k])]))),
  };
}
