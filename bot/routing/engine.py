"""The routing engine the bot holds: the current model, keyword fallback, and hot swaps.

`classify` never waits: until the trained model has loaded (in a worker thread, at start) it
answers from the configured keywords. Retraining runs in a worker process, and the new model
replaces the old one by a single reference assignment, so a classification in flight finishes
on the model it started with.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from bot.categories import OTHER, Category
from bot.routing.keywords import KeywordRouter
from bot.routing.model import LinearModel, Prediction
from bot.routing.tokenizer import Tokenizer

log = logging.getLogger(__name__)
DEFAULT_MODEL = Path(__file__).with_name("data") / "default_model.npz"
# Below this top probability the bot asks the resident to choose among the proposals.
CONFIDENT = 0.6


@dataclass(frozen=True)
class Example:
    text: str
    label: str


class RoutingEngine:
    def __init__(self, categories: dict[str, Category], tokenizer: Tokenizer | None = None) -> None:
        self.categories = categories
        self.tokenizer = tokenizer or Tokenizer()
        self.keywords = KeywordRouter(categories)
        self.model: LinearModel | None = None
        # The keywords of the categories the model has never seen (set with the model by swap):
        # usually none, and then a classification scans no keywords at all.
        self._unlearned = self.keywords
        self.version: int | None = None  # the stored (retrained) version in use; None: shipped model

    @property
    def ready(self) -> bool:
        return self.model is not None

    def classify(self, text: str, k: int = 3) -> list[Prediction]:
        # One read of each (swap sets both, and nothing here awaits): a swap does not mix two models.
        model, unlearned = self.model, self._unlearned
        if model is None:
            return self.keywords.predict(text, k)
        predictions = [p for p in model.predict(self.tokenizer, text, k + len(model.labels)) if p.category in self.categories]
        # Categories the model has never seen (added to the configuration later) still get
        # their keyword matches a place among the proposals.
        for code, weight in unlearned.hits(text).items():
            predictions.append(Prediction(code, min(0.5, weight / (weight + 2.0))))
        predictions.sort(key=lambda p: -p.score)
        return predictions[:k] or [Prediction(OTHER, 1.0)]

    def is_confident(self, predictions: Sequence[Prediction]) -> bool:
        return bool(predictions) and predictions[0].score >= CONFIDENT

    async def load(self, source: Path | bytes = DEFAULT_MODEL) -> None:
        """Load jieba and a model (a file, or bytes from the database) in a worker thread; the
        event loop keeps answering meanwhile."""
        model = await asyncio.to_thread(self._load_blocking, source)
        self.swap(model)

    def _load_blocking(self, source: Path | bytes) -> LinearModel:
        self.tokenizer.initialize()
        return LinearModel.from_bytes(source) if isinstance(source, bytes) else LinearModel.load(source)

    def swap(self, model: LinearModel) -> None:
        unknown = [label for label in model.labels if label not in self.categories]
        if unknown:
            log.warning("the model knows categories that are not configured, never proposed: %s", ", ".join(unknown))
        self.model, self._unlearned = model, KeywordRouter({code: c for code, c in self.categories.items() if code not in model.labels})
        log.info("routing model in use: %d categories, %d features", len(model.labels), len(model.idf))

    def usable_examples(self, examples: Sequence[Example]) -> list[Example]:
        """Drop what would harm the model: unknown categories, empty texts. Each is logged."""
        usable = []
        for example in examples:
            if example.label not in self.categories:
                log.warning("ignored a training example labelled %r: not a configured category", example.label)
            elif not example.text.strip():
                log.warning("ignored an empty training example labelled %r", example.label)
            else:
                usable.append(example)
        return usable

    async def retrain(self, examples: Sequence[Example]) -> bytes | None:
        """Train on `examples` in a worker process and swap the result in. Returns the model as
        bytes (to be stored), or None when the examples cannot make a model."""
        usable = self.usable_examples(examples)
        if len({e.label for e in usable}) < 2:
            log.warning("retraining skipped: fewer than two categories among %d usable examples", len(usable))
            return None
        texts, labels = [e.text for e in usable], [e.label for e in usable]
        loop = asyncio.get_running_loop()
        # spawn: a fresh interpreter, not a fork of a process with an event loop and sockets.
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            blob = await loop.run_in_executor(pool, train_to_bytes, texts, labels)
        await self.load(blob)
        return blob


def train_to_bytes(texts: list[str], labels: list[str]) -> bytes:
    """Runs in the worker process."""
    from bot.routing.training import train

    return train(Tokenizer(), texts, labels).to_bytes()
