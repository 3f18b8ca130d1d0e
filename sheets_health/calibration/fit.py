"""Fitting weights: a penalised logistic regression with non-negative weights, and the folds.

Why SciPy's L-BFGS-B and not scikit-learn's LogisticRegression: the weights of a readable
scorecard must be ≥ 0 (a negative weight would reward a customer for being worse), and
LogisticRegression has no bound constraints. With bounds w ≥ 0 the lasso term λ₁·Σ|w| is
simply λ₁·Σw — smooth on the feasible set — so L-BFGS-B minimises the elastic-net log-loss
exactly and a measure that does not earn its place lands exactly on 0 (dropped), not on 0.003.
The intercept is free and unpenalised. SciPy is imported inside the functions: the sync never
pays its start-up time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np

from sheets_health.calibration.stats import BoolArray, FloatArray, IntArray


def fit_nonnegative_logistic(x: FloatArray, retained: BoolArray, l1: float, l2: float
                             ) -> tuple[FloatArray, float]:
    """(weights, intercept) minimising Σ log-loss + l1·Σw + l2/2·Σw² subject to w ≥ 0.

    ``x`` is customers × features without NaN (sub-scores / 100, so a weight of 1 means the
    log-odds of renewing rise by 1 from a sub-score of 0 to one of 100).
    """
    from scipy.optimize import minimize

    p = x.shape[1]
    y = retained.astype(float)
    rate = min(max(y.mean(), 1e-6), 1 - 1e-6)
    start = np.r_[np.zeros(p), np.log(rate / (1 - rate))]

    def loss(theta: FloatArray) -> tuple[float, FloatArray]:
        w, b = theta[:p], theta[p]
        z = x @ w + b
        value = float(np.sum(np.logaddexp(0.0, z) - y * z) + l1 * w.sum() + 0.5 * l2 * w @ w)
        residual = 1.0 / (1.0 + np.exp(-z)) - y
        grad = np.r_[x.T @ residual + l1 + l2 * w, residual.sum()]
        return value, grad

    bounds = [(0.0, None)] * p + [(None, None)]
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": 500})
    weights = np.clip(result.x[:p], 0.0, None)
    return weights, float(result.x[p])


def grouped_folds(retained: BoolArray, customer_of_row: IntArray, folds: int, seed: int
                  ) -> list[IntArray]:
    """Test rows of each fold, stratified by outcome and grouped by customer (no customer in
    both train and test). Fewer folds when a class is too small to give each fold one.

    Customers, not rows, are dealt into folds — shuffled (seeded) within each class, a
    customer counting as churned if any of its rows churned, and dealt round-robin so every
    fold gets its share of both classes — then each row follows its customer. This is what
    scikit-learn's StratifiedGroupKFold does, without its greedy search (10 s for 25,000
    customers) or scikit-learn's import (several seconds on a busy machine).
    """
    n_customers = int(customer_of_row.max()) + 1
    churned_customer = np.zeros(n_customers, dtype=bool)
    churned_customer[customer_of_row[~retained]] = True
    smallest = int(min(churned_customer.sum(), (~churned_customer).sum()))
    k = max(2, min(folds, smallest))
    rng = np.random.default_rng(seed)
    fold_of = np.empty(n_customers, dtype=np.int64)
    start = 0
    for label in (True, False):
        members = rng.permutation(np.flatnonzero(churned_customer == label))
        fold_of[members] = (start + np.arange(len(members))) % k
        start = (start + len(members)) % k
    row_fold = fold_of[customer_of_row]
    return [np.flatnonzero(row_fold == i) for i in range(k)]


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run many small fits with one BLAS thread: on a busy 2-core machine OpenBLAS threads
    fighting over tiny matrices made each L-BFGS-B fit ten times slower."""
    import scipy.optimize  # noqa: F401  (load SciPy's BLAS before limiting it)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def impute(x: FloatArray, fills: FloatArray, means: Sequence[float] | FloatArray) -> FloatArray:
    """Missing features for the fit, all on its 0–1 scale: the measure's missing-data value
    (0.5 neutral, 0 zero) where it has one, else the training mean (a left-out measure neither
    helps nor hurts)."""
    fill = np.where(np.isnan(fills), np.asarray(means, dtype=float), fills)
    fill = np.where(np.isnan(fill), 0.5, fill)
    return np.where(np.isnan(x), fill, x)
