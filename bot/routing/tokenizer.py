"""Text normalisation and jieba word segmentation with the project's domain dictionary.

Segmentation is jieba's algorithm (dictionary DAG and the most probable route, no HMM) run by
jieba-rs through rjieba: the same words as Python jieba, some fourteen times faster, which is
what lets words come from the whole message within the time a message may take. The
dictionary is jieba's own (its `dict.txt`) less its rare words, plus `data/domain_words.txt`.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import threading
import unicodedata
from pathlib import Path
from types import ModuleType
from typing import Any

DOMAIN_WORDS = Path(__file__).with_name("data") / "domain_words.txt"
# jieba's dictionary holds 349,046 words. The ones seen fewer than this many times in jieba's
# corpus (300,000 of them: names, rare idioms) barely change a category, character n-grams
# cover them anyway, and leaving them out keeps the dictionary at about 4 MB in memory.
MIN_WORD_FREQUENCY = 54


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, and no white space: how features see text."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


class Tokenizer:
    """A segmenter with its own dictionary, built once (on first use or by `initialize`), thread-safe."""

    def __init__(self, domain_words: Path = DOMAIN_WORDS) -> None:
        self._domain_words = domain_words
        self._segmenter: Any = None
        self._lock = threading.Lock()

    def initialize(self) -> None:
        with self._lock:
            if self._segmenter is not None:
                return
            segmenter = _rjieba_extension().Jieba.empty()
            for word, frequency in _common_words(MIN_WORD_FREQUENCY):
                segmenter.add_word(word, frequency, None)
            for word, domain_frequency in read_domain_words(self._domain_words):
                segmenter.add_word(word, domain_frequency, None)
            self._segmenter = segmenter

    def words(self, normalized_text: str) -> list[str]:
        """jieba words of normalised text (see `normalize`), punctuation left out."""
        if self._segmenter is None:
            self.initialize()
        return [w for w in self._segmenter.cut(normalized_text, False) if w.isalnum()]


@functools.cache
def _rjieba_extension() -> ModuleType:
    """rjieba's compiled module, loaded without its package `__init__`.

    That `__init__` builds a module-level segmenter with jieba's whole dictionary, 33 MB of
    which 17 MB stay resident even after clearing it; the bot only ever uses its own.
    """
    package = importlib.util.find_spec("rjieba")
    if package is None or package.submodule_search_locations is None:
        raise ImportError("rjieba is not installed")
    folder = Path(next(iter(package.submodule_search_locations)))
    candidates = [folder / f"rjieba{suffix}" for suffix in importlib.machinery.EXTENSION_SUFFIXES]
    library = next((path for path in candidates if path.exists()), None)
    if library is None:
        raise ImportError(f"rjieba's compiled module is not in {folder}")
    loader = importlib.machinery.ExtensionFileLoader("rjieba.rjieba", str(library))
    spec = importlib.util.spec_from_file_location("rjieba.rjieba", library, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _jieba_dictionary() -> Path:
    """jieba's dictionary file, found without importing jieba (which would load its HMM tables)."""
    package = importlib.util.find_spec("jieba")
    if package is None or package.submodule_search_locations is None:
        raise ImportError("jieba is not installed")
    return Path(next(iter(package.submodule_search_locations))) / "dict.txt"


def _common_words(min_frequency: int) -> list[tuple[str, int]]:
    """jieba's dictionary less its rare words."""
    words: list[tuple[str, int]] = []
    with _jieba_dictionary().open(encoding="utf-8") as dictionary:
        for line in dictionary:
            fields = line.split(" ", 2)
            if len(fields) >= 2 and int(fields[1]) >= min_frequency:
                words.append((fields[0], int(fields[1])))
    return words


def read_domain_words(path: Path) -> list[tuple[str, int | None]]:
    entries: list[tuple[str, int | None]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, frequency = line.partition(" ")
        entries.append((word, int(frequency) if frequency.strip().isdigit() else None))
    return entries
