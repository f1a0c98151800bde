"""How alike a resident's question is to questions answered before: TF-IDF cosine over the
routing tokenizer's jieba words and the character pairs inside longer words (so that 加装电梯
meets 电梯加装 and 装电梯), in plain Python over a bounded set of candidates (a
community's FAQ and recent answers: hundreds, not millions, so no index is needed)."""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.routing.tokenizer import Tokenizer, normalize

# Below this cosine an entry is not shown: tuned on the labelled questions in
# tests/test_questions.py (the related ones score 0.34 and more, the unrelated ones 0.18 at most).
THRESHOLD = 0.3
# Words that say how a question is asked, not what it is about.
STOP_WORDS = frozenset(
    "的 了 吗 呢 吧 啊 呀 我 我们 你 你们 他 她 它 是 在 有 要 会 能 可以 想 请问 请 问 一下 怎么 怎么办 怎样 如何 什么 哪里 哪儿 为什么 多少 "
    "谁 和 与 就 都 也 还 又 这 那 这个 那个 个 吗 么 没有 不 给 让 被 把 对 从 到 去 来 说 知道 时候 怎么样".split()
)


@functools.cache
def _tokenizer() -> Tokenizer:
    # Its own instance: the routing engine's lives in the application, which flows do not reach;
    # the dictionary is built once per process on first use (about 4 MB).
    return Tokenizer()


def features(text: str) -> list[str]:
    """The words that carry meaning, and the character pairs of those longer than two characters."""
    words = [w for w in _tokenizer().words(normalize(text)) if w not in STOP_WORDS]
    return words + [word[i : i + 2] for word in words if len(word) > 2 for i in range(len(word) - 1)]


@dataclass(frozen=True)
class Candidate:
    kind: str  # "faq" or "answer"
    id: int
    question: str
    answer: str


def closest(query: str, candidates: Sequence[Candidate], limit: int = 3, threshold: float = THRESHOLD) -> list[tuple[Candidate, float]]:
    """Up to `limit` candidates whose question reads like `query`, best first, none below `threshold`."""
    query_words = Counter(features(query))
    if not query_words or not candidates:
        return []
    documents = [Counter(features(c.question)) for c in candidates]
    frequency = Counter(word for document in documents for word in document)
    count = len(documents) + 1  # the query counts as a document, so no word's weight is zero
    idf = {word: math.log((1 + count) / (1 + frequency[word] + (word in query_words))) + 1 for word in set(frequency) | set(query_words)}
    query_vector = _weighted(query_words, idf)
    scored = [(candidate, _cosine(query_vector, _weighted(document, idf))) for candidate, document in zip(candidates, documents)]
    kept = sorted((pair for pair in scored if pair[1] >= threshold), key=lambda pair: -pair[1])
    return kept[:limit]


def _weighted(counts: Counter[str], idf: dict[str, float]) -> dict[str, float]:
    return {word: (1 + math.log(n)) * idf[word] for word, n in counts.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(weight * b[word] for word, weight in a.items() if word in b)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0
