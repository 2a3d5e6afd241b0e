"""Where the bounds of DataCopyingTests.CopiesScoreBelowZeroAndNewSamplesAboutZero sit in the spread of what they bound.

The test draws its points afresh each run, so a bound is only as good as its distance from the statistic's spread. This
repeats the test's constructions (8-D standard normal data, 3000 training and 1200 held-out points; 2400 held-out for
the noisy copies) in NumPy, with an implementation of its own (exact nearest distances, Mann-Whitney z from ranks), and
prints each statistic's mean and standard deviation over many draws, how many standard deviations each bound is away,
and how often a draw broke it.

    /usr/bin/python3 tests/calibration/data_copying.py [draws, default 150] [seed, default 0]

Debian's python3-numpy (/usr/bin/python3 here); about 2 s a draw on 2 cores.
"""
import sys

import numpy as np

D = 8


def nearest_two(queries, train):
    """Each query's distances to its nearest and second-nearest training points, exactly (float64)."""
    squared = (queries ** 2).sum(1)[:, None] - 2 * queries @ train.T + (train ** 2).sum(1)[None, :]
    two = np.partition(squared, 1, axis=1)[:, :2]
    return np.sqrt(np.maximum(two, 0)).T


def mann_whitney_z(a, b):
    """(U - m k / 2) / sd(U), U the pairs where a is the larger; the values are continuous, so ties are left out."""
    ranks = np.empty(len(a) + len(b))
    ranks[np.argsort(np.concatenate([a, b]), kind="stable")] = np.arange(1, len(ranks) + 1)
    m, k = len(a), len(b)
    u = ranks[:m].sum() - m * (m + 1) / 2
    return (u - m * k / 2) / np.sqrt(m * k * (m + k + 1) / 12)


def judge(train, held_out, generated):
    """The statistics of the generated points, and of the second half of the held-out points (the floor), both against
    the first half: z of nearest distances, z of nearest/second ratios, share at most the held-out ratios' 1 % quantile."""
    m, half = len(generated), len(held_out) // 2
    nearest, second = nearest_two(np.concatenate([generated, held_out]), train)
    ratios = np.where(second > 0, nearest / np.where(second > 0, second, 1), 0)
    ref_d, ref_r = nearest[m:m + half], ratios[m:m + half]
    threshold = np.sort(ref_r)[int(np.floor(0.01 * (half - 1)))]

    def one(part):
        return (mann_whitney_z(nearest[part], ref_d), mann_whitney_z(ratios[part], ref_r), np.mean(ratios[part] <= threshold))

    return one(slice(0, m)), one(slice(m + half, None))


# (case, statistic 0: z, 1: ratio z, 2: near share, bound, "<" or ">"): the test's asserts, one a row.
BOUNDS = [
    ("copies", 0, -20, "<"), ("copies", 1, -20, "<"), ("copies", 2, 0.95, ">"),
    ("floor", 0, -4.5, ">"), ("floor", 0, 4.5, "<"), ("floor", 1, -4.5, ">"), ("floor", 1, 4.5, "<"), ("floor", 2, 0.05, "<"),
    ("fresh", 0, -4.5, ">"), ("fresh", 0, 4.5, "<"), ("fresh", 1, -4.5, ">"), ("fresh", 1, 4.5, "<"), ("fresh", 2, 0.05, "<"),
    ("wide", 0, 5, ">"), ("wide", 1, -3, ">"), ("wide", 2, 0.05, "<"),
    ("central", 0, -10, "<"), ("central", 1, -4.5, ">"), ("central", 2, 0.05, "<"),
    ("noisy", 0, -3, ">"), ("noisy", 1, -3, "<"),
]


def draw(rng):
    train = rng.standard_normal((3000, D))
    held_out = rng.standard_normal((1200, D))
    copies, floor = judge(train, held_out, train[:600] + 0.02 * rng.standard_normal((600, D)))
    return {
        "copies": copies, "floor": floor,
        "fresh": judge(train, held_out, rng.standard_normal((600, D)))[0],
        "wide": judge(train, held_out, 1.5 * rng.standard_normal((600, D)))[0],
        "central": judge(train, held_out, 0.5 * rng.standard_normal((600, D)))[0],
        "noisy": judge(train, rng.standard_normal((2400, D)), train[:1200] + 0.54 * rng.standard_normal((1200, D)))[0],
    }


def main():
    draws = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    results = [draw(rng) for _ in range(draws)]
    names = ["z", "ratio z", "near share"]
    print(f"{draws} draws; a bound's distance in standard deviations of its statistic, and the draws that broke it")
    for case, stat, bound, side in BOUNDS:
        values = np.array([r[case][stat] for r in results])
        mean, sd = values.mean(), values.std(ddof=1)
        broken = np.sum(values >= bound) if side == "<" else np.sum(values <= bound)
        # A saturated statistic (every copy nearer than every held-out point) is the same in every draw.
        away = f"{abs(bound - mean) / sd:5.1f} sd away" if sd > 1e-9 * max(1, abs(mean)) else "every draw the same"
        print(f"{case:8} {names[stat]:10} {mean:+8.3f} ± {sd:6.3f}   bound {side} {bound:+6.2f}: {away}, broken {broken}/{draws}")


if __name__ == "__main__":
    main()
