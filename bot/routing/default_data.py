"""The default model's training set: our labels for rows of complaints_train.csv (kept as row
references, never the texts) and example sentences we wrote ourselves."""

from __future__ import annotations

import csv
from pathlib import Path

DATA = Path(__file__).with_name("data")
DEFAULT_LABELS = DATA / "default_labels.csv"  # row (1 = first data row), label
SEED_EXAMPLES = DATA / "seed_examples.csv"  # text, label: written for this project
# The shared data folder sits beside the project checkout (see README).
DEFAULT_TRAINING_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "complaints_train.csv"


def default_training_set(complaints_csv: Path = DEFAULT_TRAINING_CSV) -> tuple[list[str], list[str]]:
    with Path(complaints_csv).open(encoding="utf-8-sig", newline="") as file:
        texts = [row["text"] for row in csv.DictReader(file)]
    labelled_texts: list[str] = []
    labels: list[str] = []
    with DEFAULT_LABELS.open(encoding="utf-8", newline="") as file:
        for record in csv.DictReader(file):
            row = int(record["row"])
            if not 1 <= row <= len(texts):
                raise ValueError(f"{DEFAULT_LABELS}: row {row} is not in {complaints_csv} ({len(texts)} rows)")
            labelled_texts.append(texts[row - 1])
            labels.append(record["label"])
    seed_texts, seed_labels = seed_examples()
    return labelled_texts + seed_texts, labels + seed_labels


def seed_examples() -> tuple[list[str], list[str]]:
    with SEED_EXAMPLES.open(encoding="utf-8", newline="") as file:
        rows = [(r["text"], r["label"]) for r in csv.DictReader(file)]
    return [t for t, _ in rows], [label for _, label in rows]
