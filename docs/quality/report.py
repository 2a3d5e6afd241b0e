#!/usr/bin/python3
"""The image-quality study's table and curves from its run folders.

Usage: docs/quality/report.py RUNS_DIR OUT_PREFIX NAME [NAME ...]
Reads each NAME's metrics.csv (the in-training probe: FD and recall k = 5 on 1,000 EMA samples, every 50
steps, with wall time) and eval.json (drift eval on 5,000 EMA samples), writes OUT_PREFIX.md (the table)
and OUT_PREFIX.png (FD and recall against steps and against CPU minutes). Needs python3-matplotlib.
"""
import csv, json, os, sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

runs, prefix, names = sys.argv[1], sys.argv[2], sys.argv[3:]


def probe(name):
    with open(os.path.join(runs, name, "metrics.csv")) as f:
        rows = [r for r in csv.DictReader(f) if r["fd"]]
    return [(int(r["step"]), float(r["wall_s"]) / 60, float(r["fd"]), float(r["recall"])) for r in rows]


def final(name):
    with open(os.path.join(runs, name, "eval.json"), encoding="utf-8") as f:  # "MMD²": UTF-8 under any locale
        return {m["metric"]: m["generated"] for m in json.load(f)["metrics"]}


lines = ["| run | steps | CPU min | s/step | FD | precision | recall | per-class recall (mean / worst) |",
         "|---|---|---|---|---|---|---|---|"]
fig, axes = plt.subplots(2, 2, figsize=(11, 8))
for name in names:
    p, e = probe(name), final(name)
    step, minutes = p[-1][0], p[-1][1]
    lines.append(f"| {name} | {step} | {minutes:.1f} | {60 * minutes / step:.2f} | {e['FD-fashion-mnist']:.1f} | "
                 f"{e['precision (k=5)']:.3f} | {e['recall (k=5)']:.3f} | "
                 f"{e['per-class recall, mean']:.3f} / {e['per-class recall, worst class']:.3f} |")
    for row, (col, label) in enumerate([(2, "FD (probe, 1,000 samples)"), (3, "recall k=5 (probe)")]):
        for column, (x, xlabel) in enumerate([(0, "step"), (1, "CPU minutes (2 cores, wall)")]):
            ax = axes[row][column]
            ax.plot([r[x] for r in p], [r[col] for r in p], marker=".", label=name)
            ax.set_xlabel(xlabel)
            ax.set_ylabel(label)
            if col == 2:
                ax.set_yscale("log")
axes[0][0].legend(fontsize=7)
fig.tight_layout()
fig.savefig(prefix + ".png", dpi=90)
with open(prefix + ".md", "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
