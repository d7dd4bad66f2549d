"""Every elementwise activation compiles to one loop over memory on CPU.

XLA's CPU fusion writes an expensive intermediate (a divide, exp, sqrt) to memory
when its consumer would read it more than once, which splits an activation into
two kernels and costs a whole extra pass over the array (sigmoid measured 1.66x
jax.nn instead of 1.10x).  ``jaxact._numerics.single_use`` avoids it; this test
keeps every registry function honest: the forward is one fusion, and forward plus
backward (two outputs) at most two.  It reads the compiled program, not a clock.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

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
