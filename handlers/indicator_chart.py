"""The indicators as one PNG: the shares of cases, as horizontal bars.

Drawn with matplotlib's Agg canvas (no display, no pyplot state), imported only
when a chart is first drawn: the bot does not carry matplotlib until someone
asks. The bars are always the same measures, so the figure is built once and
then only its bar lengths and title change: laying out axes and tick labels is
most of what a chart costs. A share that may not be shown gets no bar, only "<5".
Counts (cases by country, by tag) are in the table and the CSV.
"""

from __future__ import annotations

import io
import threading
from typing import Any

from handlers.indicator_figures import Bar

COLOURS = {"Response": "#2f6690", "Consent": "#3a7ca5", "Referrals": "#81c3d7"}
_lock = threading.Lock()
_templates: dict[tuple[tuple[str, str], ...], _Chart] = {}


def chart_png(title: str, bars: list[Bar]) -> bytes:
    key = tuple((b.panel, b.label) for b in bars)
    with _lock:  # one figure per set of measures, drawn by one caller at a time
        chart = _templates.get(key)
        if chart is None:
            chart = _templates[key] = _Chart(key)
        return chart.draw(title, [b.value for b in bars])


class _Chart:
    def __init__(self, measures: tuple[tuple[str, str], ...]):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(7, 1.2 + 0.26 * len(measures)), dpi=80)
        FigureCanvasAgg(self.figure)
        ax: Any = self.figure.add_axes((0.33, 0.12, 0.62, 0.74))
        places = list(range(len(measures)))
        self.bars = ax.barh(places, [0] * len(measures),
                            color=[COLOURS.get(panel, "#2f6690") for panel, _ in measures])
        ax.set_yticks(places, [_label(panel, label) for panel, label in measures], fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        ax.set_xticks([0, 25, 50, 75, 100], ["0", "25%", "50%", "75%", "100%"], fontsize=8)
        ax.set_title("Share of cases", fontsize=9, loc="left")
        self.small = [ax.text(1, p, "<5", va="center", fontsize=7, color="#555555",
                              visible=False) for p in places]
        self.title = self.figure.text(0.02, 0.94, "", fontsize=11)

    def draw(self, title: str, values: list[float | None]) -> bytes:
        for bar, small, value in zip(self.bars, self.small, values, strict=True):
            bar.set_width(value or 0)
            small.set_visible(value is None)
        self.title.set_text(title)
        out = io.BytesIO()
        self.figure.savefig(out, format="png", pil_kwargs={"compress_level": 1})
        return out.getvalue()


def _label(panel: str, label: str) -> str:
    return {"Response": label, "Consent": f"consent: {label}",
            "Referrals": f"referred: {label}"}.get(panel, label)
