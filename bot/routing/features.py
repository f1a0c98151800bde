"""Features of a message: jieba words and word pairs, and character n-grams.

Characters catch what segmentation gets wrong or misses (names, typos, rare compounds);
words and word pairs catch meaning that single characters blur. Both are counted here,
the same way for training and for classification.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bot.routing.tokenizer import Tokenizer, normalize

PAIR_JOINER = "\x1f"  # never inside a word: words are alphanumeric


@dataclass(frozen=True)
class FeatureConfig:
    word_pairs: bool = True
    char_min: int = 1
    char_max: int = 3
    # Character n-grams are taken from at most this many characters: a few messages run to
    # thousands, and their opening says what they are about.
    max_chars: int = 500


@dataclass(frozen=True)
class MessageFeatures:
    words: Counter[str]
    chars: Counter[str]


def extract(tokenizer: Tokenizer, text: str, config: FeatureConfig) -> MessageFeatures:
    normalized = normalize(text)
    tokens = tokenizer.words(normalized)
    words = Counter(tokens)
    if config.word_pairs:
        words.update(a + PAIR_JOINER + b for a, b in zip(tokens, tokens[1:]))
    chars_text = normalized[: config.max_chars]
    chars = Counter(
        chars_text[i : i + n] for n in range(config.char_min, config.char_max + 1) for i in range(len(chars_text) - n + 1)
    )
    return MessageFeatures(words, chars)
