"""scikit-learn's side of the held-out attack family figures (bench/detect-holdout.mjs), on
exactly the rows, features, classes and fold the JavaScript side used. For each attack
family: HistGradientBoostingClassifier (the settings of sklearn_models.py) and
RandomForestClassifier (100 trees) train on fold 1-4 rows without any row of the family,
then classify fold 0 and every row of the family; a row is detected when the predicted
class is not normal (predict: each model's own decision). One core: n_jobs=1 and the
caller sets the thread variables.

Usage: python3 sklearn_holdout.py DIR  ->  one JSON object on stdout:
{"hgb": {"DoS": {"detection", "false_positive_rate"}, ...}, "rf": {...}}.
"""
import json
import os
import sys

import numpy as np

from sklearn_models import hgb, rf


def held_out(make, x, y, fold, family, seed):
    train = (fold != 0) & (y != family)
    test = (fold == 0) | (y == family)
    model = make(seed).fit(x[train], y[train])
    predicted = np.full(len(y), -1)
    predicted[test] = model.predict(x[test])
    held = y == family
    normal = (fold == 0) & (y == 0)
    return {"detection": float(np.mean(predicted[held] != 0)), "false_positive_rate": float(np.mean(predicted[normal] != 0))}


def main():
    directory = sys.argv[1]
    meta = json.load(open(os.path.join(directory, "meta.json")))
    rows, width = meta["rows"], meta["width"]
    x = np.fromfile(os.path.join(directory, "matrix.f64"), dtype="<f8").reshape(rows, width)
    y = np.fromfile(os.path.join(directory, "y.i32"), dtype="<i4")
    fold = np.fromfile(os.path.join(directory, "fold.i32"), dtype="<i4")
    out = {}
    for name, make in (("hgb", hgb), ("rf", rf)):
        out[name] = {family: held_out(make, x, y, fold, c, 1000 + c) for c, family in enumerate(meta["classes"]) if c > 0}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
