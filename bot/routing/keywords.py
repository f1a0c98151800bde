"""Routing by configured keywords: how a category with no training examples still works, and
how the bot answers while the trained model is still loading."""

from __future__ import annotations

from bot.categories import OTHER, Category
from bot.routing.model import Prediction
from bot.routing.tokenizer import normalize

# A keyword match is a guess, not a measured probability: scores stay modest so the bot asks
# the resident to confirm.
MATCH_SCORE_CAP = 0.6


class KeywordRouter:
    def __init__(self, categories: dict[str, Category]) -> None:
        self.keywords = {
            code: tuple(normalize(k) for k in category.keywords if k.strip()) for code, category in categories.items()
        }

    def hits(self, text: str) -> dict[str, float]:
        """Per category, the summed length of its keywords found in the text (longer = more specific)."""
        if not self.keywords:
            return {}
        normalized = normalize(text)
        found: dict[str, float] = {}
        for code, keywords in self.keywords.items():
            weight = sum(len(k) for k in keywords if k in normalized)
            if weight:
                found[code] = float(weight)
        return found

    def predict(self, text: str, k: int = 3) -> list[Prediction]:
        hits = self.hits(text)
        if not hits:
            return [Prediction(OTHER, 1.0)]
        total = sum(hits.values()) + 2.0  # some mass stays with "not sure"
        ranked = sorted(hits.items(), key=lambda item: (-item[1], item[0]))[:k]
        predictions = [Prediction(code, min(MATCH_SCORE_CAP, weight / total)) for code, weight in ranked]
        if len(predictions) < k and all(p.category != OTHER for p in predictions):
            predictions.append(Prediction(OTHER, 2.0 / total))
        return predictions
