"""Training a routing model: NB-weighted linear SVMs over tf-idf words and characters.

Why this learner: on 6,556 real citizen messages (7 departments, 5-fold cross-validation)
it beat a plain linear SVM, logistic regression, ridge and complement naive Bayes on the same
features (docs/benchmarks.md). Each category gets a one-vs-rest linear SVM on features scaled
by their naive-Bayes log-count ratio (Wang & Manning 2012), which favours the words that tell
that category apart. scikit-learn is needed to train only; the result is a plain LinearModel.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.routing.features import FeatureConfig, MessageFeatures, extract
from bot.routing.model import LinearModel
from bot.routing.tokenizer import Tokenizer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingConfig:
    features: FeatureConfig = field(default_factory=FeatureConfig)
    min_document_frequency: int = 2
    svm_c: float = 0.5
    nb_smoothing: float = 1.0
    calibration_folds: int = 3
    seed: int = 0
    # Keep only the features that weigh most for some category: the rest barely move a score
    # but cost memory and load time in the bot.
    max_features: int | None = 200_000
    svm_max_iterations: int = 3000


def featurize(tokenizer: Tokenizer, texts: Sequence[str], config: FeatureConfig) -> list[MessageFeatures]:
    return [extract(tokenizer, text, config) for text in texts]


def train(tokenizer: Tokenizer, texts: Sequence[str], labels: Sequence[str], config: TrainingConfig = TrainingConfig()) -> LinearModel:
    features = featurize(tokenizer, texts, config.features)
    model = fit(features, labels, config)
    model.temperature = calibrate_temperature(features, labels, config)
    return model


def fit(features: Sequence[MessageFeatures], labels: Sequence[str], config: TrainingConfig) -> LinearModel:
    """Vocabularies and idf from these messages, then one NB-weighted SVM per category."""
    from sklearn.svm import LinearSVC

    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError("training needs at least two categories")
    word_vocabulary = _vocabulary((f.words for f in features), config.min_document_frequency, start=0)
    char_vocabulary = _vocabulary((f.chars for f in features), config.min_document_frequency, start=len(word_vocabulary))
    n_features = len(word_vocabulary) + len(char_vocabulary)
    idf = _idf(features, word_vocabulary, char_vocabulary, n_features)
    model = LinearModel(
        labels=classes,
        word_vocabulary=word_vocabulary,
        char_vocabulary=char_vocabulary,
        idf=idf,
        weights=np.zeros((n_features, len(classes)), dtype=np.float32),
        bias=np.zeros(len(classes), dtype=np.float32),
        temperature=1.0,
        config=config.features,
    )
    matrix = design_matrix(model, features)
    present = matrix.copy()
    present.data[:] = 1.0
    y = np.asarray(labels)
    for column, label in enumerate(classes):
        positive = y == label
        ratio = _nb_log_ratio(present, positive, config.nb_smoothing)
        svm = LinearSVC(C=config.svm_c, class_weight="balanced", max_iter=config.svm_max_iterations, random_state=config.seed)
        svm.fit(matrix.multiply(ratio).tocsr(), positive.astype(int))
        # Scaling the features by `ratio` before the SVM is the same as scaling its weights after.
        model.weights[:, column] = svm.coef_.ravel() * ratio
        model.bias[column] = svm.intercept_[0]
    if config.max_features is not None and n_features > config.max_features:
        model = _prune(model, config.max_features)
    return model


def _prune(model: LinearModel, keep: int) -> LinearModel:
    importance = np.abs(model.weights).max(axis=1)
    kept = np.sort(np.argpartition(-importance, keep)[:keep])
    new_row = {int(old): new for new, old in enumerate(kept)}
    return LinearModel(
        labels=model.labels,
        word_vocabulary={f: new_row[r] for f, r in model.word_vocabulary.items() if r in new_row},
        char_vocabulary={f: new_row[r] for f, r in model.char_vocabulary.items() if r in new_row},
        idf=model.idf[kept],
        weights=np.ascontiguousarray(model.weights[kept]),
        bias=model.bias,
        temperature=model.temperature,
        config=model.config,
    )


def design_matrix(model: LinearModel, features: Sequence[MessageFeatures]):  # type: ignore[no-untyped-def]
    """Messages as rows, vectorised exactly as LinearModel.scores does it."""
    from scipy.sparse import csr_matrix

    vectors = [model.vectorize(message) for message in features]
    indptr = np.cumsum([0] + [len(rows) for rows, _ in vectors])
    indices = np.concatenate([rows for rows, _ in vectors]) if vectors else np.zeros(0, dtype=np.int64)
    values = np.concatenate([values for _, values in vectors]) if vectors else np.zeros(0, dtype=np.float32)
    return csr_matrix((values, indices, indptr), shape=(len(features), len(model.idf)))


def decision_scores(model: LinearModel, features: Sequence[MessageFeatures]) -> np.ndarray:
    return np.asarray(design_matrix(model, features) @ model.weights) + model.bias


def calibrate_temperature(features: Sequence[MessageFeatures], labels: Sequence[str], config: TrainingConfig) -> float:
    """The softmax temperature that makes out-of-fold probabilities most likely (least log loss)."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    counts = Counter(labels)
    folds = min(config.calibration_folds, min(counts.values()))
    if folds < 2:
        log.info("too few examples per category to calibrate; temperature stays 1")
        return 1.0
    classes = sorted(counts)
    scores = np.zeros((len(y), len(classes)))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=config.seed)
    for train_rows, test_rows in splitter.split(np.zeros(len(y)), y):
        fold_model = fit([features[i] for i in train_rows], y[train_rows].tolist(), config)
        fold_scores = decision_scores(fold_model, [features[i] for i in test_rows])
        # A fold may lack a category; its column stays very negative.
        full = np.full((len(test_rows), len(classes)), -1e3)
        for column, label in enumerate(fold_model.labels):
            full[:, classes.index(label)] = fold_scores[:, column]
        scores[test_rows] = full
    truth = np.array([classes.index(label) for label in y])
    best_temperature, best_loss = 1.0, math.inf
    for temperature in np.geomspace(0.02, 5.0, 120):
        z = scores / temperature
        z -= z.max(axis=1, keepdims=True)
        log_probabilities = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -log_probabilities[np.arange(len(truth)), truth].mean()
        if loss < best_loss:
            best_temperature, best_loss = float(temperature), loss
    return best_temperature


def _vocabulary(counters, min_df: int, start: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    document_frequency: Counter[str] = Counter()
    for counts in counters:
        document_frequency.update(counts.keys())
    kept = sorted(f for f, df in document_frequency.items() if df >= min_df)
    return {f: i for i, f in enumerate(kept, start=start)}


def _idf(features: Sequence[MessageFeatures], words: dict[str, int], chars: dict[str, int], size: int) -> np.ndarray:
    document_frequency = np.zeros(size)
    for message in features:
        for vocabulary, counts in ((words, message.words), (chars, message.chars)):
            rows = [vocabulary[f] for f in counts if f in vocabulary]
            document_frequency[rows] += 1
    n = len(features)
    return (np.log((1 + n) / (1 + document_frequency)) + 1).astype(np.float32)


def _nb_log_ratio(present, positive: np.ndarray, alpha: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    p = np.asarray(present[positive].sum(axis=0)).ravel() + alpha
    q = np.asarray(present[~positive].sum(axis=0)).ravel() + alpha
    return np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
