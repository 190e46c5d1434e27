"""The chart of the ratios, ``docs/benchmarks.png`` (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.results import BenchResults
from bench.scenarios import Scenario
from bench.targets import RATIO_TARGETS

__all__ = ["ratio_bars", "write_chart"]

_MET, _NOT_MET, _NO_TARGET = "#2e7d32", "#c62828", "#9e9e9e"


def ratio_bars(
    results: BenchResults, scenarios: Sequence[Scenario]
) -> list[tuple[str, float, float | None]]:
    """``(label, ratio, target)`` for each portal/reference pair that was measured."""
    bars = []
    for scenario in scenarios:
        for server, label in scenario.references:
            ratio = results.ratio(scenario.key, server)
            if ratio is not None:
                target = RATIO_TARGETS.get((scenario.key, server))
                bars.append((f"{scenario.title}\nvs {label}", ratio, target))
    return bars


def write_chart(bars: Sequence[tuple[str, float, float | None]], path: Path, title: str) -> None:
    """A horizontal bar per ratio, with 1.0 and each target marked, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    labels = [label for label, _, _ in bars]
    ratios = [ratio for _, ratio, _ in bars]
    colours = [
        _NO_TARGET if target is None else (_MET if ratio >= target else _NOT_MET)
        for _, ratio, target in bars
    ]
    height = 1.2 + 0.62 * len(bars)
    fig, ax = plt.subplots(figsize=(9, height))
    positions = list(range(len(bars)))[::-1]
    ax.barh(positions, ratios, color=colours, height=0.6)
    for y, (_, ratio, target) in zip(positions, bars, strict=True):
        ax.text(ratio, y, f" {ratio:.2f}", va="center", fontsize=9)
        if target is not None:
            ax.plot([target, target], [y - 0.4, y + 0.4], color="black", linewidth=2)
    ax.axvline(1.0, color="#555555", linestyle="--", linewidth=1)
    ax.set_yticks(positions)
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlabel("portal requests/s ÷ reference requests/s  (black tick: target)")
    ax.set_xlim(0, max([*ratios, *(t for _, _, t in bars if t is not None), 1.0]) * 1.2)
    ax.set_title(title, fontsize=10)
    legend = [(_MET, "target met"), (_NOT_MET, "target not met"), (_NO_TARGET, "no target")]
    fig.legend(
        handles=[Patch(color=colour, label=label) for colour, label in legend],
        loc="lower center",
        ncol=3,
        frameon=False,
        fontsize=8,
    )
    # Leave a strip of about 0.35 inch at the bottom for the legend.
    fig.tight_layout(rect=(0, 0.35 / height, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
