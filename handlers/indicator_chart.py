"""The indicators as one PNG: the shares of cases, as horizontal bars.

Drawn with matplotlib's Agg canvas (no display, no pyplot state), imported only
when a chart is first drawn: the bot does not carry matplotlib until someone
asks. The bars are always the same measures, so the figure is drawn once without
its bars and title, kept as a picture, and each chart is that picture with its
bars and title drawn over it (matplotlib's blitting): laying out axes and tick
labels and rendering their text is most of what a chart costs. A share that may
not be shown gets no bar, only "<5". Counts (cases by country, by tag) are in
the table and the CSV.
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
        self.canvas = FigureCanvasAgg(self.figure)
        self.axes: Any = self.figure.add_axes((0.33, 0.12, 0.62, 0.74))
        places = list(range(len(measures)))
        # Animated artists are left out of the full drawing: they are drawn per chart.
        self.bars = self.axes.barh(places, [0] * len(measures), animated=True,
                                   color=[COLOURS.get(panel, "#2f6690")
                                          for panel, _ in measures])
        self.axes.set_yticks(places, [_label(panel, label) for panel, label in measures],
                             fontsize=8)
        self.axes.invert_yaxis()
        self.axes.set_xlim(0, 100)
        self.axes.set_xticks([0, 25, 50, 75, 100], ["0", "25%", "50%", "75%", "100%"],
                             fontsize=8)
        self.axes.set_title("Share of cases", fontsize=9, loc="left")
        self.small = [self.axes.text(1, p, "<5", va="center", fontsize=7, color="#555555",
                                     animated=True) for p in places]
        self.title = self.figure.text(0.02, 0.94, "", fontsize=11, animated=True)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)

    def draw(self, title: str, values: list[float | None]) -> bytes:
        import numpy as np  # matplotlib's own dependency
        from matplotlib.image import imsave

        self.canvas.restore_region(self.background)
        for bar, small, value in zip(self.bars, self.small, values, strict=True):
            bar.set_width(value or 0)
            self.axes.draw_artist(bar)
            if value is None:
                self.axes.draw_artist(small)
        self.title.set_text(title)
        self.figure.draw_artist(self.title)
        out = io.BytesIO()
        imsave(out, np.asarray(self.canvas.buffer_rgba()), format="png",
               pil_kwargs={"compress_level": 1})
        return out.getvalue()


def _label(panel: str, label: str) -> str:
    return {"Response": label, "Consent": f"consent: {label}",
            "Referrals": f"referred: {label}"}.get(panel, label)
