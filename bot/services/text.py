"""Text as people type it, made comparable."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_DROP_ZERO_WIDTH = dict.fromkeys(map(ord, ZERO_WIDTH))


@lru_cache(maxsize=1 << 16)  # an import meets the same few thousand names a hundred thousand times
def compact(text: str) -> str:
    """Full-width letters and digits folded to ordinary ones (NFKC), and spaces and zero-width
    characters dropped wherever they are: what a Chinese input method or a copied cell adds
    without the writer meaning anything by it (`１ 栋` is `1栋`)."""
    return "".join(unicodedata.normalize("NFKC", text).translate(_DROP_ZERO_WIDTH).split())


def folded(text: str) -> str:
    """For recognising commands, options and numbers: full-width letters, digits, punctuation and
    spaces from a Chinese input method read as half-width (`／ｒｅｐｏｒｔ`, `１`, `好，报告`)."""
    return unicodedata.normalize("NFKC", text).strip()
