#!/usr/bin/python3
"""Log–log plot of a rate study: per series the mean over seeds at each N (bars: the seeds' range), the fitted
line (least squares over every run, which on a complete grid has the seeds' mean slope), and dashed through the
fit's centre the bound's slope −(2−β)/(2(d+4−β)). Series: one per dimension of each LABEL=sweep.csv[:BETA]
(several sweep.csv of one study, e.g. two seed ranges, joined by commas).
Usage: rate-plot.py --out F.png [--title T] [--column C] [--dims 1,2] LABEL=path/sweep.csv[:beta] ...
"""
import argparse
import csv
import math
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--title", default="")
    p.add_argument("--column", default="root_time_avg_velocity")
    p.add_argument("--dims", default="", help="comma-separated dimensions to draw; default all")
    p.add_argument("series", nargs="+")
    a = p.parse_args()
    fig, ax = plt.subplots(figsize=(8, 5.5))
    colour = 0
    for spec in a.series:
        label, _, rest = spec.rpartition("=")
        path, _, beta = rest.partition(":")
        beta = float(beta or 0)
        by_dim = defaultdict(lambda: defaultdict(list))
        for part in path.split(","):
            for r in csv.DictReader(open(part)):
                if not r["diverged_step"] and r[a.column]:
                    by_dim[int(r["dim"])][int(r["n"])].append(float(r[a.column]))
        for d, runs in sorted(by_dim.items()):
            if a.dims and str(d) not in a.dims.split(","):
                continue
            c = f"C{colour % 10}"
            colour += 1
            ns = np.array(sorted(runs))
            logs = [np.log(runs[n]) for n in ns]
            centre = np.exp([l.mean() for l in logs])
            lo = centre - np.exp([l.min() for l in logs])
            hi = np.exp([l.max() for l in logs]) - centre
            x = np.concatenate([np.full(len(runs[n]), math.log(n)) for n in ns])
            y = np.concatenate(logs)
            slope, intercept = np.polyfit(x, y, 1)
            bound = -(2 - beta) / (2 * (d + 4 - beta))
            name = f"{label + ', ' if label else ''}d={d}: slope {slope:.3f} (bound {bound:.3f})"
            ax.errorbar(ns, centre, yerr=[lo, hi], fmt="o", color=c, capsize=2, label=name)
            xs = np.log(ns[[0, -1]])
            ax.plot(np.exp(xs), np.exp(intercept + slope * xs), "-", color=c)
            mid = xs.mean()
            ax.plot(np.exp(xs), np.exp(intercept + slope * mid + bound * (xs - mid)), "--", color=c, alpha=0.7)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("N (particles)")
    ax.set_ylabel(a.column.replace("_", " "))
    ax.set_title(a.title + "\nsolid: fit over all runs; dashed: the bound's slope; bars: range over seeds", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = a.out + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    import os
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
