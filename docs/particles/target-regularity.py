#!/usr/bin/python3
"""Fisher information I(ν_h) = E_{ν_h} ‖∇log ν_h‖² of the smoothed targets against the bandwidth h, per axis.

N(0, 1): 1/(1 + h²), bounded as h → 0. The uniform density on [−√3, √3]: its smoothed density
p_h(x) = [Φ((a − x)/h) − Φ((−a − x)/h)]/(2a) has a boundary layer of width h in which the score is of order 1/h,
so I grows like 1/h. Printed: I at each h by numerical integration, and the log–log slope of I against h
between neighbouring h (−β in I ∝ h^(−β)). Usage: target-regularity.py
"""
import math

from scipy import integrate, stats

A = math.sqrt(3)


def uniform_fisher(h):
    def p(x):
        return (stats.norm.cdf((A - x) / h) - stats.norm.cdf((-A - x) / h)) / (2 * A)

    def dp(x):
        return (stats.norm.pdf((-A - x) / h) - stats.norm.pdf((A - x) / h)) / (2 * A * h)

    f = lambda x: dp(x) ** 2 / p(x) if p(x) > 0 else 0.0
    # The integrand lives in the two boundary layers: 12 h beyond each face, with the faces as break points.
    return integrate.quad(f, -A - 12 * h, A + 12 * h, points=[-A, A], limit=400, epsabs=0, epsrel=1e-10)[0]


def main():
    hs = [0.4, 0.2, 0.1, 0.05, 0.025]
    print("| h | I, N(0,1) | I, uniform | local slope of I (uniform) |")
    print("|---|---|---|---|")
    prev = None
    for h in hs:
        iu = uniform_fisher(h)
        slope = "" if prev is None else f"{math.log(iu / prev[1]) / math.log(h / prev[0]):.3f}"
        print(f"| {h} | {1 / (1 + h * h):.4f} | {iu:.4f} | {slope} |")
        prev = (h, iu)


if __name__ == "__main__":
    main()
