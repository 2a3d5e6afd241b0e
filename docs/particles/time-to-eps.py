#!/usr/bin/python3
"""Time-to-ε against the number of modes K, fixed vs annealed bandwidth, from docs/particles/annealing-modes.sh.

Usage: docs/particles/time-to-eps.py RUNS_DIR OUT_PREFIX
Reads RUNS_DIR/k<K>-<fixed|anneal>-seed<S>/trace.csv (the particle lab's trace: time, mode_mass_error, ...),
takes the first recorded time from which the mode-mass error stays below ε = 0.1 to the end (censored at the
run's end when it ends above), and writes OUT_PREFIX.md (per K: each seed's time, the mean, and fits) and OUT_PREFIX.png (time-to-ε
against K on log axes). Needs python3-matplotlib.
"""
import csv, math, os, re, sys
from collections import defaultdict

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

EPS = 0.1
runs, prefix = sys.argv[1], sys.argv[2]


def time_to_eps(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if float(rows[-1]["mode_mass_error"]) >= EPS:
        return float(rows[-1]["time"]), True
    t = float(rows[-1]["time"])
    for r in reversed(rows):
        if float(r["mode_mass_error"]) >= EPS:
            break
        t = float(r["time"])
    return t, False


times = defaultdict(list)  # (schedule, K) -> [(t, censored)]
for name in sorted(os.listdir(runs)):
    m = re.fullmatch(r"k(\d+)-(fixed|anneal)-seed(\d+)", name)
    if m:
        times[(m.group(2), int(m.group(1)))].append(time_to_eps(os.path.join(runs, name, "trace.csv")))

ks = sorted({k for _, k in times})


def mean(values):
    return sum(values) / len(values)


def fit(xs, ys):
    """Least-squares slope and intercept of ys on xs."""
    mx, my = mean(xs), mean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return slope, my - slope * mx


lines = [f"Time from which the mode-mass error stays below {EPS} ('>' = above it at the end; 0 = from the start).", "",
         "| K | fixed h: seeds | fixed: mean | annealed: seeds | annealed: mean |", "|---|---|---|---|---|"]
means = {}
for k in ks:
    cells = []
    for schedule in ("fixed", "anneal"):
        ts = times[(schedule, k)]
        cells.append(", ".join((">" if c else "") + f"{t:.2f}" for t, c in ts))
        censored = any(c for _, c in ts)
        means[(schedule, k)] = (mean([t for t, _ in ts]), censored)
        cells.append((">" if censored else "") + f"{means[(schedule, k)][0]:.2f}")
    lines.append(f"| {k} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} |")
lines.append("")
for schedule, label in (("fixed", "fixed h"), ("anneal", "annealed")):
    pts = [(k, means[(schedule, k)][0]) for k in ks if not means[(schedule, k)][1] and means[(schedule, k)][0] > 0]
    if len(pts) >= 2:
        slope, _ = fit([math.log(k) for k, _ in pts], [math.log(t) for _, t in pts])
        per_log, _ = fit([math.log(k) for k, _ in pts], [t for _, t in pts])
        per_k2, _ = fit([k * k for k, _ in pts], [math.log(t) for _, t in pts])
        lines.append(f"- {label}: log-log slope {slope:.2f} (t ∝ K^{slope:.2f}); t against ln K: {per_log:.2f} per unit of ln K; "
                     f"ln t against K²: {per_k2:.4f} per unit of K² (K = {', '.join(str(k) for k, _ in pts)}: uncensored means above 0)")
with open(prefix + ".md", "w") as f:
    f.write("\n".join(lines) + "\n")

fig, ax = plt.subplots(figsize=(6, 4.5))
for schedule, label, colour in (("fixed", "fixed h = 0.3", "tab:red"), ("anneal", "annealed from σ0 = spacing·K/2 to 0.3", "tab:blue")):
    for k in ks:
        for t, censored in times[(schedule, k)]:
            if t > 0:
                ax.scatter(k, t, color=colour, marker="^" if censored else "o", alpha=0.4, s=18)
    shown = [k for k in ks if means[(schedule, k)][0] > 0]
    ax.plot(shown, [means[(schedule, k)][0] for k in shown], color=colour, label=label)
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("modes K")
ax.set_ylabel(f"time until mode-mass error < {EPS}")
ax.set_title(f"Annealing against K modes, N = 512, d = 1\n{os.path.basename(prefix)}", fontsize=10)
ax.legend()
fig.tight_layout()
fig.savefig(prefix + ".png", dpi=120)
print("\n".join(lines))
