"""Generate ``jaxact/_coefficients.py``: series coefficients computed with mpmath.

Run ``python tools/gen_coefficients.py`` after changing anything here; the test
``tests/test_coefficients.py`` regenerates the text and fails if the committed
file differs, so the constants can never drift from their definition.

What is generated
-----------------
* ``TANH_ODD``: Taylor coefficients of tanh(x)/x in powers of x**2 (Bernoulli
  numbers), used for |x| < 0.55 where 1 - 2e/(1+e) would cancel.
* ``TANH_RATIONAL``: (P, Q) with tanh(x) ~ x P(x**2) / Q(x**2) on |x| <= 9.0139
  (tanh rounds to 1 in float32 beyond), P(0) = Q(0) = 1, all coefficients
  positive; a minimax fit of the relative error (about 1e-9).  Evaluated in
  float32 it is within about 7 float32 ULP, so it serves only 16-bit inputs,
  whose result is rounded to 8 or 11 bits.
* ``TANH32_SMALL``, ``TANH32_SMALL_LIMIT``: P with tanh(x) ~ x + x t P(t), t = x**2,
  on |x| < 0.8 (float32 only); a minimax fit of the relative error of P (its
  error reaches the result scaled by at most 0.21).
* ``EXP32_REDUCED``: e**r ~ sum_k c_k r**k on |r| <= ln(2)/2 (relative minimax,
  about 2e-9), the kernel of the float32 tanh's exp(2|x|) = 2**n e**r.
* ``EXP2_NARROW``: c1..c4 with 2**f ~ 1 + c1 f + ... + c4 f**4 on |f| <= 1/2
  (relative minimax, about 2**-18.4, rounded to float32; the constant term is
  exactly 1, so e**0 = 1): the short-chain exp of ``_numerics.exp_narrow`` that
  16-bit inputs use.
* ``ERFC_NARROW``: c0..c7 of P with erfc(z) ~ t exp(P(t) - z**2),
  t = 2 / (2 + z), on 0 <= z <= 9.4 (minimax of P's absolute error, that is of
  erfc's relative error, about 2**-20.5; rounded to float32): the normal CDF of
  ``gelu(approximate=False)`` for 16-bit inputs (``_numerics.normal_cdf_narrow``).
* ``DERIVATIVE_ROOTS``: for each activation whose derivative crosses zero
  (silu, mish, gelu exact, gelu tanh), the root x0 as a double-double
  (hi, lo) and the constants that the cancellation-free forms in
  ``jaxact/activations.py`` need near x0 (each a double-double):
  silu: exp(x0); mish: exp(x0) and 6 + 4 x0; gelu tanh: exp(v(x0)) with
  v(x) = 2 sqrt(2/pi) (x + 0.044715 x**3).
* ``CONSTANTS``: irrational or decimal constants as double-doubles (hi, lo)
  so that a constant costs no rounding: the GELU constants, 1/sqrt(2),
  1/sqrt(2 pi) and SELU's lambda and lambda * alpha (jax.nn's decimals).
* ``GELU_EXACT_SERIES``: Taylor coefficients c_k (k >= 1) of
  Phi(x) + x phi(x) around its zero x0, f'(x0 + d) = sum_k c_k d**k; the
  series in d = (x - x0_hi) - x0_lo does not cancel near x0.
"""
from __future__ import annotations

import sys
from pathlib import Path

import mpmath as mp
import numpy as np

mp.mp.dps = 60

TANH_TERMS = 20
ROOT_TERMS = 30


def _sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def _silu_prime(x):
    s = _sigmoid(x)
    return s * (1 + x * (1 - s))


def _mish_prime(x):
    sp = mp.log1p(mp.exp(x))
    t = mp.tanh(sp)
    return t + x * _sigmoid(x) * (1 - t * t)


def _gelu_exact_prime(x):
    return mp.ncdf(x) + x * mp.npdf(x)


_K = mp.sqrt(2 / mp.pi)
_A = mp.mpf("0.044715")


def _gelu_tanh_prime(x):
    u = _K * (x + _A * x**3)
    t = mp.tanh(u)
    du = _K * (1 + 3 * _A * x**2)
    return (1 + t) / 2 + x / 2 * (1 - t * t) * du


def _v(x):
    return 2 * _K * (x + _A * x**3)


ROOTS = {
    "silu": (_silu_prime, -1.28, lambda x0: {"exp_x0": mp.exp(x0)}),
    "mish": (_mish_prime, -1.19, lambda x0: {"exp_x0": mp.exp(x0), "six_plus_4x0": 6 + 4 * x0}),
    "gelu_exact": (_gelu_exact_prime, -0.75, lambda x0: {}),
    "gelu_tanh": (_gelu_tanh_prime, -0.75, lambda x0: {"exp_v0": mp.exp(_v(x0))}),
}


def _double_double(v):
    hi = float(v)
    lo = float(v - mp.mpf(hi))
    return hi, lo


def _tanh_coefficients():
    # tanh(x)/x = sum_n c_n x**(2n),  c_n = 2**(2n+2) (2**(2n+2) - 1) B_(2n+2) / (2n+2)!
    out = []
    for n in range(TANH_TERMS):
        m = 2 * n + 2
        out.append(mp.mpf(2) ** m * (mp.mpf(2) ** m - 1) * mp.bernoulli(m) / mp.factorial(m))
    return out


TANH_RATIONAL_LIMIT = 9.0139
TANH_RATIONAL_DEGREES = (4, 5)


def _tanh_rational(iters: int = 60, samples: int = 6000):
    """Minimax (relative error) fit of tanh(sqrt t)/sqrt t by P(t)/Q(t), P(0) = Q(0) = 1.

    Linearised least squares (Loeb), reweighted towards the largest errors (Lawson),
    on Chebyshev-like nodes in s = t / T; the reference is mpmath's tanh.
    """
    m, n = TANH_RATIONAL_DEGREES
    big_t = TANH_RATIONAL_LIMIT**2
    k = np.arange(samples)
    s = (1 - np.cos(np.pi * (k + 0.5) / samples)) / 2
    f = np.array([float(mp.tanh(mp.sqrt(v * big_t)) / mp.sqrt(v * big_t)) for v in s])
    a_p = np.stack([s**i for i in range(1, m + 1)], 1)
    a_q = np.stack([s**j for j in range(1, n + 1)], 1)
    w, q_prev, best = np.ones(samples), np.ones(samples), None
    for it in range(iters):
        scale = w / (f * q_prev)  # (1 + P1 - f (1 + Q1)) / (f Q) ~ the relative error
        a = np.concatenate([a_p, -f[:, None] * a_q], 1) * scale[:, None]
        c = np.linalg.lstsq(a, (f - 1) * scale, rcond=None)[0]
        p, q = np.concatenate([[1.0], c[:m]]), np.concatenate([[1.0], c[m:]])
        q_prev = 1 + a_q @ q[1:]
        err = (1 + a_p @ p[1:]) / q_prev / f - 1
        if best is None or np.abs(err).max() < best[0]:
            best = (np.abs(err).max(), p, q)
        if it > 5:
            w = w * np.sqrt(np.abs(err))
            w /= w.max()
    _, p, q = best
    # back to t; 12 digits, so that the text does not depend on the last bits of lstsq
    p = [float(f"{v:.12g}") for v in p / big_t ** np.arange(m + 1)]
    q = [float(f"{v:.12g}") for v in q / big_t ** np.arange(n + 1)]
    return p, q


TANH32_SMALL_LIMIT = 0.8
TANH32_SMALL_DEGREE = 5
EXP32_DEGREE = 6
EXP2_NARROW_DEGREE = 4
ERFC_NARROW_DEGREE = 7
ERFC_NARROW_LIMIT = 9.4  # erfc(9.4) / 2 is below float32's smallest normal number


def _lawson(f, powers, z, iters=80, first=0, relative_to=None):
    """Minimax polynomial sum_k c_k z**k (k = first .. powers - 1) fitted to samples f.

    The error is relative to ``relative_to`` (default f itself).  Least squares
    reweighted towards the largest errors (Lawson); 12 digits, so that the text does
    not depend on the last bits of lstsq.
    """
    a = np.stack([z**k for k in range(first, powers)], 1)
    denominator = np.abs(f if relative_to is None else relative_to)
    w, best = np.ones(len(z)), None
    for _ in range(iters):
        scale = w / denominator
        c = np.linalg.lstsq(a * scale[:, None], f * scale, rcond=None)[0]
        err = np.abs(a @ c - f) / denominator
        if best is None or err.max() < best[0]:
            best = (err.max(), c)
        w = w * np.sqrt(err)
        w /= w.max()
    return [float(f"{v:.12g}") for v in best[1]]


def _tanh32_small(samples: int = 3000):
    k = np.arange(samples)
    s = (1 - np.cos(np.pi * (k + 0.5) / samples)) / 2
    t = [mp.mpf(float(v)) * TANH32_SMALL_LIMIT**2 for v in s]
    f = np.array([float((mp.tanh(mp.sqrt(v)) / mp.sqrt(v) - 1) / v) for v in t])
    return _lawson(f, TANH32_SMALL_DEGREE + 1, np.array([float(v) for v in t]))


def _exp32_reduced(samples: int = 3000):
    half = float(mp.log(2) / 2)
    r = np.linspace(-half, half, samples)
    f = np.array([float(mp.exp(mp.mpf(float(v)))) for v in r])
    return _lawson(f, EXP32_DEGREE + 1, r)


def _exp2_narrow(samples: int = 3000):
    """c1..c4 of 2**f ~ 1 + c1 f + ... + c4 f**4 on |f| <= 1/2, relative minimax, float32."""
    f = np.linspace(-0.5, 0.5, samples)
    two_f = np.array([float(mp.mpf(2) ** mp.mpf(float(v))) for v in f])
    coeffs = _lawson(two_f - 1, EXP2_NARROW_DEGREE + 1, f, first=1, relative_to=two_f)
    return [float(np.float32(c)) for c in coeffs]


def _erfc_narrow(samples: int = 4000):
    """c0..c7 of P with erfc(z) ~ t exp(P(t) - z**2), t = 2 / (2 + z), 0 <= z <= 9.4.

    P fits log(erfc(z) / t) + z**2 (between log(1/(2 sqrt pi)) and 0) with the smallest
    absolute error, which is the relative error of erfc; rounded to float32.
    """
    k = np.arange(samples)
    z = (1 - np.cos(np.pi * (k + 0.5) / samples)) / 2 * ERFC_NARROW_LIMIT
    t = 2 / (2 + z)
    target = np.array([float(mp.log(mp.erfc(mp.mpf(v)) * (2 + mp.mpf(v)) / 2) + mp.mpf(v) ** 2) for v in z])
    coeffs = _lawson(target, ERFC_NARROW_DEGREE + 1, t, relative_to=np.ones_like(target))
    return [float(np.float32(c)) for c in coeffs]


_SELU_ALPHA = mp.mpf("1.6732632423543772848170429916717")
_SELU_SCALE = mp.mpf("1.0507009873554804934193349852946")

CONSTANTS = {
    "two_sqrt_2_over_pi": 2 * _K,
    "gelu_a": _A,
    "sqrt_half": 1 / mp.sqrt(2),
    "inv_sqrt_2pi": 1 / mp.sqrt(2 * mp.pi),
    "selu_scale": _SELU_SCALE,
    "selu_scale_alpha": _SELU_SCALE * _SELU_ALPHA,
}


def render() -> str:
    lines = [
        '"""Series coefficients for jaxact. GENERATED by tools/gen_coefficients.py: do not edit."""',
        "",
        "# tanh(x) / x = sum_n TANH_ODD[n] * x**(2n)",
        "TANH_ODD = (",
    ]
    lines += [f"    {float(c)!r}," for c in _tanh_coefficients()]
    p, q = _tanh_rational()
    lines += [")", "", f"# tanh(x) ~ x P(x**2) / Q(x**2) for |x| <= {TANH_RATIONAL_LIMIT}: (P, Q), lowest power first"]
    lines += [f"TANH_RATIONAL_LIMIT = {TANH_RATIONAL_LIMIT!r}", "TANH_RATIONAL = ("]
    lines += [f"    ({', '.join(repr(v) for v in coeffs)}),".replace(", ", ",\n     ") for coeffs in (p, q)]
    lines += [")", "", "# float32 tanh: tanh(x) ~ x + x t P(t), t = x**2, |x| < TANH32_SMALL_LIMIT; P lowest power first"]
    lines += [f"TANH32_SMALL_LIMIT = {TANH32_SMALL_LIMIT!r}", "TANH32_SMALL = ("]
    lines += [f"    {v!r}," for v in _tanh32_small()]
    lines += [")", "", "# e**r ~ sum_k EXP32_REDUCED[k] * r**k for |r| <= ln(2)/2", "EXP32_REDUCED = ("]
    lines += [f"    {v!r}," for v in _exp32_reduced()]
    lines += [")", "", "# 2**f ~ 1 + sum_k EXP2_NARROW[k - 1] * f**k for |f| <= 1/2 (float32 values)",
              "EXP2_NARROW = ("]
    lines += [f"    {v!r}," for v in _exp2_narrow()]
    lines += [")", "", "# erfc(z) ~ t exp(sum_k ERFC_NARROW[k] t**k - z**2), t = 2 / (2 + z), for z >= 0 "
              "(float32 values)", "ERFC_NARROW = ("]
    lines += [f"    {v!r}," for v in _erfc_narrow()]
    lines += [")", "", "# name: {'x0': (hi, lo), constant name: (hi, lo), ...}", "DERIVATIVE_ROOTS = {"]
    roots = {}
    for name, (fprime, guess, constants) in ROOTS.items():
        x0 = roots[name] = mp.findroot(fprime, guess)
        lines.append(f"    {name!r}: {{")
        for key, value in {"x0": x0, **constants(x0)}.items():
            lines.append(f"        {key!r}: {_double_double(value)!r},")
        lines.append("    },")
    lines += ["}", "", "# name: (hi, lo) with hi + lo the constant to about 106 bits", "CONSTANTS = {"]
    lines += [f"    {name!r}: {_double_double(value)!r}," for name, value in CONSTANTS.items()]
    lines += ["}", "", "# Phi(x) + x phi(x) = sum_k GELU_EXACT_SERIES[k - 1] * (x - x0)**k", "GELU_EXACT_SERIES = ("]
    coeffs = mp.taylor(_gelu_exact_prime, roots["gelu_exact"], ROOT_TERMS)[1:]
    lines += [f"    {float(c)!r}," for c in coeffs]
    lines += [")", ""]
    return "\n".join(lines)


def main() -> None:
    target = Path(__file__).resolve().parent.parent / "jaxact" / "_coefficients.py"
    target.write_text(render())
    print(f"wrote {target}", file=sys.stderr)


if __name__ == "__main__":
    main()
