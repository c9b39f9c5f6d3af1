"""Reference values for tests/reference_values.rs (KS and Wasserstein-1), from scipy.

Run: python3 tests/scripts/ks_reference.py   (scipy 1.17.1, numpy)
The samples are integer sequences, exact in f32 and f64, with many ties inside and across
samples. Printed: D and p from ks_2samp(method="asymp") (scipy uses kstwo.sf(D, round(ne))),
the Stephens-corrected asymptotic p = kolmogorov((sqrt(ne) + 0.12 + 0.11/sqrt(ne)) * D),
and wasserstein_distance.
"""
import numpy as np
from scipy import special, stats

CASES = {
    # name: (reference, current)
    "ties_shifted": (
        [(i * 37) % 101 for i in range(200)],
        [(j * 53) % 97 + 15 for j in range(150)],
    ),
    "few_values": (
        [i % 5 for i in range(300)],
        [min((j * 3) % 7, 4) for j in range(250)],
    ),
    "large_shift_600": (
        [(i * 7919) % 10007 for i in range(1000)],
        [(j * 104729) % 10007 + 600 for j in range(800)],
    ),
    "small": (
        [(i * 5) % 11 for i in range(8)],
        [(j * 3) % 7 + 4 for j in range(10)],
    ),
    "scale": (
        [(i * 37) % 101 for i in range(500)],
        [2 * ((j * 41) % 101) - 50 for j in range(400)],
    ),
}

for name, (a, b) in CASES.items():
    a, b = np.asarray(a, float), np.asarray(b, float)
    res = stats.ks_2samp(a, b, method="asymp")
    n, m = len(a), len(b)
    ne = n * m / (n + m)
    lam = (np.sqrt(ne) + 0.12 + 0.11 / np.sqrt(ne)) * res.statistic
    print(
        f"{name}: D={res.statistic!r} scipy_asymp_p={res.pvalue!r} "
        f"stephens_p={special.kolmogorov(lam)!r} w1={stats.wasserstein_distance(a, b)!r}"
    )
