#!/usr/bin/env python3
"""scikit-learn's MLPRegressor on the two regression sets of docs/regression.md, for the table
there: R² on the test rows for seeds (random_state) 1 to 5, their mean, least and greatest.

    /usr/bin/python3 scripts/regression/mlpregressor.py      (from the repository root)

Needs Debian's scikit-learn (apt-get install python3-sklearn; 1.2.1 on Debian 12), nothing else,
and downloads nothing: it reads the CSV files in data/ (made from the data scikit-learn ships, see
their README.md), the same files the C# side reads. The split is the C# side's: the first 80 % of
the rows (rounded) to learn from, the rest to test on. Inputs go through a StandardScaler fitted on
the training rows in every configuration, as the C# side's Scaler.FitStandard; each configuration
is printed as one line of the table, and a linear regression's R² after them, for scale.
"""

import csv
import warnings

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SETS = [("diabetes", "data/diabetes/diabetes.csv"), ("friedman1", "data/friedman1/friedman1.csv")]
SEEDS = range(1, 6)

CONFIGURATIONS = [
    ("MLPRegressor() (defaults: 100 ReLU units, Adam 0.001, batches of 200, at most 200 epochs)",
     lambda seed: make_pipeline(StandardScaler(), MLPRegressor(random_state=seed))),
    ("MLPRegressor(max_iter=2000)",
     lambda seed: make_pipeline(StandardScaler(), MLPRegressor(random_state=seed, max_iter=2000))),
    ("MLPRegressor() with standard-scaled targets (TransformedTargetRegressor)",
     lambda seed: TransformedTargetRegressor(make_pipeline(StandardScaler(), MLPRegressor(random_state=seed)), transformer=StandardScaler())),
]


def load(path):
    with open(path, newline="") as f:
        rows = [[float(v) for v in row] for row in list(csv.reader(f))[1:]]
    data = np.array(rows)
    return data[:, :-1], data[:, -1]


def main():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    for name, path in SETS:
        x, y = load(path)
        # Math.Round(0.8 × n, MidpointRounding.AwayFromZero), as the C# side splits.
        n = int(np.floor(0.8 * len(x) + 0.5))
        for label, make in CONFIGURATIONS:
            scores = [r2_score(y[n:], make(seed).fit(x[:n], y[:n]).predict(x[n:])) for seed in SEEDS]
            print(f"{name} | {label} | mean {np.mean(scores):.3f} | {min(scores):.3f} … {max(scores):.3f} | "
                  + " ".join(f"{s:.3f}" for s in scores))
        linear = r2_score(y[n:], LinearRegression().fit(x[:n], y[:n]).predict(x[n:]))
        print(f"{name} | LinearRegression(), for scale | {linear:.3f}")


if __name__ == "__main__":
    main()
