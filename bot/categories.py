"""Complaint categories: codes, names in each language, deadlines and keywords, from a data file."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CATEGORIES_FILE = Path(__file__).with_name("data") / "categories.toml"
OTHER = "other"


@dataclass(frozen=True)
class Category:
    code: str
    names: dict[str, str]  # locale → name
    renovation_class: str  # basic, improvement, enhancement, or none
    deadline_hours: int
    keywords: tuple[str, ...]
    urgent_keywords: tuple[str, ...] = ()
    urgent_deadline_hours: int | None = None

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names.get("zh_CN") or self.code


def load_categories(path: Path = DEFAULT_CATEGORIES_FILE) -> dict[str, Category]:
    with path.open("rb") as file:
        data = tomllib.load(file)
    categories: dict[str, Category] = {}
    for entry in data.get("category", []):
        category = Category(
            code=entry["code"],
            names=dict(entry["name"]),
            renovation_class=entry.get("class", "none"),
            deadline_hours=int(entry["deadline_hours"]),
            keywords=tuple(entry.get("keywords", ())),
            urgent_keywords=tuple(entry.get("urgent_keywords", ())),
            urgent_deadline_hours=entry.get("urgent_deadline_hours"),
        )
        if category.code in categories:
            raise ValueError(f"{path}: category {category.code} is defined twice")
        categories[category.code] = category
    if OTHER not in categories:
        raise ValueError(f"{path}: the category {OTHER!r} is required")
    return categories
