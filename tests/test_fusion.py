"""Every elementwise activation compiles to one loop over memory on CPU.

XLA's CPU fusion writes an expensive intermediate (a divide, exp, sqrt) to memory
when its consumer would read it more than once, which splits an activation into
two kernels and costs a whole extra pass over the array (sigmoid measured 1.66x
jax.nn instead of 1.10x).  ``jaxact._numerics.single_use`` avoids it; this test
keeps every registry function honest: the forward is one fusion, and forward plus
backward (two outputs) at most two.  The 16-bit row-wise functions take their row
maximum on the input itself.  These tests read the compiled program, not a clock.
"""
from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import pytest

import jaxact

from configs import ELEMENTWISE_CONFIGS, bound, config_id

pytestmark = pytest.mark.skipif(jax.default_backend() != "cpu", reason="counts XLA:CPU loop fusions")


def _fusions(program, x) -> int:
    return jax.jit(program).lower(x).compile().as_text().count(" fusion(")


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("config", ELEMENTWISE_CONFIGS, ids=config_id)
def test_one_pass_over_memory(config, dtype):
    f = bound(config)
    x = jnp.zeros((4096,), dtype)

    def forward_and_backward(v):
        y, pullback = jax.vjp(f, v)
        return y, pullback(jnp.ones_like(y))[0]

    assert _fusions(f, x) <= 1, f"{config_id(config)} {dtype}: the forward compiles to several kernels"
    assert _fusions(forward_and_backward, x) <= 2, f"{config_id(config)} {dtype}: forward + backward split"


def _training_step_temp_bytes(activation) -> int:
    """Scratch memory of a compiled 6-layer MLP training step (where residuals live)."""
    keys = jax.random.split(jax.random.key(0), 6)
    params = [jax.random.normal(k, (256, 256)) / 16 for k in keys]
    biases = [jnp.zeros((256,)) for _ in keys]
    x = jnp.ones((64, 256))

    def loss(ws, bs):
        h = x
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w + b
            if i < len(ws) - 1:
                h = activation(h)
        return jnp.mean(h * h)

    compiled = jax.jit(jax.grad(loss, argnums=(0, 1))).lower(params, biases).compile()
    analysis = compiled.memory_analysis()
    if analysis is None:
        pytest.skip("this backend reports no memory analysis")
    return analysis.temp_size_in_bytes


@pytest.mark.parametrize("name", ["relu", "relu6"])
def test_piecewise_linear_backward_keeps_only_the_output(name):
    """relu's derivative is read off y, which the next layer keeps anyway: one residual
    per layer less than jax.nn, whose backward XLA rewrites to read the pre-activation."""
    ours = _training_step_temp_bytes(jaxact.get(name))
    theirs = _training_step_temp_bytes(getattr(jax.nn, name))
    per_layer = 64 * 256 * 4
    assert ours <= theirs - 4 * per_layer, f"{name}: {ours} bytes of scratch against jax.nn's {theirs}"


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_narrow_row_maximum_reads_the_input_itself(name, dtype):
    """A 16-bit softmax takes its row maximum in the input's dtype, so the compiled
    program reduces x itself into a 16-bit row vector; a float32 maximum made XLA write
    a float32 copy of x first (one more pass over memory)."""
    x = jnp.zeros((256, 512), dtype)
    short = {"bfloat16": "bf16", "float16": "f16"}[dtype]

    def forward_and_backward(v):
        y, pullback = jax.vjp(jaxact.get(name), v)
        return y, pullback(jnp.ones_like(y))[0]

    for program in (jaxact.get(name), forward_and_backward):
        text = jax.jit(program).lower(x).compile().as_text()
        assert re.search(rf"= {short}\[256(,1)?\]\S* fusion\(", text), f"{name} {dtype}: no 16-bit row maximum"
