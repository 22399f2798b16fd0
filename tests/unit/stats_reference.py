#!/usr/bin/python3
"""Reference values for core/stats.c, computed with numpy and scipy.

Why a script run by the test (tests/unit/test_stats_reference.c) instead of a
committed fixture: the reference must come from an implementation that is not
ours, and a fixture can go stale; python3-scipy is a declared dependency
(scripts/install-deps.sh), so the test runs this script every time and fails
when it cannot. The inputs are fixed (written out in the JSON), so the C side
computes on exactly the same numbers.

Prints one JSON object on stdout:
  median:     numpy.median
  median_ci:  order-statistic interval of the median, k and level from
              scipy.stats.binom
  perm:       scipy.stats.permutation_test, statistic |mean(b) - mean(a)|,
              every split enumerated (n_resamples=inf)
  perm_min_p: the same test on fully separated samples (the smallest p)
  mw_test:    the two-sided p of scipy.stats.mannwhitneyu(method='exact') on
              the tie-free pairs
  mw_cdf:     P(U <= u) from scipy.stats.mannwhitneyu(method='exact',
              alternative='less') on samples built to have U = u
  shift:      Hodges-Lehmann ratio and its Mann-Whitney interval, the critical
              value from the same scipy law
  quantile:   scipy.stats.norm.ppf
"""
import json
import math

import numpy as np
from scipy import stats


def rnd(xs):
    return [float(round(x, 6)) for x in xs]


def datasets():
    rng = np.random.default_rng(20261203)
    out = [
        [5.0, 1.0, 3.0, 2.0, 4.0],
        [4.0, 1.0, 3.0, 2.0],
        [160.2],
        [1.0, 1.0, 2.0, 2.0, 2.0, 3.0],
    ]
    for n in (3, 6, 7, 10, 17, 31, 60):
        out.append(rnd(rng.lognormal(mean=5.0, sigma=0.1, size=n)))
    out.append(rnd(100 + 3 * rng.standard_t(df=2, size=12)))
    return out


def median_ci(x, nominal):
    s = sorted(x)
    n = len(s)
    best, level = 1, (1 - 2 * stats.binom.cdf(0, n, 0.5)) if n >= 2 else 0.0
    for k in range(2, n // 2 + 1):
        lev = 1 - 2 * stats.binom.cdf(k - 1, n, 0.5)
        if lev < nominal:
            break
        best, level = k, lev
    return {"x": x, "nominal": nominal, "lo": s[best - 1], "hi": s[n - best],
            "level": float(level)}


def perm(a, b):
    res = stats.permutation_test(
        (a, b), lambda x, y: abs(np.mean(y) - np.mean(x)), permutation_type="independent",
        alternative="greater", n_resamples=np.inf, vectorized=False)
    return {"a": a, "b": b, "p": float(res.pvalue)}


def mw_cdf(m, n, u, method="exact"):
    """P(U <= u): samples x (m) and y (n) with #{x_i > y_j} = u"""
    y = list(range(n))
    x, left = [], u
    for i in range(m):
        c = min(n, left)
        left -= c
        x.append(c - 0.5 + i * 1e-6)  # no ties (they would change scipy's variance)
    assert left == 0
    p = stats.mannwhitneyu(x, y, alternative="less", method=method).pvalue
    return float(p)


def shift(a, b, nominal):
    d = np.sort(np.subtract.outer(np.log(b), np.log(a)).ravel())
    mn = len(a) * len(b)

    def level(k):
        return 1 - 2 * mw_cdf(len(a), len(b), k - 1)

    # the level falls as k grows: bisect for the largest k reaching nominal
    lo, hi = 1, (mn + 1) // 2
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if level(mid) >= nominal:
            lo = mid
        else:
            hi = mid - 1
    best = lo
    return {"a": a, "b": b, "nominal": nominal, "ratio": float(math.exp(np.median(d))),
            "lo": float(math.exp(d[best - 1])), "hi": float(math.exp(d[mn - best])),
            "level": float(level(best))}


def main():
    ds = datasets()
    rng = np.random.default_rng(7)
    out = {"median": [{"x": x, "median": float(np.median(x))} for x in ds]}
    out["median_ci"] = [median_ci(x, nom) for x in ds for nom in (0.95, 0.99) if len(x) >= 2]
    pairs = [
        ([100, 101, 99, 100.5, 99.5, 100.2], [110, 111, 109, 110.5, 109.5, 110.2]),
        ([10, 11, 12, 13, 14], [10, 11, 12, 13, 14]),
        (ds[4], ds[5]),
        ([1.0, 2.0, 3.0, 4.0], [2.5, 3.5, 4.5, 5.5, 6.5]),
        (rnd(rng.normal(50, 5, 7)), rnd(rng.normal(55, 5, 8))),
        (rnd(rng.normal(50, 5, 3)), rnd(rng.normal(50, 5, 9))),
    ]
    out["perm"] = [perm(list(map(float, a)), list(map(float, b))) for a, b in pairs]
    # the gate's p: two-sided Mann-Whitney, exact law (samples without ties)
    out["mw_test"] = [{"a": list(map(float, a)), "b": list(map(float, b)),
                       "p": float(stats.mannwhitneyu(b, a, alternative="two-sided",
                                                     method="exact").pvalue)}
                      for a, b in pairs if len(set(a) & set(b)) == 0]
    out["perm_min_p"] = []
    for na, nb in ((3, 3), (4, 5), (5, 5), (3, 7), (6, 6), (2, 9)):
        a = [float(i) for i in range(na)]
        b = [float(100 + i) for i in range(nb)]
        out["perm_min_p"].append({"na": na, "nb": nb, "p": perm(a, b)["p"]})
    out["mw_cdf"] = []
    for m, n in ((3, 3), (4, 5), (5, 5), (6, 6), (3, 9), (10, 10), (8, 12), (20, 25)):
        for u in sorted({0, 1, 2, m * n // 4, m * n // 2 - 1, m * n // 2, m * n - 3}):
            if 0 <= u <= m * n:
                out["mw_cdf"].append({"na": m, "nb": n, "u": u, "cdf": mw_cdf(m, n, u)})
    # beyond STATS_MW_EXACT_MAX cells the C side uses the normal law with continuity
    # correction: scipy's asymptotic method is the same approximation
    for m, n in ((50, 51), (60, 70)):
        for u in (m * n // 4, m * n // 2 - 40, m * n // 2):
            out["mw_cdf"].append({"na": m, "nb": n, "u": u,
                                  "cdf": mw_cdf(m, n, u, method="asymptotic")})
    out["shift"] = []
    for a, b in ((ds[4], ds[5]), (ds[5], ds[6]), (ds[6], ds[7]), (ds[7], ds[8]),
                 (ds[4], ds[8]), (ds[8], ds[9]), ([1.0, 2.0, 4.0], [2.0, 3.0, 5.0])):
        for nom in (0.95, 0.99):
            out["shift"].append(shift(a, b, nom))
    out["quantile"] = [{"p": p, "z": float(stats.norm.ppf(p))}
                       for p in (0.001, 0.005, 0.01, 0.025, 0.3, 0.5, 0.8, 0.95, 0.975, 0.995)]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
