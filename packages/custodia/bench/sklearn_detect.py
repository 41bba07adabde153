"""scikit-learn's side of the detection benchmark (bench/detect.mjs), on exactly the rows,
features and folds the JavaScript side used: it writes the encoded matrix (float64,
row-major), the fold of each row and whether it is an attack; this trains and scores
IsolationForest (t=100, at each subsample size psi given, as ours) on one core.

Usage: python3 sklearn_detect.py DIR SECONDS PSI...  ->  one JSON object on stdout, keyed by psi.
"""
import json
import os
import sys
import time

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score


def main():
    directory, seconds = sys.argv[1], float(sys.argv[2])
    meta = json.load(open(os.path.join(directory, "meta.json")))
    rows, width = meta["rows"], meta["width"]
    x = np.fromfile(os.path.join(directory, "matrix.f64"), dtype="<f8").reshape(rows, width)
    fold = np.fromfile(os.path.join(directory, "fold.i32"), dtype="<i4")
    attack = np.fromfile(os.path.join(directory, "attack.u8"), dtype="u1").astype(bool)
    print(json.dumps({psi: figures(x, fold, attack, meta["folds"], seconds, int(psi)) for psi in sys.argv[3:]}))


def figures(x, fold, attack, folds, seconds, psi):
    rows = len(x)
    # Quality: 5-fold CV, each fold's forest trained on the normal rows of the others.
    scores = np.empty(rows)
    for f in range(folds):
        train = (fold != f) & ~attack
        model = IsolationForest(n_estimators=100, max_samples=psi, random_state=f, n_jobs=1).fit(x[train])
        held = fold == f
        scores[held] = -model.score_samples(x[held])
    auc = roc_auc_score(attack, scores)

    # Speed: trained on every normal row, scoring every row, repeatedly; median rows/s.
    t0 = time.perf_counter()
    model = IsolationForest(n_estimators=100, max_samples=psi, random_state=0, n_jobs=1).fit(x[~attack])
    train_ms = (time.perf_counter() - t0) * 1000
    model.score_samples(x)
    rates = []
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        s = time.perf_counter()
        model.score_samples(x)
        rates.append(rows / (time.perf_counter() - s))
    rates.sort()
    return {"auc": auc, "rows_per_second": rates[len(rates) // 2], "runs": len(rates), "train_ms": train_ms}


main()
