"""How an elementwise activation becomes a jitted function with a custom_jvp rule.

An :class:`ElementwiseRule` is built from three pieces written on the compute
dtype (float32 for 16-bit inputs, else the input's own float dtype):

* ``value(x, *params)``: the forward value,
* ``prime(x, *params)``: d value / dx in closed form,
* ``partials``: one d value / d param per parameter (for learnable parameters).

The jvp rule returns ``prime(x) * tx + sum(partial(x) * tparam)``.  The rule
is itself written with jaxact's building blocks, so it can be differentiated
again (second derivatives, hessians).  Tangents that are symbolic zeros (a
parameter nobody differentiates) cost nothing.
"""
from __future__ import annotations

from functools import partial
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
from jax.custom_derivatives import SymbolicZero

from jaxact._numerics import compute_dtype, promote_input


def on_compute_dtype(fn: Callable, x, *params):
    """Run ``fn`` on x (and params) upcast to the compute dtype; round the result once."""
    x = promote_input(x)
    out_dtype = x.dtype
    work = compute_dtype(out_dtype)
    params = [jnp.asarray(p).astype(work) for p in params]
    return fn(x.astype(work), *params).astype(out_dtype)


class ElementwiseRule:
    """value + closed-form derivative, packaged as a jitted custom_jvp function."""

    def __init__(self, value: Callable, prime: Callable, partials: Sequence[Callable] = ()):
        self.value = value
        self.prime = prime
        self.partials = tuple(partials)
        core = jax.custom_jvp(value)
        core.defjvp(self._jvp, symbolic_zeros=True)
        self.core = core
        self.apply = jax.jit(partial(on_compute_dtype, core))
        self.derivative = jax.jit(partial(on_compute_dtype, prime))

    def _jvp(self, primals, tangents):
        x, *params = primals
        tx, *tparams = tangents
        y = self.core(x, *params)
        terms = []
        if not isinstance(tx, SymbolicZero):
            # The barrier keeps XLA from merging the derivative's exp/reciprocal with the
            # forward's: shared, they are written to memory between two kernels (XLA's CPU
            # fusion will not duplicate them); apart, each kernel recomputes them from x.
            terms.append(self.prime(jax.lax.optimization_barrier(x), *params) * tx)
        for partial_fn, t in zip(self.partials, tparams):
            if not isinstance(t, SymbolicZero):
                terms.append(partial_fn(x, *params) * t)
        dy = terms[0]
        for term in terms[1:]:
            dy = dy + term
        return y, jnp.broadcast_to(dy, y.shape).astype(y.dtype)
