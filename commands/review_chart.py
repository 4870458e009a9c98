"""The access review's summary chart: geometry only (numbers and labels), which the template draws
as inline SVG, so the report needs no script and no library at view time.

Bars: one per stack (and one, `unmanaged`, for what no stack declares), its holders (principals)
split by level. Counters: holdings (rows of the report) that expire soon, are unused or are
unmanaged, each a bar on a scale of its own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

LEVELS = ("readonly", "custom", "full")
LABEL_WIDTH = 150
BAR_AREA = 420
BAR_HEIGHT = 22
GAP = 10
TOP = 30


@dataclass(frozen=True)
class Segment:
    level: str
    count: int
    x: float
    width: float


@dataclass(frozen=True)
class Bar:
    label: str
    y: float
    total: int
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Tally:
    label: str
    kind: str  # expiring | unused | unmanaged, the CSS class
    count: int
    y: float
    width: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: tuple[Bar, ...]
    counters_top: float
    counters: tuple[Tally, ...]
    levels: tuple[str, ...] = LEVELS


def summary_chart(holders: Counter[tuple[str, str]], expiring: int, unused: int, unmanaged: int) -> Chart:
    stacks = sorted({stack for stack, _ in holders})
    totals = {stack: sum(holders[(stack, level)] for level in LEVELS) for stack in stacks}
    scale = BAR_AREA / max([*totals.values(), 1])
    bars = []
    for index, stack in enumerate(stacks):
        x, segments = float(LABEL_WIDTH), []
        for level in LEVELS:
            count = holders[(stack, level)]
            if count:
                segments.append(Segment(level, count, x, count * scale))
                x += count * scale
        bars.append(Bar(stack, TOP + index * (BAR_HEIGHT + GAP), totals[stack], tuple(segments)))
    counters_top = TOP + len(stacks) * (BAR_HEIGHT + GAP) + 2 * GAP + 20
    counts = (
        ("expiring within 30 days", "expiring", expiring),
        ("unused", "unused", unused),
        ("unmanaged", "unmanaged", unmanaged),
    )
    counter_scale = BAR_AREA / max(expiring, unused, unmanaged, 1)
    counters = tuple(
        Tally(label, kind, count, counters_top + index * (BAR_HEIGHT + GAP), count * counter_scale)
        for index, (label, kind, count) in enumerate(counts)
    )
    height = int(counters_top + len(counts) * (BAR_HEIGHT + GAP) + GAP)
    return Chart(LABEL_WIDTH + BAR_AREA + 60, height, LABEL_WIDTH, BAR_HEIGHT, tuple(bars), counters_top, counters)
