/**
 * An isolation forest as the `model` member of a model file, and back:
 * `{ "width", "subsampleSize", "heightLimit", "trees": [{ "feature", "split", "left",
 * "right", "size" }] }`. Parsing is hostile input (see model-file.ts): types and ranges
 * here, then the IsolationForest constructor checks every tree's structure
 * (isolation-tree-check.ts) before it flattens any.
 */
import { FOREST_LIMITS, IsolationForest } from './isolation-forest.js';
import type { IsolationTreeArrays } from './isolation-tree.js';
import { exactKeys, finites, int32s, invalidModel, isRecord, positiveInteger } from './model-json-checks.js';

const TREE_KEYS = ['feature', 'split', 'left', 'right', 'size'] as const;
const FOREST_KEYS = ['width', 'subsampleSize', 'heightLimit', 'trees'] as const;

/** Tree nodes a forest member declares, counted before anything is allocated for them. */
export function forestJsonNodes(value: unknown): number {
  const trees = isRecord(value) ? value['trees'] : undefined;
  if (!Array.isArray(trees)) return 0;
  let nodes = 0;
  for (const tree of trees) nodes += isRecord(tree) && Array.isArray(tree['feature']) ? tree['feature'].length : 0;
  return nodes;
}

function parseTree(v: unknown, t: number): IsolationTreeArrays {
  const tree = exactKeys(v, TREE_KEYS, `tree ${t}`);
  return {
    feature: int32s(tree['feature'], -1, `tree ${t} feature`),
    split: finites(tree['split'], `tree ${t} split`),
    left: int32s(tree['left'], -1, `tree ${t} left`),
    right: int32s(tree['right'], -1, `tree ${t} right`),
    size: int32s(tree['size'], 1, `tree ${t} size`),
  };
}

/** The forest of a model file's member `value`, for rows `width` wide. Throws `model-invalid`. */
export function forestFromJson(value: unknown, width: number): IsolationForest {
  const model = exactKeys(value, FOREST_KEYS, 'the forest');
  if (positiveInteger(model['width'], 'width') !== width) throw invalidModel('the forest width is not the number of schema features');
  const trees = model['trees'];
  if (!Array.isArray(trees) || trees.length < 1 || trees.length > FOREST_LIMITS.trees) throw invalidModel(`trees must be an array of 1 to ${FOREST_LIMITS.trees} trees`);
  const params = { width, subsampleSize: positiveInteger(model['subsampleSize'], 'subsampleSize'), heightLimit: positiveInteger(model['heightLimit'], 'heightLimit') };
  return new IsolationForest(params, trees.map(parseTree));
}

/** The JSON form of a forest, members in a fixed order. */
export function forestToJson(forest: IsolationForest): Record<string, unknown> {
  return {
    width: forest.params.width,
    subsampleSize: forest.params.subsampleSize,
    heightLimit: forest.params.heightLimit,
    trees: forest.trees.map((t) => Object.fromEntries(TREE_KEYS.map((k) => [k, Array.from(t[k])]))),
  };
}
