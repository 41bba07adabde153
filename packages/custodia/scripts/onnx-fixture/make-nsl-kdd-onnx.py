#!/usr/bin/python3
"""Trains two small scikit-learn random forests — normal vs attack, and the five classes
(normal, DoS, Probe, R2L, U2R) — on the NSL-KDD 20% fixture as Custodia encodes it
(encode-nsl-kdd.mjs), and exports each as ONNX: one ai.onnx.ml
TreeEnsembleClassifier, written node by node with the `onnx` package's helpers (Debian's
python3-onnx; skl2onnx is not packaged). This is the "model trained elsewhere" that the
ONNX scorer's tests import. Tests never run Python: the outputs are committed.

Writes, into the output directory:
  nsl-kdd-random-forest.onnx        the model: input X float32 [N, 39], outputs label
                                    int64 [N] and probabilities float32 [N, 2] (normal, attack)
  nsl-kdd-random-forest.onnx.json   its Custodia sidecar (schema, output, threshold)
  nsl-kdd-random-forest.expected.json  scikit-learn's P(attack) for the fixture's first
                                    500 records, which onnxruntime must reproduce to 1e-6
  nsl-kdd-random-forest-classes.onnx  the five-class model: input X float32 [N, 39], outputs
                                    label int64 [N] and probabilities float32 [N, 5] in
                                    scikit-learn's class order (DoS, Probe, R2L, U2R, normal)
  nsl-kdd-random-forest-classes.onnx.json  its sidecar, naming the classes
  nsl-kdd-random-forest-classes.expected.json  scikit-learn's 1 - P(normal) and most probable
                                    attack class for the first 500 records

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
    classes = np.array([r[-1] for r in rows])
    return names, x, y, classes


def float32_at_most(t):
    f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def tree_ensemble(forest, width, name, what):
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
                for c in range(len(share)):
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
                            classlabels_int64s=list(range(len(forest.classes_))), post_transform='NONE', **attrs)
    graph = helper.make_graph([node], name,
                              [helper.make_tensor_value_info('X', TensorProto.FLOAT, ['N', width])],
                              [helper.make_tensor_value_info('label', TensorProto.INT64, ['N']),
                               helper.make_tensor_value_info('probabilities', TensorProto.FLOAT, ['N', len(forest.classes_)])])
    model = helper.make_model(graph, producer_name='custodia make-nsl-kdd-onnx.py', producer_version=sklearn.__version__,
                              opset_imports=[helper.make_opsetid('', 13), helper.make_opsetid('ai.onnx.ml', 1)])
    model.ir_version = 8
    model.doc_string = f'scikit-learn {sklearn.__version__} RandomForestClassifier(n_estimators={TREES}, max_depth={DEPTH}, random_state={SEED}) on NSL-KDD KDDTrain+_20Percent ({what})'
    onnx.checker.check_model(model)
    return model


def write_json(path, value):
    with open(path, 'w') as f:
        json.dump(value, f, indent=2 if path.endswith('.onnx.json') else None)
        f.write('\n')


def versions():
    return {'python': sys.version.split()[0], 'scikit-learn': sklearn.__version__, 'onnx': onnx.__version__, 'numpy': np.__version__}


def main(encoded, out_dir):
    names, x, y, classes = read(encoded)
    forest = RandomForestClassifier(n_estimators=TREES, max_depth=DEPTH, random_state=SEED, n_jobs=1).fit(x, y)
    model = tree_ensemble(forest, x.shape[1], 'custodia-nsl-kdd-random-forest', 'normal vs attack')
    base = f'{out_dir}/nsl-kdd-random-forest'
    onnx.save(model, f'{base}.onnx')
    sidecar = {'format': 'custodia-onnx-sidecar', 'version': 1, 'schema': {'id': 'nsl-kdd', 'version': 1}, 'features': names,
               'input': 'X', 'output': {'name': 'probabilities', 'normalColumn': 0}, 'threshold': 0.5}
    write_json(f'{base}.onnx.json', sidecar)
    p = forest.predict_proba(x[:EXPECTED_ROWS])[:, 1]
    write_json(f'{base}.expected.json', {'rows': EXPECTED_ROWS, 'attackProbability': [round(float(v), 9) for v in p], 'versions': versions()})
    print(f'trained on {len(y)} rows ({int(y.sum())} attacks); training accuracy {forest.score(x, y):.4f}; '
          f'{sum(e.tree_.node_count for e in forest.estimators_)} nodes', file=sys.stderr)

    # The five classes, in scikit-learn's (sorted) order: normal is not column 0.
    multi = RandomForestClassifier(n_estimators=TREES, max_depth=DEPTH, random_state=SEED, n_jobs=1).fit(x, classes)
    labels = [str(c) for c in multi.classes_]
    normal = labels.index('normal')
    base = f'{out_dir}/nsl-kdd-random-forest-classes'
    onnx.save(tree_ensemble(multi, x.shape[1], 'custodia-nsl-kdd-random-forest-classes', ', '.join(labels)), f'{base}.onnx')
    write_json(f'{base}.onnx.json', {**sidecar, 'output': {'name': 'probabilities', 'classes': labels}})
    p = multi.predict_proba(x[:EXPECTED_ROWS])
    attack = [c for c in range(len(labels)) if c != normal]
    expected = {'rows': EXPECTED_ROWS, 'attackProbability': [round(float(1 - row[normal]), 9) for row in p],
                'attackClass': [labels[max(attack, key=lambda c: (row[c], -c))] for row in p], 'versions': versions()}
    write_json(f'{base}.expected.json', expected)
    print(f'five classes ({", ".join(labels)}): training accuracy {multi.score(x, classes):.4f}; '
          f'{sum(e.tree_.node_count for e in multi.estimators_)} nodes', file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
