"""Pure numpy statistics: ROC AUC (plain and bootstrap-weighted), weighted kappa, Spearman pairs.

Conventions used everywhere in calibration:

- **AUC is of the score predicting retention** (not churning): the probability that a
  customer who renewed or expanded scored higher than one who churned, ties counting half.
  0.5 is chance, 1.0 perfect, below 0.5 the score points the wrong way.
- **Kappa is Cohen's kappa with linear weights** over the ordered colours Red < Yellow < Green:
  Red vs Green is a full disagreement, Red vs Yellow half of one.
- **Intervals are 95 % percentile bootstraps that resample customers** (seeded, so the same
  input always gives the same interval). Every statistic of one analysis uses the same
  resamples, so differences between two AUCs are paired.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from sheets_health.model import Rag

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

RAG_ORDER: tuple[Rag, ...] = (Rag.RED, Rag.YELLOW, Rag.GREEN)
_ORDINAL = {rag: i for i, rag in enumerate(RAG_ORDER)}


def ordinal(rag: Rag) -> int:
    """Red 0, Yellow 1, Green 2."""
    return _ORDINAL[rag]


# ----------------------------------------------------------------------------- AUC


def auc(scores: Sequence[float] | FloatArray, retained: Sequence[bool] | BoolArray) -> float:
    """ROC AUC of ``scores`` for ``retained`` (Mann–Whitney U with mid-ranks for ties).

    NaN scores are left out; NaN when either class is empty.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(retained, dtype=bool)
    keep = ~np.isnan(s)
    s, y = s[keep], y[keep]
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = pd.Series(s).rank(method="average").to_numpy()
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


@dataclass(frozen=True)
class SortedScores:
    """One score vector prepared for many weighted AUCs: sorted and searched once.

    For a resample drawing customer i ``c_i`` times, twice the Mann–Whitney numerator is
    Σ over retained i of c_i · (N(< s_i) + N(≤ s_i)), where N counts the churned customers'
    draws below (or at) s_i. With the churned sorted once, N is a cumulative sum per resample
    read at two precomputed positions per retained customer — exact, ties included.
    """

    retained_rows: IntArray  # positions (into the analysis' rows) of retained, scored rows
    churned_rows: IntArray  # positions of churned, scored rows, by score
    below: IntArray  # per retained row: churned rows scoring strictly lower
    at_or_below: IntArray  # per retained row: churned rows scoring lower or equal

    @classmethod
    def of(cls, scores: FloatArray, retained: BoolArray) -> SortedScores:
        scored = ~np.isnan(scores)
        churned = np.flatnonzero(scored & ~retained)
        churned = churned[np.argsort(scores[churned], kind="stable")]
        kept = np.flatnonzero(scored & retained)
        ordered = scores[churned]
        return cls(kept, churned,
                   np.searchsorted(ordered, scores[kept], side="left").astype(np.int64),
                   np.searchsorted(ordered, scores[kept], side="right").astype(np.int64))

    def auc(self, counts: IntArray) -> FloatArray:
        """AUC for each row of ``counts`` (resamples × analysis rows: how often each row is
        drawn); NaN for a resample without both outcomes."""
        cumulative = np.zeros((len(counts), len(self.churned_rows) + 1), dtype=np.int32)
        np.cumsum(counts[:, self.churned_rows], axis=1, out=cumulative[:, 1:])
        kept = counts[:, self.retained_rows]
        twice_u = (kept * (cumulative[:, self.below] + cumulative[:, self.at_or_below])).sum(
            axis=1, dtype=np.int64)
        denominator = kept.sum(axis=1, dtype=np.int64) * cumulative[:, -1].astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denominator > 0, twice_u / (2.0 * denominator), np.nan)


# ----------------------------------------------------------------------------- bootstrap


class Resampler:
    """Seeded bootstrap resamples of customers, in memory-bounded batches.

    ``customer_of_row`` maps each analysis row to a customer number: a customer drawn twice
    brings all its rows twice (customers, not rows, are the independent units). Iterating
    twice gives the same resamples, so statistics computed in separate passes stay paired.
    """

    def __init__(self, customer_of_row: IntArray, n_boot: int, seed: int,
                 max_cells: int = 2_000_000) -> None:
        self.customer_of_row = np.asarray(customer_of_row, dtype=np.int64)
        self.n_customers = int(self.customer_of_row.max()) + 1 if len(customer_of_row) else 0
        self.n_boot = n_boot
        self.seed = seed
        self.batch = max(1, max_cells // max(1, len(self.customer_of_row)))
        self._one_row_each = bool(np.array_equal(self.customer_of_row,
                                                 np.arange(len(self.customer_of_row))))

    def batches(self) -> Iterator[IntArray]:
        rng = np.random.default_rng(self.seed)
        n = self.n_customers
        done = 0
        while done < self.n_boot:
            b = min(self.batch, self.n_boot - done)
            draws = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
            per_customer = np.bincount(draws.ravel(), minlength=b * n).reshape(b, n)
            if self._one_row_each:
                yield per_customer.astype(np.int32)
            else:
                yield per_customer[:, self.customer_of_row].astype(np.int32)
            done += b

    def run(self, statistics: Sequence[Callable[[IntArray], FloatArray]]) -> FloatArray:
        """Every statistic on every resample: an array (n_boot × len(statistics))."""
        out = np.empty((self.n_boot, len(statistics)))
        start = 0
        for counts in self.batches():
            stop = start + len(counts)
            for j, statistic in enumerate(statistics):
                out[start:stop, j] = statistic(counts)
            start = stop
        return out


def percentile_interval(replicates: FloatArray) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles, ignoring resamples where the statistic is undefined
    (e.g. a resample with no churned customer)."""
    finite = replicates[np.isfinite(replicates)]
    if len(finite) == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [2.5, 97.5])
    return float(low), float(high)


# ----------------------------------------------------------------------------- agreement


def confusion(gut: Sequence[Rag], score: Sequence[Rag]) -> tuple[tuple[int, ...], ...]:
    """3×3 counts: rows are the gut colour, columns the score's colour, both Red, Yellow,
    Green."""
    table = np.zeros((3, 3), dtype=np.int64)
    for g, s in zip(gut, score, strict=True):
        table[_ORDINAL[g], _ORDINAL[s]] += 1
    return tuple(tuple(int(v) for v in row) for row in table)


def linear_weighted_kappa(table: Sequence[Sequence[int]]) -> float | None:
    """Cohen's kappa with linear weights from a square confusion table of ordered classes.

    Agreement weight 1 − |i − j| / (k − 1); kappa = (p_o − p_e) / (1 − p_e) with p_o the
    weighted observed agreement and p_e the one expected from the margins. None when p_e is 1
    (everyone in one class on both sides: kappa is undefined).
    """
    t = np.asarray(table, dtype=float)
    k = t.shape[0]
    total = t.sum()
    if total == 0:
        return None
    i, j = np.indices((k, k))
    w = 1.0 - np.abs(i - j) / (k - 1)
    p = t / total
    p_o = float((w * p).sum())
    expected = np.outer(p.sum(axis=1), p.sum(axis=0))
    p_e = float((w * expected).sum())
    if np.isclose(p_e, 1.0):
        return None
    return (p_o - p_e) / (1.0 - p_e)


# ----------------------------------------------------------------------------- double counting


def spearman_pairs(values: pd.DataFrame, threshold: float, min_pairs: int = 10
                   ) -> list[tuple[str, str, float, int]]:
    """Pairs of columns with |Spearman ρ| ≥ threshold, each over the rows where both are
    present (at least ``min_pairs``): (first, second, ρ, rows), strongest first."""
    numeric = values.astype(float)
    rho = numeric.corr(method="spearman", min_periods=min_pairs).to_numpy()
    present = numeric.notna().to_numpy(dtype=np.int64)
    both = present.T @ present
    names = list(numeric.columns)
    found = []
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            r = float(rho[a, b])
            if np.isfinite(r) and abs(r) >= threshold:
                found.append((names[a], names[b], r, int(both[a, b])))
    found.sort(key=lambda f: (-abs(f[2]), f[0], f[1]))
    return found
