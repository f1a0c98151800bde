"""Measuring a router: per-category precision, recall and F1, accuracy, top-3 recall, speed."""

from __future__ import annotations

import csv
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.routing.model import Prediction


@dataclass(frozen=True)
class ClassScores:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Report:
    classes: list[ClassScores]
    macro_f1: float
    accuracy: float
    top3_recall: float
    ms_per_message: float
    n: int

    def summary(self) -> dict[str, float | int]:
        return {
            "macro_f1": round(self.macro_f1, 4),
            "accuracy": round(self.accuracy, 4),
            "top3_recall": round(self.top3_recall, 4),
            "ms_per_message": round(self.ms_per_message, 4),
            "n": self.n,
        }


# A message may name a second category after its primary one ("water;drainage"): the primary,
# first, is the one a message is trained and scored on.
SECONDARY_LABELS = re.compile(r"\s*[;|,/、]\s*")


def read_labelled_csv(path: Path, text_column: str = "text", label_column: str = "label") -> tuple[list[str], list[str]]:
    with Path(path).open(encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        missing = {text_column, label_column} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: no column {', '.join(sorted(missing))} (columns: {', '.join(reader.fieldnames or ())})")
        rows = [(row[text_column] or "", SECONDARY_LABELS.split((row[label_column] or "").strip())[0]) for row in reader]
    rows = [(text, label) for text, label in rows if label]
    return [t for t, _ in rows], [label for _, label in rows]


def score(truth: Sequence[str], predicted: Sequence[str], top3_hits: int | None = None, ms_per_message: float = 0.0) -> Report:
    labels = sorted(set(truth) | set(predicted))
    classes = []
    for label in labels:
        tp = sum(t == label and p == label for t, p in zip(truth, predicted))
        predicted_n = sum(p == label for p in predicted)
        support = sum(t == label for t in truth)
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        classes.append(ClassScores(label, precision, recall, f1, support))
    scored = [c for c in classes if c.support]  # a label only ever predicted adds no F1 of its own
    n = len(truth)
    accuracy = sum(t == p for t, p in zip(truth, predicted)) / n if n else 0.0
    return Report(
        classes=classes,
        macro_f1=sum(c.f1 for c in scored) / len(scored) if scored else 0.0,
        accuracy=accuracy,
        top3_recall=(top3_hits / n if n else 0.0) if top3_hits is not None else accuracy,
        ms_per_message=ms_per_message,
        n=n,
    )


def evaluate(classify: Callable[[str], list[Prediction]], texts: Sequence[str], labels: Sequence[str]) -> Report:
    """Classify each message as the bot would, one at a time, and time it."""
    predicted: list[str] = []
    top3_hits = 0
    started = time.perf_counter()
    for text, label in zip(texts, labels):
        top = classify(text)
        predicted.append(top[0].category if top else "")
        top3_hits += any(p.category == label for p in top[:3])
    elapsed = time.perf_counter() - started
    return score(labels, predicted, top3_hits, 1000 * elapsed / max(1, len(texts)))


def format_table(report: Report) -> str:
    lines = [f"{'category':<24} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}"]
    for c in report.classes:
        lines.append(f"{_pad(c.label, 24)} {c.precision:>9.4f} {c.recall:>9.4f} {c.f1:>9.4f} {c.support:>8}")
    return "\n".join(lines)


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal, where a Chinese character takes two columns."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - shown)
