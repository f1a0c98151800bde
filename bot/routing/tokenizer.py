"""Text normalisation and jieba word segmentation with the project's domain dictionary."""

from __future__ import annotations

import io
import logging
import threading
import unicodedata
from pathlib import Path

import jieba

DOMAIN_WORDS = Path(__file__).with_name("data") / "domain_words.txt"
# jieba's dictionary holds 349,046 words; its prefix table takes some 60 MB in the bot. The
# words seen fewer than this many times in jieba's corpus (300,000 of them: names, rare
# idioms) barely change a category, and character n-grams cover them anyway.
MIN_WORD_FREQUENCY = 54

jieba.setLogLevel(logging.WARNING)


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC), lower case, and no white space: how features see text."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


class Tokenizer:
    """A jieba tokenizer of its own (the global one is left alone), loaded once, thread-safe."""

    def __init__(self, domain_words: Path = DOMAIN_WORDS) -> None:
        self._jieba = jieba.Tokenizer()
        self._domain_words = domain_words
        self._ready = False
        self._lock = threading.Lock()

    def initialize(self) -> None:
        with self._lock:
            if self._ready:
                return
            self._jieba.FREQ, self._jieba.total = self._jieba.gen_pfdict(_common_words(MIN_WORD_FREQUENCY))
            self._jieba.initialized = True
            for word, frequency in read_domain_words(self._domain_words):
                self._jieba.add_word(word, freq=frequency)
            self._ready = True

    def words(self, normalized_text: str) -> list[str]:
        """jieba words of normalised text (see `normalize`), punctuation left out."""
        if not self._ready:
            self.initialize()
        return [w for w in self._jieba.lcut(normalized_text, HMM=False) if w.isalnum()]


def _common_words(min_frequency: int) -> io.BytesIO:
    """jieba's own dictionary less its rare words, as the file object jieba reads."""
    kept = bytearray()
    with jieba.get_dict_file() as dictionary:
        for line in dictionary:
            fields = line.split(b" ", 2)
            if len(fields) >= 2 and int(fields[1]) >= min_frequency:
                kept += line
    return io.BytesIO(bytes(kept))


def read_domain_words(path: Path) -> list[tuple[str, int | None]]:
    entries: list[tuple[str, int | None]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, frequency = line.partition(" ")
        entries.append((word, int(frequency) if frequency.strip().isdigit() else None))
    return entries
