"""The numerical contract (shared/DESIGN.md) for every elementwise activation.

* float32 / float64: forward within 2 ULP and first derivative within 4 ULP of
  mpmath (50 digits) on a dense grid, the neighbourhoods of the derivative's
  zero crossings and kinks, and logarithmic magnitudes up to the largest
  finite value.
* bfloat16 / float16: every one of the 65,536 bit patterns, forward within
  1 ULP and derivative within 4 ULP of a float64 reference.
* no NaN/Inf where the true value is finite, no spurious 0 (a 0 where the
  reference is a normal number fails the ULP bound).
* second derivatives finite and close to mpmath.

Where a bound is not met at some inputs, ``STATED_BOUNDS`` names the inputs
and the bound that is met there instead; everywhere else the contract's bound
applies unchanged.  Two platform facts are stated once for every function:

* XLA on CPU flushes subnormal numbers to zero, as inputs and as results.  A
  subnormal input gives the result at 0; a result whose magnitude is below
  ``FLUSH_BAND`` times the smallest normal number may be 0 when one of its
  factors (e^x in x e^x, say) is subnormal and flushed.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import jaxact
from configs import ELEMENTWISE_CONFIGS, bound, config_id, derivative_by_jvp
from references import ELEMENTWISE
from ulp import DTYPES, finfo, mp_double_word, ulp_error

FORWARD_ULP = {"float64": 2.0, "float32": 2.0, "bfloat16": 1.0, "float16": 1.0}
DERIVATIVE_ULP = 4.0
FLUSH_BAND = 2.0**12

# (name, changed params, dtype, "value"|"derivative") -> [(lo, hi, bound)]: on lo <= x <= hi
# the stated bound is met instead of the contract's; each entry is commented with why.
# Empty: every function meets the contract as written (the last entries, for silu, swish,
# softplus, mish, squareplus, gelu and hard_swish, went with the double-word forms).
STATED_BOUNDS: dict[tuple, list[tuple[float, float, float]]] = {}


def _stated(config, dtype: str, what: str):
    name, params = config
    changed = tuple(sorted((k, v) for k, v in params if jaxact.spec(name).defaults.get(k) != v))
    return STATED_BOUNDS.get((name, changed, dtype, what), [])


def _grid(dtype: str, config) -> np.ndarray:
    """Inputs for the float32/float64 tests, as ``dtype`` values (float64 array)."""
    np_dtype = DTYPES[dtype]
    rng = np.random.default_rng(20261128)
    info = finfo(np_dtype)
    name, params = config
    parts = [
        np.linspace(-12.0, 12.0, 1201),
        rng.uniform(-30.0, 30.0, 600),
        rng.uniform(-2.0, 2.0, 400),
    ]
    for x0 in _zero_crossings(config):
        parts.append(x0 + np.linspace(-0.35, 0.35, 281))
        parts.append(x0 + np.logspace(-7, -1, 40) * np.repeat([-1, 1], 20))
    for k in ELEMENTWISE[name].kinks(**dict(params)):
        parts.append(np.array([k, np.nextafter(k, -np.inf, dtype=np_dtype), np.nextafter(k, np.inf, dtype=np_dtype)], dtype=np.float64))
    top = np.log10(float(info.max))
    mags = np.logspace(np.log10(float(info.tiny)), top - 1e-9, 260)  # 10**top may round past max
    parts += [mags, -mags, np.array([float(info.max), -float(info.max)])]
    x = np.concatenate(parts).astype(np_dtype).astype(np.float64)
    return np.unique(x[np.isfinite(x)])


def _zero_crossings(config):
    name, params = config
    crossings = {"silu": [-1.2784645427610737], "mish": [-1.1924312145154952], "gelu": [-0.7518, -0.7525]}
    if name == "swish":
        return [-1.2784645427610737 / dict(params)["beta"]]
    return crossings.get(name, [])


def as_computed(params, dtype: str) -> dict:
    """The parameters as the function sees them: real ones rounded to the compute dtype.

    (beta = 1.702 is a different number in float32; the reference must use that one.)
    """
    work = np.float64 if dtype == "float64" else np.float32
    return {k: float(work(v)) if isinstance(v, float) else v for k, v in params}


@functools.lru_cache(maxsize=None)
def _reference(config, dtype: str):
    """(x, value (hi, lo), derivative (hi, lo)) from mpmath at 50 digits."""
    name, params = config
    ref = ELEMENTWISE[name]
    kw = as_computed(params, dtype)
    x = _grid(dtype, config)
    with mp.workdps(50):
        values = [ref.value_mp(mp.mpf(float(v)), **kw) for v in x]
        derivs = [ref.deriv_mp(mp.mpf(float(v)), **kw) for v in x]
    return x, mp_double_word(values), mp_double_word(derivs)


def _at_zero(config, dtype, what) -> float:
    name, params = config
    ref = ELEMENTWISE[name]
    fn = ref.value_mp if what == "value" else ref.deriv_mp
    with mp.workdps(50):
        return float(fn(mp.mpf(0), **as_computed(params, dtype)))


def _check(config, dtype, what, x, got, ref_hi, ref_lo, default_bound):
    err = ulp_error(got, ref_hi, ref_lo, DTYPES[dtype])
    # XLA on CPU reads subnormal inputs as 0 (denormals-are-zero): there the result
    # at 0 (for kinks, the documented convention at 0) is the bound that is met.
    tiny = float(finfo(DTYPES[dtype]).tiny)
    err = np.where((got == 0) & (np.abs(ref_hi) < FLUSH_BAND * tiny), 0.0, err)
    subnormal = (x != 0) & (np.abs(x) < tiny)
    if subnormal.any():
        zero = np.full_like(ref_hi, _at_zero(config, dtype, what))
        err = np.where(subnormal, np.minimum(err, ulp_error(got, zero, 0 * zero, DTYPES[dtype])), err)
    allowed = np.full_like(err, default_bound)
    for lo, hi, b in _stated(config, dtype, what):
        allowed = np.where((x >= lo) & (x <= hi), b, allowed)
    bad = err > allowed
    if bad.any():
        i = np.argsort(-(err - allowed))[:5]
        detail = ", ".join(f"x={x[j]!r}: got {float(got[j])!r} want {ref_hi[j]!r} ({err[j]:.2f} ULP)" for j in i)
        xb = x[bad]
        pytest.fail(
            f"{config_id(config)} {dtype} {what}: {bad.sum()} of {len(x)} inputs over the bound "
            f"(x in [{xb.min():.4g}, {xb.max():.4g}], max {err[bad].max():.3g} ULP); worst: {detail}"
        )
    return float(err.max())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", ELEMENTWISE_CONFIGS, ids=config_id)
def test_forward_within_2_ulp_of_mpmath(config, dtype):
    x, (hi, lo), _ = _reference(config, dtype)
    got = np.asarray(jax.jit(bound(config))(jnp.asarray(x, DTYPES[dtype])))
    assert got.dtype == DTYPES[dtype]
    _check(config, dtype, "value", x, got, hi, lo, FORWARD_ULP[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", ELEMENTWISE_CONFIGS, ids=config_id)
def test_derivative_within_4_ulp_of_mpmath(config, dtype):
    x, _, (hi, lo) = _reference(config, dtype)
    f = bound(config)
    got = np.asarray(jax.jit(lambda v: derivative_by_jvp(f, v))(jnp.asarray(x, DTYPES[dtype])))
    _check(config, dtype, "derivative", x, got, hi, lo, DERIVATIVE_ULP)


def _all_16_bit(dtype: str) -> np.ndarray:
    x = np.arange(2**16, dtype=np.uint32).astype(np.uint16).view(DTYPES[dtype])
    return x[np.isfinite(x.astype(np.float32))]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("config", ELEMENTWISE_CONFIGS, ids=config_id)
def test_every_16_bit_value(config, dtype):
    name, params = config
    ref = ELEMENTWISE[name]
    x16 = _all_16_bit(dtype)
    x64 = x16.astype(np.float64)
    f = bound(config)
    y, dy = jax.jit(lambda v: jax.jvp(f, (v,), (jnp.ones_like(v),)))(jnp.asarray(x16))
    assert y.dtype == x16.dtype and dy.dtype == x16.dtype
    with np.errstate(all="ignore"):
        want = ref.value64(x64, **as_computed(params, dtype))
        want_d = ref.deriv64(x64, **as_computed(params, dtype))
    zeros = np.zeros_like(x64)
    _check(config, dtype, "value", x64, np.asarray(y), want, zeros, FORWARD_ULP[dtype])
    _check(config, dtype, "derivative", x64, np.asarray(dy), want_d, zeros, DERIVATIVE_ULP)


@pytest.mark.parametrize("config", ELEMENTWISE_CONFIGS, ids=config_id)
def test_second_derivative_finite_and_close(config):
    name, params = config
    ref = ELEMENTWISE[name]
    kinks = np.array(ref.kinks(**dict(params)) or [np.inf])
    x = np.concatenate([np.linspace(-8, 8, 161), np.array(_zero_crossings(config)) + 0.01])
    x = x[np.min(np.abs(x[:, None] - kinks[None, :]), axis=1) > 1e-3]
    f = bound(config)
    second = jax.jit(jax.vmap(jax.grad(jax.grad(f))))
    with mp.workdps(50):
        want = np.array([float(ref.deriv2_mp(mp.mpf(float(v)), **dict(params))) for v in x])
    scale = max(np.max(np.abs(want)), 1e-30)
    for dtype, rtol, atol in (("float64", 1e-10, 1e-12), ("float32", 2e-4, 2e-5)):
        xs = jnp.asarray(x, DTYPES[dtype])
        got = np.asarray(second(xs)).astype(np.float64)
        assert np.all(np.isfinite(got)), f"{config_id(config)} {dtype}: non-finite f''"
        want_d = np.array([float(ref.deriv2_mp(mp.mpf(float(v)), **dict(params))) for v in np.asarray(xs, np.float64)])
        np.testing.assert_allclose(got, want_d, rtol=rtol, atol=atol * scale, err_msg=f"{config_id(config)} {dtype}")


@pytest.mark.parametrize("config", ELEMENTWISE_CONFIGS, ids=config_id)
@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16", "float16"])
def test_infinite_inputs_give_limits_with_finite_gradients(config, dtype):
    name, params = config
    ref = ELEMENTWISE[name]
    f = bound(config)
    x = jnp.asarray([-np.inf, np.inf], DTYPES[dtype])
    y, dy = jax.jvp(f, (x,), (jnp.ones_like(x),))
    g = jax.vmap(jax.grad(f))(x)
    with mp.workdps(50):
        want = [float(ref.value_mp(mp.mpf(v), **dict(params))) for v in ("-inf", "inf")]
        want_d = [float(ref.deriv_mp(mp.mpf(v), **dict(params))) for v in ("-inf", "inf")]
    np.testing.assert_array_equal(np.asarray(y, np.float64), np.asarray(want).astype(DTYPES[dtype]).astype(np.float64))
    assert np.all(np.isfinite(np.asarray(dy, np.float64))), f"{config_id(config)}: f'(+-inf) = {dy}"
    np.testing.assert_array_equal(np.asarray(dy, np.float64), np.asarray(want_d).astype(DTYPES[dtype]).astype(np.float64))
    np.testing.assert_array_equal(np.asarray(g, np.float64), np.asarray(dy, np.float64))


@pytest.mark.parametrize("config", ELEMENTWISE_CONFIGS, ids=config_id)
@pytest.mark.parametrize("dtype", ["float64", "float32", "bfloat16", "float16"])
def test_nan_in_gives_nan_out(config, dtype):
    f = bound(config)
    x = jnp.asarray([np.nan, 1.0], DTYPES[dtype])
    y, dy = jax.jvp(f, (x,), (jnp.ones_like(x),))
    assert np.isnan(float(y[0])) and np.isfinite(float(y[1]))
    if config[0] == "identity":  # identity' = 1 everywhere: the tangent passes through
        assert float(dy[0]) == 1.0
    else:
        assert np.isnan(float(dy[0])), f"{config_id(config)}: f'(NaN) = {dy[0]}, want NaN"


def test_famous_spurious_zeros_are_gone():
    """The design document's measured failures: each true value is a normal float32."""
    g = lambda f, v: float(jax.grad(f)(jnp.float32(v)))  # noqa: E731
    assert g(jaxact.sigmoid, 30.0) == pytest.approx(9.357622968839e-14, rel=1e-6)
    assert g(jax.nn.sigmoid, 30.0) == 0.0  # the failure jaxact exists to fix
    assert g(jaxact.tanh, 10.0) == pytest.approx(8.244614e-09, rel=1e-6)
    assert g(jaxact.elu, -20.0) == pytest.approx(2.0611536e-09, rel=1e-6)
    assert g(jaxact.selu, -20.0) == pytest.approx(1.7580993408 * 2.0611536e-09, rel=1e-6)
    assert g(jaxact.soft_sign, 1e4) == pytest.approx(1 / (1 + 1e4) ** 2, rel=1e-6)
    assert np.isfinite(g(jaxact.gelu, 1e20)) and np.isfinite(g(jaxact.gelu, -1e20))
    assert float(jaxact.gelu(jnp.float32(-6.0))) == pytest.approx(-6 * 1.0 / (1 + np.exp(2 * 0.7978845608 * (6 + 0.044715 * 216))), rel=1e-5)
    # the sign of silu' and gelu' just right of their zero crossings
    assert g(jaxact.silu, -1.2784) > 0 and g(jaxact.silu, -1.2785) < 0
    assert g(jaxact.gelu, -0.7524) > 0 and g(jaxact.gelu, -0.7525) < 0


# ----------------------------------------------------------------------------
# dense scan: 2^20 + 1 float32 points on [-12, 12] against the float64 references
# ----------------------------------------------------------------------------
# The mpmath grid above is a few thousand points; this scan found bounds it missed.
# Configs listed here exceed their stated float32 bounds somewhere on the scan
# (max ULP measured 2026-11-28); they are strict xfails, so fixing one makes its
# test fail until it is taken off the list.  Recorded on issue 2.
DENSE_SCAN_KNOWN_OVER: dict[str, str] = {}


def _dense_scan_params():
    params = []
    for config in ELEMENTWISE_CONFIGS:
        reason = DENSE_SCAN_KNOWN_OVER.get(config_id(config))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(config, marks=marks, id=config_id(config)))
    return params


@pytest.mark.parametrize("config", _dense_scan_params())
def test_dense_float32_scan_within_the_stated_bounds(config):
    name, params = config
    kw = as_computed(params, "float32")
    x = np.linspace(-12.0, 12.0, 2**20 + 1).astype(np.float32).astype(np.float64)
    ref = ELEMENTWISE[name]
    with np.errstate(all="ignore"):
        value = np.asarray(ref.value64(x, **kw), np.float64)
        deriv = np.asarray(ref.deriv64(x, **kw), np.float64)
    f = bound(config)
    xs = jnp.asarray(x, jnp.float32)
    got_value = np.asarray(jax.jit(f)(xs))
    got_deriv = np.asarray(jax.jit(lambda v: derivative_by_jvp(f, v))(xs))
    zeros = np.zeros_like(x)
    _check(config, "float32", "value", x, got_value, value, zeros, FORWARD_ULP["float32"])
    _check(config, "float32", "derivative", x, got_deriv, deriv, zeros, DERIVATIVE_ULP)
