"""aiogram's pydantic models built when first used, not all at import.

aiogram declares its ~400 Telegram types with `defer_build=True` but then rebuilds every one of
them at the end of `aiogram/types/__init__.py`, and each built validator carries its own copy
of every type nested in it (Message alone holds most of the tree). That made `import aiogram`
cost 126 MB of resident memory, half of the bot's, for types the bot never sees (payments,
stickers, business accounts ...). Built on first use: 39 MB, and the import 6.4 → 1.4 s on a
loaded machine. The bot builds the few models every update uses at start (bot/app.py, 0.35 s).

`defer_builds()` must run before aiogram is first imported (bot/__init__.py calls it, so every
`bot.*` import does). While aiogram's types are imported, their rebuild only records the
namespace aiogram resolves their forward references in; later, when pydantic builds a model on
first use (it calls `model_rebuild` itself), the recorded namespace is supplied. A process
that imported aiogram before this module still works: its models are simply built at import.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

# The private parameters of pydantic's model_rebuild this relies on (pydantic 2.x).
_REBUILD_PARAMETERS = {"force", "raise_errors", "_parent_namespace_depth", "_types_namespace"}
_original_rebuild = BaseModel.model_rebuild.__func__  # type: ignore[attr-defined]
# The namespace aiogram/types/__init__.py rebuilds its types in (every type by its name),
# recorded by its import-time loop and supplied whenever one of aiogram's models is built.
_aiogram_names: dict[str, Any] | None = None


def _model_rebuild(
    cls: type[BaseModel],
    *,
    force: bool = False,
    raise_errors: bool = True,
    _parent_namespace_depth: int = 2,
    _types_namespace: dict[str, Any] | None = None,
) -> bool | None:
    global _aiogram_names
    if cls.__module__.startswith("aiogram."):
        if _types_namespace is not None and not force and cls.__module__.startswith("aiogram.types."):
            _aiogram_names = _types_namespace  # aiogram/types/__init__.py's loop: build nothing yet
            return None
        if _types_namespace is None:
            _types_namespace = _aiogram_names
    # One frame deeper than pydantic counts: its caller's namespace is one more frame up.
    return _original_rebuild(
        cls, force=force, raise_errors=raise_errors, _parent_namespace_depth=_parent_namespace_depth + 1, _types_namespace=_types_namespace
    )


def defer_builds() -> None:
    if "aiogram" in sys.modules:
        return  # too late to change how its types were built: they are built already
    if not _REBUILD_PARAMETERS <= set(inspect.signature(BaseModel.model_rebuild).parameters):
        return  # a pydantic whose model_rebuild takes other arguments: aiogram builds at import, as it would
    BaseModel.model_rebuild = classmethod(_model_rebuild)  # type: ignore[method-assign,assignment]


def build(models: Iterable[type[BaseModel]]) -> None:
    """Build these now rather than on first use: at start, before the start-up heap is frozen
    out of the garbage collector, the models every update uses (see bot/app.py)."""
    for model in models:
        model.model_rebuild()
