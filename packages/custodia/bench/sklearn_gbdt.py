"""scikit-learn's HistGradientBoostingClassifier on exactly the rows, features and folds of
bench/detect-gbdt-nsl-kdd.mjs (which writes them), with the same settings where the two
libraries share them: learning rate 0.1, 31 leaves, up to 1000 rounds, early stopping on
a 10% validation split with patience 30. One core (the caller sets the thread variables).

Usage: python3 sklearn_gbdt.py DIR  ->  one JSON object on stdout.
"""
import json
import os
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score, roc_auc_score


def model(seed):
    return HistGradientBoostingClassifier(learning_rate=0.1, max_leaf_nodes=31, max_iter=1000, early_stopping=True,
                                          validation_fraction=0.1, n_iter_no_change=30, random_state=seed)


def main():
    directory = sys.argv[1]
    meta = json.load(open(os.path.join(directory, "meta.json")))
    rows, width, k = meta["rows"], meta["width"], meta["folds"]
    x = np.fromfile(os.path.join(directory, "matrix.f64"), dtype="<f8").reshape(rows, width)
    y = np.fromfile(os.path.join(directory, "y.i32"), dtype="<i4")
    fold = np.fromfile(os.path.join(directory, "fold.i32"), dtype="<i4")
    binary_score = np.empty(rows)
    multi_attack = np.empty(rows)
    predicted = np.empty(rows, dtype=np.int32)
    seconds = []
    for f in range(k):
        train, test = fold != f, fold == f
        t0 = time.process_time()
        b = model(f).fit(x[train], (y[train] != 0).astype(np.int32))
        m = model(f).fit(x[train], y[train])
        seconds.append(time.process_time() - t0)
        binary_score[test] = b.predict_proba(x[test])[:, 1]
        p = m.predict_proba(x[test])
        multi_attack[test] = 1 - p[:, list(m.classes_).index(0)]
        predicted[test] = m.classes_[p.argmax(axis=1)]
    attack = y != 0
    print(json.dumps({
        "aucBinaryModel": roc_auc_score(attack, binary_score),
        "aucFrom5ClassModel": roc_auc_score(attack, multi_attack),
        "macroF1": f1_score(y, predicted, average="macro"),
        "recall": [float(((predicted == c) & (y == c)).sum() / (y == c).sum()) for c in range(5)],
        "trainCpuSeconds": seconds,
    }))


main()
