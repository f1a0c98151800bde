"""5-fold cross-validated accuracy of `route train`'s learner on a labelled CSV.

    python bench/routing_cv.py --data ../shared/data/complaints_train.csv [--folds 5]

Prints per-fold figures, then one JSON line: macro_f1, accuracy (means over folds), and the
training time per fold. With --default, also top-1 and top-3 over the real messages labelled
with a category in each test fold (the kind the targets are about) and how many real messages
labelled `other` go to `other`; the with_written_ figures count our written examples too. (The
keys say compound_ because the first labels put only compound life in categories; since the
labels route by topic, not by place, they count every message some category covers.) With
--calibrate, also how well the probabilities are calibrated (ece) and, at the bot's threshold
for asking the resident to choose, how often it asks and how often it is right when it does not.
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

from bot.routing.default_data import default_training_set, seed_examples  # noqa: E402
from bot.routing.engine import CONFIDENT  # noqa: E402
from bot.routing.evaluation import read_labelled_csv, score  # noqa: E402
from bot.routing.features import FeatureConfig  # noqa: E402
from bot.routing.tokenizer import Tokenizer  # noqa: E402
from bot.routing.training import TrainingConfig, calibrate, decision_scores, featurize, fit  # noqa: E402


def _compound_life_figures(labels: list[str], scores: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """Top-1 and top-3 on messages labelled with a category, and how many of the others go to `other`."""
    ranked = np.asarray(labels)[np.argsort(-scores, axis=1)[:, :3]]
    inside = truth != "other"
    top1 = float((ranked[inside, 0] == truth[inside]).mean())
    top3 = float((ranked[inside] == truth[inside, None]).any(axis=1).mean())
    other = float((ranked[~inside, 0] == "other").mean())
    return top1, top3, other


def _reliability(confidence: np.ndarray, correct: np.ndarray) -> dict[str, float]:
    """How far the top probability is from how often it is right (expected calibration error
    over ten equal bins), and how the bot fares at its threshold for asking the resident."""
    bins = np.minimum((confidence * 10).astype(int), 9)
    ece = sum(abs(correct[bins == b].mean() - confidence[bins == b].mean()) * (bins == b).mean() for b in range(10) if (bins == b).any())
    for low, high in ((0.0, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 0.95), (0.95, 1.01)):
        band = (confidence >= low) & (confidence < high)
        if band.any():
            print(f"top probability {low:.2f}-{min(high, 1.0):.2f}: {band.sum()} messages, mean {confidence[band].mean():.3f}, right {correct[band].mean():.3f}")
    confident = confidence >= CONFIDENT
    return {"ece": round(float(ece), 4), "asks_share": round(float(1 - confident.mean()), 4),
            "right_when_not_asking": round(float(correct[confident].mean()), 4)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True, help="a text,label CSV, or with --default complaints_train.csv")
    parser.add_argument("--default", action="store_true", help="cross-validate the default model's training set instead")
    parser.add_argument("--calibrate", action="store_true", help="calibrate each fold's model as `route train` does (slower)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--max-chars", type=int, default=FeatureConfig.max_chars)
    parser.add_argument("--char-min", type=int, default=FeatureConfig.char_min)
    parser.add_argument("--char-max", type=int, default=FeatureConfig.char_max)
    parser.add_argument("--max-word-chars", type=int, default=FeatureConfig.max_word_chars)
    parser.add_argument("--svm-c", type=float, default=TrainingConfig.svm_c)
    parser.add_argument("--nb-smoothing", type=float, default=TrainingConfig.nb_smoothing)
    parser.add_argument("--min-df", type=int, default=TrainingConfig.min_document_frequency)
    parser.add_argument("--plain-svm-share", type=float, default=TrainingConfig.plain_svm_share)
    parser.add_argument("--word-pairs", action=argparse.BooleanOptionalAction, default=FeatureConfig.word_pairs)
    parser.add_argument("--max-features", type=int, default=TrainingConfig.max_features)
    args = parser.parse_args()

    config = TrainingConfig(
        features=replace(
            FeatureConfig(), max_chars=args.max_chars, char_min=args.char_min, char_max=args.char_max, max_word_chars=args.max_word_chars,
            word_pairs=args.word_pairs,
        ),
        plain_svm_share=args.plain_svm_share,
        svm_c=args.svm_c,
        nb_smoothing=args.nb_smoothing,
        min_document_frequency=args.min_df,
        max_features=args.max_features,
    )
    texts, labels = default_training_set(args.data) if args.default else read_labelled_csv(args.data)
    features = featurize(Tokenizer(), texts, config.features)
    y = np.asarray(labels)
    f1s, accuracies, seconds = [], [], []
    confidence, correct = np.zeros(len(texts)), np.zeros(len(texts), dtype=bool)
    compound_life: list[tuple[float, float, float]] = []
    real_compound_life: list[tuple[float, float, float]] = []
    # The default set ends with the sentences we wrote; the targets are about real messages.
    real_rows = len(texts) - len(seed_examples()[0]) if args.default else len(texts)
    for fold, (train_rows, test_rows) in enumerate(StratifiedKFold(args.folds, shuffle=True, random_state=0).split(texts, y)):
        started = time.perf_counter()
        model = fit(features.subset(train_rows), y[train_rows].tolist(), config)
        if args.calibrate:
            calibrate(model, features.subset(train_rows), y[train_rows].tolist(), config)
        seconds.append(time.perf_counter() - started)
        test_scores = decision_scores(model, features.subset(test_rows).messages)
        predicted = np.asarray(model.labels)[test_scores.argmax(axis=1)]
        confidence[test_rows] = model.probabilities(test_scores).max(axis=1)
        correct[test_rows] = predicted == y[test_rows]
        report = score(y[test_rows].tolist(), predicted.tolist())
        f1s.append(report.macro_f1)
        accuracies.append(report.accuracy)
        if args.default:
            compound_life.append(_compound_life_figures(model.labels, test_scores, y[test_rows]))
            real = test_rows < real_rows
            real_compound_life.append(_compound_life_figures(model.labels, test_scores[real], y[test_rows][real]))
        print(f"fold {fold + 1}: macro_f1 {report.macro_f1:.4f} accuracy {report.accuracy:.4f} ({seconds[-1]:.0f} s)", flush=True)
    extra = _reliability(confidence, correct) if args.calibrate else {}
    if compound_life:
        for prefix, figures in (("", real_compound_life), ("with_written_", compound_life)):
            top1, top3, other = np.mean(figures, axis=0)
            extra |= {f"{prefix}compound_top1": round(float(top1), 4), f"{prefix}compound_top3_recall": round(float(top3), 4),
                      f"{prefix}other_accuracy": round(float(other), 4)}
    print(json.dumps(extra | {"macro_f1": round(float(np.mean(f1s)), 4), "accuracy": round(float(np.mean(accuracies)), 4),
                      "macro_f1_std": round(float(np.std(f1s)), 4), "train_seconds_per_fold": round(float(np.mean(seconds)), 1),
                      "folds": args.folds, "n": len(texts), "config": vars(args) | {"data": str(args.data)}}))


if __name__ == "__main__":
    main()
