"""5-fold cross-validated accuracy of `route train`'s learner on a labelled CSV.

    python bench/routing_cv.py --data ../shared/data/complaints_train.csv [--folds 5]

Prints per-fold figures, then one JSON line: macro_f1, accuracy (means over folds), and the
training time per fold.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.routing.evaluation import read_labelled_csv, score  # noqa: E402
from bot.routing.features import FeatureConfig  # noqa: E402
from bot.routing.tokenizer import Tokenizer  # noqa: E402
from bot.routing.training import TrainingConfig, decision_scores, featurize, fit  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--max-chars", type=int, default=FeatureConfig.max_chars)
    parser.add_argument("--char-min", type=int, default=FeatureConfig.char_min)
    parser.add_argument("--svm-c", type=float, default=TrainingConfig.svm_c)
    parser.add_argument("--min-df", type=int, default=TrainingConfig.min_document_frequency)
    parser.add_argument("--max-features", type=int, default=TrainingConfig.max_features)
    args = parser.parse_args()

    config = TrainingConfig(
        features=replace(FeatureConfig(), max_chars=args.max_chars, char_min=args.char_min),
        svm_c=args.svm_c,
        min_document_frequency=args.min_df,
        max_features=args.max_features,
    )
    texts, labels = read_labelled_csv(args.data)
    features = featurize(Tokenizer(), texts, config.features)
    y = np.asarray(labels)
    f1s, accuracies, seconds = [], [], []
    for fold, (train_rows, test_rows) in enumerate(StratifiedKFold(args.folds, shuffle=True, random_state=0).split(texts, y)):
        started = time.perf_counter()
        model = fit(features.subset(train_rows), y[train_rows].tolist(), config)
        seconds.append(time.perf_counter() - started)
        predicted = np.asarray(model.labels)[decision_scores(model, features.subset(test_rows).messages).argmax(axis=1)]
        report = score(y[test_rows].tolist(), predicted.tolist())
        f1s.append(report.macro_f1)
        accuracies.append(report.accuracy)
        print(f"fold {fold + 1}: macro_f1 {report.macro_f1:.4f} accuracy {report.accuracy:.4f} ({seconds[-1]:.0f} s)", flush=True)
    print(json.dumps({"macro_f1": round(float(np.mean(f1s)), 4), "accuracy": round(float(np.mean(accuracies)), 4),
                      "macro_f1_std": round(float(np.std(f1s)), 4), "train_seconds_per_fold": round(float(np.mean(seconds)), 1),
                      "folds": args.folds, "n": len(texts), "config": vars(args) | {"data": str(args.data)}}))


if __name__ == "__main__":
    main()
