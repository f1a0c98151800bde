"""Charts as PNG bytes, with Chinese labels that read as Chinese (not as boxes).

matplotlib's own fonts have no CJK glyphs; mplfonts ships Noto Sans CJK SC on PyPI, so every
installation of the package can draw them. The font is registered once, on the first chart;
drawing runs in a thread so the event loop keeps answering while a chart is made. matplotlib
(some 30 MB) is imported with the first chart, not when the bot starts.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Mapping, Sequence
from importlib.util import find_spec
from pathlib import Path

# mplfonts ships Noto Sans CJK SC inside its package; found without importing it.
CJK_FONT_FILE = Path(find_spec("mplfonts").origin).parent / "fonts" / "NotoSansCJKsc-Regular.otf"  # type: ignore[arg-type,union-attr]
_font_lock = threading.Lock()
_font_family: list[str] = []


def cjk_font_family() -> str:
    """The family name of the CJK font, registered with matplotlib on first use."""
    from matplotlib import font_manager

    with _font_lock:
        if not _font_family:
            font_manager.fontManager.addfont(str(CJK_FONT_FILE))
            _font_family.append(font_manager.FontProperties(fname=str(CJK_FONT_FILE)).get_name())
        return _font_family[0]


def bar_chart_png(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    value_label: str = "",
    percent: bool = False,
) -> bytes:
    """Grouped horizontal bars: one group per category, one bar per series (e.g. per option,
    or response / resolution / satisfaction rates). Labels are drawn as given, already
    translated. `percent` shows values (0–1) as percentages on a 0–100 % axis."""
    import matplotlib

    matplotlib.use("Agg")  # no display: charts are files
    from matplotlib.figure import Figure

    family = cjk_font_family()
    height = max(2.5, 1.0 + 0.45 * len(categories) * max(1, len(series)))
    figure = Figure(figsize=(7, height), dpi=120, layout="constrained")
    axes = figure.add_subplot()
    rows = range(len(categories))
    bar_height = 0.8 / max(1, len(series))
    for index, (name, values) in enumerate(series.items()):
        shown = [v * 100 for v in values] if percent else list(values)
        offsets = [r + (index - (len(series) - 1) / 2) * bar_height for r in rows]
        bars = axes.barh(offsets, shown, height=bar_height, label=name)
        axes.bar_label(bars, fmt="%.0f%%" if percent else "%g", padding=2, fontfamily=family, fontsize=8)
    axes.set_yticks(list(rows), list(categories), fontfamily=family)
    axes.invert_yaxis()  # the first category on top, as a list reads
    axes.set_title(title, fontfamily=family)
    if percent:
        axes.set_xlim(0, 110)
    if value_label:
        axes.set_xlabel(value_label, fontfamily=family)
    if len(series) > 1:
        figure.legend(prop={"family": family}, loc="outside lower center", ncols=len(series))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


async def bar_chart(
    title: str, categories: Sequence[str], series: Mapping[str, Sequence[float]], *, value_label: str = "", percent: bool = False
) -> bytes:
    """bar_chart_png, off the event loop (a chart takes some 100 ms to draw)."""
    return await asyncio.to_thread(bar_chart_png, title, categories, series, value_label=value_label, percent=percent)
