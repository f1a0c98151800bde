"""Training a routing model: NB-weighted linear SVMs over tf-idf words and characters.

Why this learner: on 6,556 real citizen messages (7 departments, 5-fold cross-validation)
it beat a plain linear SVM, logistic regression, ridge and complement naive Bayes on the same
features (docs/benchmarks.md). Each category gets a one-vs-rest linear SVM on features scaled
by their naive-Bayes log-count ratio (Wang & Manning 2012), which favours the words that tell
that category apart, blended with a plain linear SVM on the same features. scikit-learn is
needed to train only; the result is a plain LinearModel.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.routing.features import CharCoder, FeatureConfig, MessageFeatures, extract
from bot.routing.model import LinearModel
from bot.routing.tokenizer import Tokenizer, normalize

log = logging.getLogger(__name__)
# Tuning a bias per category on held-out folds needs enough examples of each, or it chases noise.
MIN_EXAMPLES_FOR_OFFSETS = 100


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
    max_features: int | None = 100_000
    svm_max_iterations: int = 3000
    # How much of the final weights comes from a plain linear SVM beside the NB-weighted one.
    plain_svm_share: float = 0.3
    # The label for everything outside the categories proper ("other"). Being most of the
    # data, it wins too many close calls; its bias is lowered until the held-out folds are
    # routed as well inside it as outside it (the mean of the two accuracies is highest).
    catch_all_label: str | None = "other"


@dataclass(frozen=True)
class Featurized:
    """Training messages as features, with the character alphabet they were coded in."""

    coder: CharCoder
    messages: list[MessageFeatures]

    def subset(self, rows: Sequence[int]) -> Featurized:
        return Featurized(self.coder, [self.messages[i] for i in rows])


def featurize(tokenizer: Tokenizer, texts: Sequence[str], config: FeatureConfig) -> Featurized:
    coder = CharCoder.from_texts(normalize(text)[: config.max_chars] for text in texts)
    return Featurized(coder, [extract(tokenizer, coder, text, config) for text in texts])


def train(tokenizer: Tokenizer, texts: Sequence[str], labels: Sequence[str], config: TrainingConfig = TrainingConfig()) -> LinearModel:
    featurized = featurize(tokenizer, texts, config.features)
    model = fit(featurized, labels, config)
    calibrate(model, featurized, labels, config)
    return model


def fit(featurized: Featurized, labels: Sequence[str], config: TrainingConfig) -> LinearModel:
    """Vocabularies and idf from these messages, then per category an NB-weighted SVM blended
    with a plain one."""
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError("training needs at least two categories")
    messages = featurized.messages
    word_vocabulary = _word_vocabulary(messages, config.min_document_frequency)
    char_codes = _char_vocabulary(messages, config.min_document_frequency)
    n_features = len(word_vocabulary) + len(char_codes)
    model = LinearModel(
        labels=classes,
        word_vocabulary=word_vocabulary,
        char_codes=char_codes,
        coder=featurized.coder,
        idf=np.ones(n_features, dtype=np.float32),
        weights=np.zeros((n_features, len(classes)), dtype=np.float32),
        bias=np.zeros(len(classes), dtype=np.float32),
        temperature=1.0,
        config=config.features,
    )
    model.idf = _idf(model, messages)
    matrix = design_matrix(model, messages)
    present = matrix.copy()
    present.data[:] = 1.0
    y = np.asarray(labels)
    share = config.plain_svm_share
    nb_weights, nb_bias = np.zeros_like(model.weights), np.zeros_like(model.bias)
    plain_weights, plain_bias = np.zeros_like(model.weights), np.zeros_like(model.bias)
    for column, label in enumerate(classes):
        positive = y == label
        ratio = _nb_log_ratio(present, positive, config.nb_smoothing)
        # Scaling the features by `ratio` before the SVM is the same as scaling its weights after.
        coef, nb_bias[column] = _svm(matrix.multiply(ratio).tocsr(), positive, config)
        nb_weights[:, column] = coef * ratio
        if share > 0:
            plain_weights[:, column], plain_bias[column] = _svm(matrix, positive, config)
    # Both learners score the same features, so their blend is one linear model again: the
    # plain SVM's different mistakes are averaged away at no cost in memory or time. Each is
    # put on the same scale (its training scores' spread) before they are mixed.
    nb_spread = _spread(matrix, nb_weights, nb_bias)
    plain_spread = _spread(matrix, plain_weights, plain_bias) if share > 0 else 1.0
    model.weights = ((1 - share) * nb_weights / nb_spread + share * plain_weights / plain_spread).astype(np.float32)
    model.bias = ((1 - share) * nb_bias / nb_spread + share * plain_bias / plain_spread).astype(np.float32)
    if config.max_features is not None and n_features > config.max_features:
        model = _prune(model, config.max_features)
    return model


def _svm(matrix, positive: np.ndarray, config: TrainingConfig) -> tuple[np.ndarray, float]:  # type: ignore[no-untyped-def]
    from sklearn.svm import LinearSVC

    svm = LinearSVC(C=config.svm_c, class_weight="balanced", max_iter=config.svm_max_iterations, random_state=config.seed)
    svm.fit(matrix, positive.astype(int))
    return svm.coef_.ravel(), float(svm.intercept_[0])


def _spread(matrix, weights: np.ndarray, bias: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    return float(np.std(np.asarray(matrix @ weights) + bias)) or 1.0


def design_matrix(model: LinearModel, messages: Sequence[MessageFeatures]):  # type: ignore[no-untyped-def]
    """Messages as rows, vectorised exactly as LinearModel.scores does it."""
    from scipy.sparse import csr_matrix

    vectors = [model.vectorize(message) for message in messages]
    indptr = np.cumsum([0] + [len(rows) for rows, _ in vectors])
    indices = np.concatenate([rows for rows, _ in vectors]) if vectors else np.zeros(0, dtype=np.int64)
    values = np.concatenate([values for _, values in vectors]) if vectors else np.zeros(0, dtype=np.float32)
    return csr_matrix((values, indices, indptr), shape=(len(messages), len(model.idf)))


def decision_scores(model: LinearModel, messages: Sequence[MessageFeatures]) -> np.ndarray:
    return np.asarray(design_matrix(model, messages) @ model.weights) + model.bias


def calibrate(model: LinearModel, featurized: Featurized, labels: Sequence[str], config: TrainingConfig) -> None:
    """Fit the catch-all bias and the softmax temperature on out-of-fold scores."""
    folds = min(config.calibration_folds, min(Counter(labels).values()))
    if folds < 2:
        log.info("too few examples per category to calibrate; temperature stays 1")
        return
    scores, truth = _out_of_fold_scores(featurized, labels, config, folds, model.labels)
    if min(Counter(labels).values()) >= MIN_EXAMPLES_FOR_OFFSETS:
        offsets = _macro_f1_offsets(scores, truth)
        scores += offsets
        model.bias += offsets.astype(np.float32)
    if config.catch_all_label in model.labels:
        column = model.labels.index(config.catch_all_label)
        offset = _catch_all_offset(scores, truth, column)
        scores[:, column] += offset
        model.bias[column] += offset
    model.temperature = _temperature(scores, truth)


def _out_of_fold_scores(
    featurized: Featurized, labels: Sequence[str], config: TrainingConfig, folds: int, classes: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    scores = np.zeros((len(y), len(classes)))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=config.seed)
    for train_rows, test_rows in splitter.split(np.zeros(len(y)), y):
        fold_model = fit(featurized.subset(train_rows), y[train_rows].tolist(), config)
        fold_scores = decision_scores(fold_model, featurized.subset(test_rows).messages)
        # A fold may lack a category; its column stays very negative.
        full = np.full((len(test_rows), len(classes)), -1e3)
        for column, label in enumerate(fold_model.labels):
            full[:, classes.index(label)] = fold_scores[:, column]
        scores[test_rows] = full
    return scores, np.array([classes.index(label) for label in y])


def _macro_f1_offsets(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-category bias shifts that raise out-of-fold macro-F1 (coordinate ascent, two rounds)."""
    from sklearn.metrics import f1_score

    offsets = np.zeros(scores.shape[1])
    best = f1_score(truth, np.argmax(scores, axis=1), average="macro")
    for _ in range(2):
        for column in range(scores.shape[1]):
            for shift in np.linspace(-0.3, 0.3, 13):
                trial = offsets.copy()
                trial[column] = shift
                f1 = f1_score(truth, np.argmax(scores + trial, axis=1), average="macro")
                if f1 > best + 1e-9:
                    best, offsets = f1, trial
    return offsets


def _catch_all_offset(scores: np.ndarray, truth: np.ndarray, column: int) -> float:
    inside = truth != column
    if inside.all() or not inside.any():
        return 0.0
    best_offset, best_balance = 0.0, -1.0
    for offset in np.arange(0.0, -3.01, -0.1):
        predicted = np.argmax(scores + offset * (np.arange(scores.shape[1]) == column), axis=1)
        balance = ((predicted[inside] == truth[inside]).mean() + (predicted[~inside] == column).mean()) / 2
        if balance > best_balance + 1e-9:
            best_offset, best_balance = float(offset), balance
    return best_offset


def _temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The softmax temperature that makes the out-of-fold probabilities most likely."""
    best_temperature, best_loss = 1.0, math.inf
    for temperature in np.geomspace(0.02, 5.0, 120):
        z = scores / temperature
        z -= z.max(axis=1, keepdims=True)
        log_probabilities = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -log_probabilities[np.arange(len(truth)), truth].mean()
        if loss < best_loss:
            best_temperature, best_loss = float(temperature), loss
    return best_temperature


def _word_vocabulary(messages: Sequence[MessageFeatures], min_df: int) -> dict[str, int]:
    document_frequency: Counter[str] = Counter()
    for message in messages:
        document_frequency.update(message.words.keys())
    kept = sorted(f for f, df in document_frequency.items() if df >= min_df)
    return {f: i for i, f in enumerate(kept)}


def _char_vocabulary(messages: Sequence[MessageFeatures], min_df: int) -> np.ndarray:
    if not messages:
        return np.zeros(0, dtype=np.int64)
    codes, document_frequency = np.unique(np.concatenate([m.char_codes for m in messages]), return_counts=True)
    return codes[document_frequency >= min_df]


def _idf(model: LinearModel, messages: Sequence[MessageFeatures]) -> np.ndarray:
    document_frequency = np.zeros(len(model.idf))
    for message in messages:
        rows, _ = model.vectorize(message)
        document_frequency[rows] += 1
    n = len(messages)
    return (np.log((1 + n) / (1 + document_frequency)) + 1).astype(np.float32)


def _nb_log_ratio(present, positive: np.ndarray, alpha: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    p = np.asarray(present[positive].sum(axis=0)).ravel() + alpha
    q = np.asarray(present[~positive].sum(axis=0)).ravel() + alpha
    return np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)


def _prune(model: LinearModel, keep: int) -> LinearModel:
    importance = np.abs(model.weights).max(axis=1)
    kept = np.sort(np.argpartition(-importance, keep)[:keep])
    n_words = len(model.word_vocabulary)
    kept_words, kept_chars = kept[kept < n_words], kept[kept >= n_words] - n_words
    new_word_row = {int(old): new for new, old in enumerate(kept_words)}
    return LinearModel(
        labels=model.labels,
        word_vocabulary={f: new_word_row[r] for f, r in model.word_vocabulary.items() if r in new_word_row},
        char_codes=model.char_codes[kept_chars],
        coder=model.coder,
        idf=model.idf[kept],
        weights=np.ascontiguousarray(model.weights[kept]),
        bias=model.bias,
        temperature=model.temperature,
        config=model.config,
    )
