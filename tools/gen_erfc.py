"""Generate ``jaxact/_erfc_coefficients.py``: the constants of jaxact's erfc (``jaxact/_erfc.py``).

Run ``python tools/gen_erfc.py`` after changing anything here; ``tests/test_erfc.py``
renders the text again and fails if the committed file differs.  Rendering takes
well under a second (no iterative fit): every table is either a Taylor series with
exact coefficients or a Chebyshev interpolant computed with mpmath at 50 digits.

What is generated
-----------------
* ``ERF_SMALL``: erf(z) / z = sum_k ERF_SMALL[k] * z**(2k), the Taylor series
  2/sqrt(pi) (-1)**k / (k! (2k + 1)), used for |z| < 0.5 (erfc = 1 - erf there, which
  cancels by less than a factor 1.1).  ``ERF_SMALL_0`` is 2/sqrt(pi) as (hi, lo).
* ``TAIL_C``, ``TAIL_CENTER``, ``TAIL_Q``: for z >= 0.5,
  erfc(z) = exp(-z**2) * t * Q(t) with t = C / (C + z), C = ``TAIL_C``;
  Q(t) = erfcx(z) (C + z) / C varies by only about 10 % over the range (it tends to
  1/(C sqrt(pi)) as z grows), which is why C = 0.5: the low-order terms of Q are
  small next to its constant term, so the rounding errors of the polynomial
  barely reach the result.  ``TAIL_Q[dtype]`` holds the coefficients of Q in
  powers of u = t - TAIL_CENTER (Chebyshev interpolation at ``TAIL_TERMS`` nodes on
  the dtype's range of t, converted to powers of u), the constant term as
  (hi, lo) and the rest as floats.
* ``EXP_P3``: e**r = 1 + r + r**2/2 + r**3 sum_k EXP_P3[k] r**k (Taylor, 1/(k+3)!),
  for |r| <= ln(2)/2 after the reduction -z**2 = n ln 2 + r.
* ``LN2_SPLIT[dtype]``: (c1, c2) with ln 2 ~ c1 + c2, c1 short enough that n * c1
  is exact for every n the dtype's range produces.
* ``TAIL_LIMIT[dtype]``: z beyond which erfc(z) < 2**-150 (float32) or 2**-1075
  (float64), i.e. rounds to zero.
"""
from __future__ import annotations

import sys
from pathlib import Path

import mpmath as mp

DPS = 50
SMALL = 0.5  # |z| < SMALL: 1 - erf(z)
TAIL_C = 0.5
# z beyond which erfc(z) rounds to 0 (erfc(10.1276) = 2**-150, erfc(27.2260) = 2**-1075)
TAIL_LIMIT = {"float32": 10.13, "float64": 27.23}
TAIL_TERMS = {"float32": 14, "float64": 32}
ERF_TERMS = {"float32": 7, "float64": 13}
EXP_TERMS = {"float32": 5, "float64": 12}
# significant bits of c1 in ln 2 = c1 + c2: n * c1 is exact for |n| < 2**(p - bits)
LN2_BITS = {"float32": 16, "float64": 42}


def _double_double(v):
    hi = float(v)
    return hi, float(v - mp.mpf(hi))


def erfcx(z):
    return mp.exp(z * z) * mp.erfc(z)


def tail_interval(dtype: str):
    """(a, b): the range of t = C/(C + z) for SMALL <= z <= TAIL_LIMIT."""
    c = mp.mpf(TAIL_C)
    return c / (c + mp.mpf(TAIL_LIMIT[dtype])), c / (c + mp.mpf(SMALL))


def tail_center(dtype: str) -> float:
    """The midpoint of the t interval, rounded to a multiple of 2**-8 (exact in float32)."""
    a, b = tail_interval(dtype)
    return float(mp.nint((a + b) / 2 * 256) / 256)


def tail_q(t):
    """Q(t) = erfcx(z) / t with z = C (1 - t) / t."""
    c = mp.mpf(TAIL_C)
    return erfcx(c * (1 - t) / t) / t


def tail_coefficients(dtype: str):
    """Coefficients (mpf, lowest power first) of Q in powers of u = t - center.

    Chebyshev interpolation of Q at the n Chebyshev nodes of [a, b], converted exactly
    (in mpmath) to the monomial basis of u.
    """
    n = TAIL_TERMS[dtype]
    with mp.workdps(DPS):
        a, b = tail_interval(dtype)
        mid, half = (a + b) / 2, (b - a) / 2
        angles = [mp.pi * (k + mp.mpf(1) / 2) / n for k in range(n)]
        values = [tail_q(mid + half * mp.cos(angle)) for angle in angles]  # at the Chebyshev nodes
        cheb = [2 * mp.fsum(values[k] * mp.cos(j * angles[k]) for k in range(n)) / n for j in range(n)]
        cheb[0] /= 2
        # sum_j cheb_j T_j(x), x = (t - mid) / half, as a polynomial in x
        # (T_0 = 1, T_1 = x, T_j+1 = 2 x T_j - T_j-1, each as a list of coefficients)
        basis = [[mp.mpf(1)], [mp.mpf(0), mp.mpf(1)]]
        while len(basis) < n:
            prev, cur = basis[-2], basis[-1]
            prev = prev + [mp.mpf(0)] * (len(cur) + 1 - len(prev))
            basis.append([(2 * cur[i - 1] if i else 0) - prev[i] for i in range(len(cur) + 1)])
        poly_x = [mp.fsum(cheb[j] * basis[j][i] for j in range(i, n)) for i in range(n)]
        # x = (u + (center - mid)) / half: expand into powers of u
        shift = (mp.mpf(tail_center(dtype)) - mid) / half
        inv = 1 / half
        poly_u = [mp.mpf(0)] * n
        for i, coef in enumerate(poly_x):  # coef * (shift + inv u)**i
            for k in range(i + 1):
                poly_u[k] += coef * mp.binomial(i, k) * shift ** (i - k) * inv**k
        return poly_u


def erf_small():
    """2/sqrt(pi) (-1)**k / (k! (2k + 1)), k < max(ERF_TERMS)."""
    with mp.workdps(DPS):
        c = 2 / mp.sqrt(mp.pi)
        return [c * (-1) ** k / (mp.factorial(k) * (2 * k + 1)) for k in range(max(ERF_TERMS.values()))]


def ln2_split(dtype: str):
    with mp.workdps(DPS):
        scale = mp.mpf(2) ** LN2_BITS[dtype]
        c1 = mp.nint(mp.log(2) * scale) / scale
        return float(c1), float(mp.log(2) - c1)


def _floats(values, indent="    "):
    return [f"{indent}{float(v)!r}," for v in values]


def render() -> str:
    with mp.workdps(DPS):
        lines = [
            '"""Constants of jaxact._erfc. GENERATED by tools/gen_erfc.py: do not edit."""',
            "",
            f"SMALL = {SMALL!r}  # |z| < SMALL: erfc = 1 - erf",
            f"TAIL_C = {TAIL_C!r}  # t = TAIL_C / (TAIL_C + z)",
            f"TWO_OVER_SQRT_PI = {_double_double(2 / mp.sqrt(mp.pi))!r}",
            f"INV_LN2 = {float(1 / mp.log(2))!r}",
            f"TAIL_LIMIT = {TAIL_LIMIT!r}",
            "",
            "# ln 2 = c1 + c2, n * c1 exact",
            "LN2_SPLIT = {",
        ]
        lines += [f"    {d!r}: {ln2_split(d)!r}," for d in TAIL_TERMS]
        erf = erf_small()
        lines += ["}", "", "# erf(z) / z = sum_k ERF_SMALL[k] z**(2k); ERF_SMALL[0] is TWO_OVER_SQRT_PI"]
        lines += [f"ERF_TERMS = {ERF_TERMS!r}", "ERF_SMALL = ("]
        lines += _floats(erf)
        lines += [")", "", "# e**r = 1 + r + r**2/2 + r**3 sum_k EXP_P3[k] r**k", f"EXP_TERMS = {EXP_TERMS!r}"]
        lines += ["EXP_P3 = ("]
        lines += _floats(1 / mp.factorial(k + 3) for k in range(max(EXP_TERMS.values())))
        lines += [")", "", "# Q(t) = erfcx(z) / t = Q0 + sum_k Q[k] u**k, u = t - TAIL_CENTER"]
        lines += ["# TAIL_Q = {dtype: (Q0 as (hi, lo), (Q[1], Q[2], ...))}"]
        lines += ["TAIL_CENTER = {"]
        lines += [f"    {d!r}: {tail_center(d)!r}," for d in TAIL_TERMS]
        lines += ["}", "TAIL_Q = {"]
        for d in TAIL_TERMS:
            q = tail_coefficients(d)
            lines += [f"    {d!r}: (", f"        {_double_double(q[0])!r},", "        ("]
            lines += _floats(q[1:], indent="            ")
            lines += ["        ),", "    ),"]
        lines += ["}", ""]
    return "\n".join(lines)


def main() -> None:
    target = Path(__file__).resolve().parent.parent / "jaxact" / "_erfc_coefficients.py"
    target.write_text(render())
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
