"""PNG charts for the economics and the simulation (matplotlib, Agg backend: no display needed).

Each function takes plain data (what the command also prints) and a path, and writes one PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)


def threshold_chart(balances_cents: Sequence[int], threshold: float, path: Path) -> None:
    """Open balances (log-spaced bins) with the break-even threshold marked."""
    import numpy as np

    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    dollars = np.maximum(np.asarray(balances_cents, "f8") / 100, 0.01)
    bins = np.logspace(np.log10(max(dollars.min(), 0.01)), np.log10(max(dollars.max(), 1)), 40) if len(dollars) else 10
    ax.hist(dollars, bins=bins, color="#4c72b0")
    ax.set_xscale("log")
    ax.axvline(threshold, color="#c44e52", linewidth=2, label=f"break-even ${threshold:,.2f}")
    below = int((dollars < threshold).sum())
    ax.set_title(f"Open balances: {below} of {len(dollars)} claims below the break-even line")
    ax.set_xlabel("balance ($, log scale)")
    ax.set_ylabel("claims")
    ax.legend()
    _save(fig, path)


def capacity_chart(balances_cents: Sequence[int], capacity: int, line: str | None, path: Path) -> None:
    """Open A/R sorted by balance, with the claim at rank = capacity (the low-balance line)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    dollars = sorted((b / 100 for b in balances_cents), reverse=True)
    ax.plot(range(1, len(dollars) + 1), dollars, color="#4c72b0")
    ax.set_yscale("log")
    if line is not None:
        ax.axvline(capacity, color="#c44e52", linewidth=2, label=f"capacity {capacity} claims/month: ${line}")
        ax.legend()
    ax.set_title("Open A/R by balance rank and the monthly capacity")
    ax.set_xlabel("rank (largest balance first)")
    ax.set_ylabel("balance ($, log scale)")
    _save(fig, path)


def buildup_chart(rows: list[dict[str, Any]], buckets: Sequence[str], path: Path) -> None:
    """Share of claims per dollar bucket, stacked, in each aging bucket."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    labels = [r["aging"] for r in rows]
    bottom = [0.0] * len(rows)
    for b in buckets:
        shares = [r[b]["share"] for r in rows]
        ax.bar(labels, shares, bottom=bottom, label=b)
        bottom = [x + y for x, y in zip(bottom, shares, strict=True)]
    ax.set_ylim(0, 1)
    ax.set_title("A/R build-up: share of open claims per dollar bucket, by age")
    ax.set_xlabel("age (days)")
    ax.set_ylabel("share of claims")
    ax.legend(loc="lower right")
    _save(fig, path)


def simulation_chart(weekly: dict[str, list[int]], path: Path) -> None:
    """Cumulative dollars collected per week under each policy."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for policy, cents in weekly.items():
        ax.plot(range(1, len(cents) + 1), [c / 100 for c in cents], label=policy, linewidth=2)
    ax.set_title("Dollars collected, cumulative, by follow-up policy")
    ax.set_xlabel("week")
    ax.set_ylabel("$")
    ax.legend()
    _save(fig, path)
