#!/usr/bin/python3
"""Second implementation of the rate fits, from the sweep.csv files `drift particles --sweep-n` writes.

For each dimension, three 95 % intervals for the exponent of a quantity against N:
  pooled      least squares over every run, slope ± t(0.975, runs − 2)·SE (rates.md's "pooled interval");
  per seed    each seed's own least-squares slope over N, then mean ± t(0.975, seeds − 1)·sd/√seeds: seeds are
              independent, so this holds although runs of one seed share their first draws across N
              (rates.md's "95% interval (per seed)");
  seed means  least squares over the geometric mean at each N, ± t(0.975, points − 2)·SE: its residuals
              include any bend of the curve, so it is the widest when the power law is not exact.
Then the local slopes between neighbouring N (a bend shows as a trend), the bound's exponent
−(2−β)/(2(d+4−β)) and the verdict against it. For --column quadrature_gap the last column is instead the β it
implies: reading the gap as Q·h^(2−β) along h ∝ N^(−1/(d+4−B)) (B the run's --beta), β = 2 + slope·(d+4−B),
with the per-seed half-width times (d+4−B). Usage: rate-intervals.py [--beta B] [--column C] sweep.csv...
"""
import argparse
import csv
import math
from collections import defaultdict

import numpy as np
from scipy import stats


def ols(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    xc = x - x.mean()
    slope = (xc * (y - y.mean())).sum() / (xc * xc).sum()
    resid = y - y.mean() - slope * xc
    se = math.sqrt((resid ** 2).sum() / (len(x) - 2) / (xc * xc).sum())
    return slope, se


def interval(slope, se, df):
    half = stats.t.ppf(0.975, df) * se
    return slope, half


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--beta", type=float, default=0.0)
    p.add_argument("--column", default="root_time_avg_velocity")
    p.add_argument("files", nargs="+")
    a = p.parse_args()
    runs = defaultdict(list)  # d -> [(n, seed, value)]
    for f in a.files:
        for r in csv.DictReader(open(f)):
            if r["diverged_step"] or not r[a.column]:
                continue
            runs[int(r["dim"])].append((int(r["n"]), int(r["seed"]), float(r[a.column])))
    print(f"| d | seeds | N | pooled | per seed | seed means | local slopes | bound | verdict (per seed) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for d in sorted(runs):
        rows = runs[d]
        ns = sorted({n for n, _, _ in rows})
        seeds = sorted({s for _, s, _ in rows})
        pooled = interval(*ols([math.log(n) for n, _, _ in rows], [math.log(v) for _, _, v in rows]), len(rows) - 2)
        per_seed = []
        for s in seeds:
            pts = [(n, v) for n, s2, v in rows if s2 == s]
            if len(pts) == len(ns):
                per_seed.append(ols([math.log(n) for n, _ in pts], [math.log(v) for _, v in pts])[0])
        ps = np.array(per_seed)
        seed = (ps.mean(), stats.t.ppf(0.975, len(ps) - 1) * ps.std(ddof=1) / math.sqrt(len(ps)))
        means = [np.mean([math.log(v) for n2, _, v in rows if n2 == n]) for n in ns]
        mean_fit = interval(*ols([math.log(n) for n in ns], means), len(ns) - 2)
        local = [(means[i + 1] - means[i]) / math.log(ns[i + 1] / ns[i]) for i in range(len(ns) - 1)]
        bound = -(2 - a.beta) / (2 * (d + 4 - a.beta))
        lo, hi = seed[0] - seed[1], seed[0] + seed[1]
        verdict = "tight (bound inside)" if lo <= bound <= hi else "beaten (faster)" if hi < bound else "violated (slower)"
        if a.column == "quadrature_gap":
            scale = d + 4 - a.beta
            verdict = f"β = {2 + seed[0] * scale:.2f} ± {seed[1] * scale:.2f}"
        f = lambda t: f"{t[0]:.3f} ± {t[1]:.3f}"
        print(f"| {d} | {len(ps)} | {ns[0]}–{ns[-1]} | {f(pooled)} | {f(seed)} | {f(mean_fit)} | "
              f"{', '.join(f'{l:.2f}' for l in local)} | {bound:.3f} | {verdict} |")


if __name__ == "__main__":
    main()
