"""Features of a message: jieba words and word pairs, and character n-grams.

Characters catch what segmentation gets wrong or misses (names, typos, rare compounds);
words and word pairs catch meaning that single characters blur. Both are counted here,
the same way for training and for classification.

Character n-grams are numbers, not strings: each character has an id in the model's alphabet,
and an n-gram is its ids read as digits of one integer. Counting and looking them up is then
a handful of numpy operations instead of thousands of dictionary lookups per message, which is
what keeps classification well under a millisecond.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat

import numpy as np

from bot.routing.tokenizer import Tokenizer, normalize

PAIR_JOINER = "\x1f"  # never inside a word: words are alphanumeric


@dataclass(frozen=True)
class FeatureConfig:
    # Adjacent word pairs measured no better than single words once words come from the whole
    # message (docs/benchmarks.md), and they double the vocabulary.
    word_pairs: bool = False
    # Words and character n-grams come from at most this many characters: a few messages run
    # to thousands, their opening says what they are about, and the rest only costs time.
    max_word_chars: int = 2000
    char_min: int = 1
    char_max: int = 3
    max_chars: int = 1000


@dataclass(frozen=True)
class MessageFeatures:
    words: Counter[str]
    char_codes: np.ndarray  # distinct character n-gram codes, sorted (int64)
    char_counts: np.ndarray  # how often each occurs


class CharCoder:
    """Character ids (1..V; 0 for a character the model never saw) and n-gram codes.

    With base B = V + 1, an n-gram's code is its ids as base-B digits; codes of different
    lengths never collide because no id is 0.
    """

    def __init__(self, alphabet: str) -> None:
        self.alphabet = alphabet
        self.ids = {c: i for i, c in enumerate(alphabet, start=1)}
        self.base = len(alphabet) + 1

    @classmethod
    def from_texts(cls, normalized_texts: Iterable[str]) -> CharCoder:
        seen: set[str] = set()
        for text in normalized_texts:
            seen.update(text)
        return cls("".join(sorted(seen)))

    def codes(self, normalized: str, config: FeatureConfig) -> tuple[np.ndarray, np.ndarray]:
        text = normalized[: config.max_chars]
        ids = np.fromiter(map(self.ids.get, text, repeat(0)), dtype=np.int64, count=len(text))
        grams: list[np.ndarray] = []
        code, known = ids, ids > 0  # n-grams of length 1, and which contain only known characters
        for n in range(1, config.char_max + 1):
            if n > 1:
                code = code[:-1] * self.base + ids[n - 1 :]
                known = known[:-1] & (ids[n - 1 :] > 0)
            if n >= config.char_min:
                grams.append(code[known])
        if not grams:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(grams), return_counts=True)


def extract(tokenizer: Tokenizer, coder: CharCoder, text: str, config: FeatureConfig) -> MessageFeatures:
    normalized = normalize(text)
    tokens = tokenizer.words(normalized[: config.max_word_chars])
    words = Counter(tokens)
    if config.word_pairs:
        words.update(a + PAIR_JOINER + b for a, b in zip(tokens, tokens[1:]))
    codes, counts = coder.codes(normalized, config)
    return MessageFeatures(words, codes, counts)
