#!/usr/bin/python3
"""Trains a small scikit-learn random forest (normal vs attack) on the NSL-KDD 20% fixture
as Custodia encodes it (encode-nsl-kdd.mjs), and exports it as ONNX: one ai.onnx.ml
TreeEnsembleClassifier, written node by node with the `onnx` package's helpers (Debian's
python3-onnx; skl2onnx is not packaged). This is the "model trained elsewhere" that the
ONNX scorer's tests import. Tests never run Python: the outputs are committed.

Writes, into the output directory:
  nsl-kdd-random-forest.onnx        the model: input X float32 [N, 39], outputs label
                                    int64 [N] and probabilities float32 [N, 2] (normal, attack)
  nsl-kdd-random-forest.onnx.json   its Custodia sidecar (schema, output, threshold)
  nsl-kdd-random-forest.expected.json  scikit-learn's P(attack) for the fixture's first
                                    500 records, which onnxruntime must reproduce to 1e-6

Exactness: scikit-learn compares float32 features with float64 thresholds (midpoints). ONNX
thresholds here are float32, so each is rounded *down* to the largest float32 not above the
midpoint: for a float32 x, x <= t exactly when x <= that float32, so every row takes the
same path in both.

Usage: /usr/bin/python3 make-nsl-kdd-onnx.py encoded.csv OUT_DIR
"""
import json
import sys

import numpy as np
import onnx
import sklearn
from onnx import TensorProto, helper
from sklearn.ensemble import RandomForestClassifier

SEED = 0
TREES = 10
DEPTH = 6
EXPECTED_ROWS = 500


def read(path):
    with open(path) as f:
        header = f.readline().strip().split(',')
        rows = [line.rstrip('\n').split(',') for line in f if line.strip()]
    names = header[:-1]
    x = np.array([[float(v) for v in r[:-1]] for r in rows], dtype=np.float64).astype(np.float32)
    y = np.array([0 if r[-1] == 'normal' else 1 for r in rows], dtype=np.int64)
    return names, x, y


def float32_at_most(t):
    f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def tree_ensemble(forest, width):
    attrs = {k: [] for k in ['nodes_treeids', 'nodes_nodeids', 'nodes_featureids', 'nodes_modes', 'nodes_values',
                             'nodes_truenodeids', 'nodes_falsenodeids', 'class_treeids', 'class_nodeids', 'class_ids', 'class_weights']}
    n = len(forest.estimators_)
    for t, est in enumerate(forest.estimators_):
        tree = est.tree_
        for i in range(tree.node_count):
            left, right = int(tree.children_left[i]), int(tree.children_right[i])
            attrs['nodes_treeids'].append(t)
            attrs['nodes_nodeids'].append(i)
            if left == -1:
                attrs['nodes_featureids'].append(0)
                attrs['nodes_modes'].append('LEAF')
                attrs['nodes_values'].append(0.0)
                attrs['nodes_truenodeids'].append(0)
                attrs['nodes_falsenodeids'].append(0)
                value = tree.value[i][0]
                share = value / value.sum()  # a leaf's class shares, as predict_proba averages them
                for c in range(2):
                    attrs['class_treeids'].append(t)
                    attrs['class_nodeids'].append(i)
                    attrs['class_ids'].append(c)
                    attrs['class_weights'].append(float(share[c]) / n)
            else:
                attrs['nodes_featureids'].append(int(tree.feature[i]))
                attrs['nodes_modes'].append('BRANCH_LEQ')
                attrs['nodes_values'].append(float32_at_most(float(tree.threshold[i])))
                attrs['nodes_truenodeids'].append(left)
                attrs['nodes_falsenodeids'].append(right)
    node = helper.make_node('TreeEnsembleClassifier', ['X'], ['label', 'probabilities'], domain='ai.onnx.ml',
                            classlabels_int64s=[0, 1], post_transform='NONE', **attrs)
    graph = helper.make_graph([node], 'custodia-nsl-kdd-random-forest',
                              [helper.make_tensor_value_info('X', TensorProto.FLOAT, ['N', width])],
                              [helper.make_tensor_value_info('label', TensorProto.INT64, ['N']),
                               helper.make_tensor_value_info('probabilities', TensorProto.FLOAT, ['N', 2])])
    model = helper.make_model(graph, producer_name='custodia make-nsl-kdd-onnx.py', producer_version=sklearn.__version__,
                              opset_imports=[helper.make_opsetid('', 13), helper.make_opsetid('ai.onnx.ml', 1)])
    model.ir_version = 8
    model.doc_string = f'scikit-learn {sklearn.__version__} RandomForestClassifier(n_estimators={TREES}, max_depth={DEPTH}, random_state={SEED}) on NSL-KDD KDDTrain+_20Percent (normal vs attack)'
    onnx.checker.check_model(model)
    return model


def main(encoded, out_dir):
    names, x, y = read(encoded)
    forest = RandomForestClassifier(n_estimators=TREES, max_depth=DEPTH, random_state=SEED, n_jobs=1).fit(x, y)
    model = tree_ensemble(forest, x.shape[1])
    base = f'{out_dir}/nsl-kdd-random-forest'
    onnx.save(model, f'{base}.onnx')
    sidecar = {'format': 'custodia-onnx-sidecar', 'version': 1, 'schema': {'id': 'nsl-kdd', 'version': 1}, 'features': names,
               'input': 'X', 'output': {'name': 'probabilities', 'normalColumn': 0}, 'threshold': 0.5}
    with open(f'{base}.onnx.json', 'w') as f:
        json.dump(sidecar, f, indent=2)
        f.write('\n')
    p = forest.predict_proba(x[:EXPECTED_ROWS])[:, 1]
    expected = {'rows': EXPECTED_ROWS, 'attackProbability': [round(float(v), 9) for v in p],
                'versions': {'python': sys.version.split()[0], 'scikit-learn': sklearn.__version__, 'onnx': onnx.__version__, 'numpy': np.__version__}}
    with open(f'{base}.expected.json', 'w') as f:
        json.dump(expected, f)
        f.write('\n')
    print(f'trained on {len(y)} rows ({int(y.sum())} attacks); training accuracy {forest.score(x, y):.4f}; '
          f'{sum(e.tree_.node_count for e in forest.estimators_)} nodes', file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
