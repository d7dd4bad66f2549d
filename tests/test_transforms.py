"""Every registered activation under JAX's transformations, with learnable parameters
and across dtypes.

* jit, vmap, grad, jvp, vjp, jacfwd, jacrev, hessian and lax.scan (differentiated
  through) all run with ``jax.checking_leaks()`` on, and agree with each other to
  float64 tolerance: rtol 1e-13, atol 1e-15 (a few ULP on O(1) values).
* real parameters (discovered from ``spec.params``): jax.grad with respect to the
  parameter, scalar or per-channel, matches a central finite difference (rel 1e-6)
  and the closed form in ``spec.partials`` (rtol 1e-12), under one jit trace.
* dtype policy: the output and gradient dtypes are the input's; bfloat16/float16
  results are exactly the float32 result rounded once; integers and bools are
  promoted as jax promotes them (jnp.sin): int64 and Python numbers to the default
  float dtype, int32 and bool to float32.
* ``jaxact.derivative`` is the jvp tangent (bit for bit) for elementwise functions
  and raises ActivationError for functions of an axis.
* no retracing: a second call with the same shapes and dtypes traces nothing.

Axis functions get 2-D inputs with an even last axis (so glu applies).  The
structural tests run once per activation and static-parameter setting
(``PROGRAMS``); the parameter and derivative tests run every config.
"""
from __future__ import annotations

import contextlib
import functools
import gc

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
from configs import AXIS_CONFIGS, ELEMENTWISE_CONFIGS, bound, config_id, derivative_by_jvp

ALL_CONFIGS = ELEMENTWISE_CONFIGS + AXIS_CONFIGS
RTOL, ATOL = 1e-13, 1e-15  # agreement between two transformations, float64
FD_RTOL, FD_ATOL = 1e-6, 1e-8  # a derivative vs a central finite difference, float64
FD_STEP = 1e-5
PARTIAL_RTOL = 1e-12  # gradient vs the closed-form partial, float64
FLOAT = jnp.result_type(float)

# 2 x 4, away from every kink (0, +-1, +-3, 6), both signs on each row.
X = np.array([[-2.3, -0.7, 0.45, 1.3], [2.6, -1.6, 3.7, -4.2]])
# tangent / cotangent directions that are not all ones
V = np.array([[0.3, -1.1, 0.8, 0.5], [-0.4, 0.9, 1.7, -0.2]])


def _static_variants(configs):
    """One config per activation and setting of its static (non-real) parameters.

    Real parameters are traced values: other values trace the same program, so
    the structural tests (transformations, dtypes, retracing) run these only.
    """
    seen, out = set(), []
    for name, params in configs:
        kinds = {p.name: p.kind for p in jaxact.spec(name).params}
        key = (name, tuple((k, v) for k, v in params if kinds[k] != "real"))
        if key not in seen:
            seen.add(key)
            out.append((name, params))
    return out


PROGRAMS = _static_variants(ALL_CONFIGS)


def _elementwise(config) -> bool:
    return jaxact.spec(config[0]).kind == "elementwise"


def _close(got, want, rtol=RTOL, atol=ATOL, what=""):
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=rtol, atol=atol, err_msg=what)


def _counted_jit(fn):
    """``(jax.jit(fn), traces)``: ``traces`` grows by one each time fn is traced."""
    traces = []

    def body(*args):
        traces.append(None)
        return fn(*args)

    return jax.jit(body), traces


@contextlib.contextmanager
def _leak_checking():
    """``jax.checking_leaks()``, made cheap.

    The leak checker runs gc.collect() after every trace; freezing the objects
    that exist beforehand makes each collection small.  It hides no leak: frozen
    objects still keep what they reference alive, and the tracers a trace
    creates are new (see test_leak_checking_catches_a_leak).
    """
    gc.freeze()
    try:
        with jax.checking_leaks():
            yield
    finally:
        gc.unfreeze()


# ----------------------------------------------------------------------------
# transformations
# ----------------------------------------------------------------------------
def _total(f):
    return lambda v: jnp.sum(f(v))


def _all_transforms(config, x):
    """Every transformation of the config's function at x, as a dict (few: each
    is one more copy of f to trace and compile)."""
    f = bound(config)
    y, pull = jax.vjp(f, x)
    tangents = jnp.stack([jnp.asarray(V, x.dtype), jnp.ones_like(x)])
    cotangents = jnp.stack([jnp.cos(jnp.arange(y.size, dtype=x.dtype)).reshape(y.shape), jnp.ones_like(y)])

    def scan_body(c, xt):  # accumulate sum f(x_t) over the rows
        return c + jnp.sum(f(xt)), None

    def scanned(xs):
        return jax.lax.scan(scan_body, jnp.zeros((), xs.dtype), xs)[0]

    grad = jax.grad(_total(f))
    steps = FD_STEP * jnp.eye(x.size, dtype=x.dtype).reshape(-1, *x.shape)
    out = {
        "value": y,
        "vmap": jax.vmap(f)(x),
        "grad": grad(x),
        "jvp": jax.vmap(lambda t: jax.jvp(f, (x,), (t,))[1])(tangents),  # [V, ones]
        "vjp": jax.vmap(lambda c: pull(c)[0])(cotangents),  # [u, ones]
        "u": cotangents[0],
        "jacfwd": jax.jacfwd(f)(x),
        "jacrev": jax.jacrev(f)(x),
        "hessian": jax.hessian(_total(f))(x),
        "grad_steps": jax.vmap(grad)(jnp.concatenate([x + steps, x - steps])),  # finite-difference hessian
        "scan_value": scanned(x),
        "scan_grad": jax.grad(scanned)(x),
    }
    if _elementwise(config):
        out["vmap_grad"] = jax.vmap(jax.vmap(jax.grad(f)))(x)
    return out


def test_leak_checking_catches_a_leak():
    leaked = []

    def leaky(v):
        leaked.append(v)
        return jaxact.relu(v)

    with pytest.raises(Exception, match="[Ll]eaked"):
        with _leak_checking():
            jax.jit(leaky)(jnp.ones(3))


@functools.lru_cache(maxsize=None)
def _transformed(config) -> dict:
    """_all_transforms at X, traced with leak checking on; one jit per config.

    Compiled without LLVM optimisation: these tests check transformation rules,
    not generated code, and it saves a third of the compile time.
    """
    transforms = jax.jit(
        functools.partial(_all_transforms, config),
        compiler_options={"xla_backend_optimization_level": 0},
    )
    with _leak_checking():
        out = transforms(jnp.asarray(X))
    return {k: np.asarray(v) for k, v in out.items()}


@pytest.mark.parametrize("config", PROGRAMS, ids=config_id)
def test_transformations_agree_without_leaks(config):
    got = _transformed(config)
    x = jnp.asarray(X)
    eager_value = bound(config)(x)
    elementwise = _elementwise(config)
    n_in = x.size
    jf = np.asarray(got["jacfwd"]).reshape(-1, n_in)
    jr = np.asarray(got["jacrev"]).reshape(-1, n_in)
    jvp_v, jvp_ones = got["jvp"]
    vjp_u, vjp_ones = got["vjp"]
    u = np.asarray(got["u"])
    hess = np.asarray(got["hessian"]).reshape(n_in, n_in)
    name = config_id(config)

    _close(got["value"], eager_value, what=f"{name}: jit vs eager")
    _close(got["vmap"], eager_value, what=f"{name}: vmap over rows")
    _close(jf, jr, what=f"{name}: jacfwd vs jacrev")
    _close(jvp_v, (jf @ V.ravel()).reshape(jvp_v.shape), what=f"{name}: jvp vs J v")
    _close(vjp_u, (u.ravel() @ jr).reshape(x.shape), what=f"{name}: vjp vs u J")
    # the dot-product test: <u, J v> from the jvp equals <u J, v> from the vjp
    _close(np.vdot(u, jvp_v), np.vdot(vjp_u, V), what=f"{name}: <u, Jv> vs <uJ, v>")
    _close(got["grad"], vjp_ones, what=f"{name}: grad of sum vs vjp of ones")
    _close(hess, hess.T, what=f"{name}: hessian symmetric")
    plus, minus = np.split(got["grad_steps"].reshape(2 * n_in, n_in), 2)  # row j: grad at x +- h e_j
    fd_hess = (plus - minus).T / (2 * FD_STEP)
    _close(hess, fd_hess, rtol=FD_RTOL, atol=FD_ATOL, what=f"{name}: hessian vs finite differences of grad")
    _close(got["scan_value"], np.sum(eager_value), what=f"{name}: scan vs sum")
    _close(got["scan_grad"], got["grad"], what=f"{name}: grad through scan vs grad of sum")
    if elementwise:
        _close(jvp_ones, vjp_ones, what=f"{name}: jvp(ones) vs vjp(ones)")
        _close(got["vmap_grad"], got["grad"], what=f"{name}: vmap(grad) vs grad of sum")
        _close(jf, np.diag(np.asarray(got["grad"]).ravel()), what=f"{name}: Jacobian is diag(f')")
        _close(hess, np.diag(np.diag(hess)), what=f"{name}: hessian is diagonal")


# ----------------------------------------------------------------------------
# learnable (traced) parameters
# ----------------------------------------------------------------------------
REAL_PARAMS = [
    (config, p.name)
    for config in ELEMENTWISE_CONFIGS
    for p in jaxact.spec(config[0]).params
    if p.kind == "real"
]
# batch x channels, away from the kink at 0, most entries negative (where the
# parameters act for elu, celu and leaky_relu)
XC = np.array([[-2.1, -0.35, 1.4], [-0.8, -3.3, -1.2], [0.6, -1.9, -0.15], [-4.5, 2.2, -0.55]])
WC = np.array([[0.7, -1.3, 0.4], [1.1, 0.9, -0.6], [-0.5, 1.6, 0.8], [1.2, -0.3, 1.5]])
CHANNEL_SCALE = np.array([0.8, 1.0, 1.25])


def _param_id(value) -> str:
    return config_id(value) if isinstance(value, tuple) else value


def test_real_parameters_are_discovered():
    assert {name for (name, _), _ in REAL_PARAMS} >= {"elu", "celu", "leaky_relu", "swish", "squareplus"}


@functools.lru_cache(maxsize=None)
def _loss_and_grad(name, param, others, per_channel):
    """jit of p -> (sum(W f(XC, p)), its gradient), and its trace count.

    Shared by the configs of one function: they differ only in p's value.
    """
    fn = functools.partial(jaxact.get(name), **dict(others))
    x, w = jnp.asarray(XC), jnp.asarray(WC)

    def loss(p):
        return jnp.sum(w * fn(x, **{param: p}))

    return _counted_jit(jax.value_and_grad(loss))


@pytest.mark.parametrize("per_channel", [False, True], ids=["scalar", "per_channel"])
@pytest.mark.parametrize("config,param", REAL_PARAMS, ids=_param_id)
def test_parameter_gradient(config, param, per_channel):
    """d/dparam under jit: central differences, spec.partials, and one trace for every value."""
    name, params = config
    s = jaxact.spec(name)
    others = tuple((k, v) for k, v in params if k != param)
    loss_and_grad, traces = _loss_and_grad(name, param, others, per_channel)
    value = dict(params)[param]
    p0 = jnp.asarray(value * CHANNEL_SCALE if per_channel else value, FLOAT)

    def central_difference(p, h, e):
        return (loss_and_grad(p + h * e)[0] - loss_and_grad(p - h * e)[0]) / (2 * h)

    for p in (p0, p0 * 1.1):  # new values, and the finite-difference steps, must not retrace
        g = np.asarray(loss_and_grad(p)[1])
        h = FD_STEP * max(1.0, float(jnp.max(jnp.abs(p))))
        fd = np.array([central_difference(p, h, e) for e in np.eye(p.size).reshape(-1, *p.shape)])
        what = f"{name} d/d{param}"
        _close(g, fd.reshape(p.shape), rtol=FD_RTOL, atol=0, what=f"{what}: grad vs central difference")
        kw = {**dict(others), param: p}
        partial = s.partials[param](jnp.asarray(XC), *(kw[q.name] for q in s.params))
        closed = jnp.sum(jnp.asarray(WC) * partial, axis=0 if per_channel else None)
        _close(g, closed, rtol=PARTIAL_RTOL, atol=0, what=f"{what}: grad vs spec.partials")
    assert len(traces) == 1, f"{name}: a new value of {param} retraced"


# ----------------------------------------------------------------------------
# dtype policy
# ----------------------------------------------------------------------------
DTYPES = [jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64]
LOW_PRECISION = [jnp.float16, jnp.bfloat16]
# 8 x 8 inputs covering both signs, the kinks and moderate tails
X64 = np.linspace(-9.0, 9.0, 64).reshape(8, 8)


def _dtype_id(dtype) -> str:
    return jnp.dtype(dtype).name


@pytest.mark.parametrize("dtype", DTYPES, ids=_dtype_id)
@pytest.mark.parametrize("config", PROGRAMS, ids=config_id)
def test_output_and_gradient_keep_dtype(config, dtype):
    f = bound(config)

    def value_and_gradient(v):  # the gradient of sum(f) is the pull-back of ones
        y, pull = jax.vjp(f, v)
        return y, pull(jnp.ones_like(y))[0]

    y, g = jax.eval_shape(value_and_gradient, jax.ShapeDtypeStruct(X64.shape, dtype))
    assert y.dtype == g.dtype == dtype


@pytest.mark.parametrize("dtype", LOW_PRECISION, ids=_dtype_id)
@pytest.mark.parametrize("config", PROGRAMS, ids=config_id)
def test_low_precision_is_float32_rounded_once(config, dtype):
    f = bound(config)
    x = jnp.asarray(X64, dtype)
    got = f(x)
    assert got.dtype == dtype
    want = np.asarray(f(x.astype(jnp.float32))).astype(dtype)
    bits = np.asarray(got).view(np.uint16)
    np.testing.assert_array_equal(bits, want.view(np.uint16), err_msg=config_id(config))


def _promoted(dtype):
    """The float dtype jax's own inexact promotion gives (what jnp.sin returns)."""
    return jax.eval_shape(jnp.sin, jax.ShapeDtypeStruct((), dtype)).dtype


@pytest.mark.parametrize("config", PROGRAMS, ids=config_id)
def test_integer_bool_and_python_inputs_become_floats(config):
    """int32/bool -> float32, int64 and Python numbers -> the default float (as jnp.sin)."""
    assert _promoted(jnp.int64) == FLOAT and _promoted(jnp.int32) == _promoted(jnp.bool_) == jnp.float32
    f = bound(config)
    ints, bools = np.round(X).astype(np.int64), X > 0
    python = [float(ints[1, 2]), int(ints[1, 2]), True] if _elementwise(config) else [ints.tolist()]
    for raw in [ints.astype(np.int8), ints.astype(np.int32), ints, bools, *python]:
        promoted = _promoted(jnp.asarray(raw).dtype)
        assert jax.eval_shape(f, raw).dtype == promoted, f"{config_id(config)}: {raw!r}"
    # values: the promoted input through the float function
    want = np.asarray(f(jnp.asarray(ints, FLOAT)))
    for raw in (ints, python[0]):  # an int64 array; a Python float (elementwise) or list of ints (axis)
        got = f(raw)
        assert got.dtype == FLOAT
        np.testing.assert_array_equal(np.asarray(got), want[1, 2] if np.ndim(raw) == 0 else want)


# ----------------------------------------------------------------------------
# jaxact.derivative
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("config", ELEMENTWISE_CONFIGS, ids=config_id)
def test_derivative_is_the_jvp_tangent(config):
    name, params = config
    derivative = functools.partial(jaxact.derivative(name), **dict(params))
    got, want = jax.jit(lambda x: (derivative(x), derivative_by_jvp(bound(config), x)))(jnp.asarray(X64))
    assert got.dtype == want.dtype == FLOAT
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want), err_msg=config_id(config))


@pytest.mark.parametrize("config", AXIS_CONFIGS, ids=config_id)
def test_derivative_of_an_axis_function_raises(config):
    with pytest.raises(jaxact.ActivationError, match="jvp"):
        jaxact.derivative(config[0])


# ----------------------------------------------------------------------------
# retracing
# ----------------------------------------------------------------------------
@pytest.fixture
def compile_events():
    """A list that records every trace and compile JAX performs while the test runs."""
    events = []

    def listener(event, duration, **kwargs):
        if event.startswith("/jax/core/compile/"):
            events.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    yield events
    jax.monitoring.unregister_event_duration_listener(listener)


@pytest.mark.parametrize("config", PROGRAMS, ids=config_id)
def test_same_shapes_do_not_retrace(config, compile_events):
    f = bound(config)
    f_jit, traces = _counted_jit(f)
    x1, x2 = jnp.asarray(X), jnp.asarray(V)
    f_jit(x1)
    f(x1)  # the library's own jitted function, called eagerly
    compile_events.clear()
    f_jit(x2)
    f(x2)
    assert len(traces) == 1
    assert compile_events == [], f"{config_id(config)}: second call traced or compiled"


@pytest.mark.parametrize("config,param", REAL_PARAMS, ids=_param_id)
def test_new_parameter_value_does_not_recompile(config, param, compile_events):
    """Eager calls: a different Python float for a real parameter reuses the compiled code."""
    name, params = config
    fn, kw = jaxact.get(name), dict(params)
    x = jnp.asarray(X)
    fn(x, **kw)
    compile_events.clear()
    fn(x, **{**kw, param: kw[param] * 1.1})
    assert compile_events == [], f"{name}: {param} = {kw[param] * 1.1} recompiled"
