"""How an elementwise activation becomes a jitted function with a custom_jvp rule.

An :class:`ElementwiseRule` is built from three pieces written on the compute
dtype (float32 for 16-bit inputs, else the input's own float dtype):

* ``value(x, *params)``: the forward value,
* ``prime(x, *params)``: d value / dx in closed form,
* ``partials``: one d value / d param per parameter (for learnable parameters).

A piecewise-linear rule whose derivative is a function of its output alone (relu:
[x > 0] = [y > 0]) can give ``prime_from_output(y, *params)`` instead.  The
backward then reads y, which the next layer keeps for its own backward anyway,
so x is not kept for the derivative: one activation-sized residual less per layer.
This is done for float32 and float64 inputs, where y is the very array the caller
receives.  bfloat16/float16 inputs keep ``prime(x)``: their y inside the rule is a
float32 intermediate, not the array the next layer keeps, and on CPU, where XLA's
dot converts a 16-bit activation to float32 anyway, a bfloat16 training step keeps
as much either way (measured).

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

from jaxact._numerics import compute_dtype, kept_as_is, promote_input


def on_compute_dtype(fn: Callable, x, *params):
    """Run ``fn`` on x (and params) upcast to the compute dtype; round the result once."""
    x = promote_input(x)
    out_dtype = x.dtype
    work = compute_dtype(out_dtype)
    params = [jnp.asarray(p).astype(work) for p in params]
    return fn(x.astype(work), *params).astype(out_dtype)


class ElementwiseRule:
    """value + closed-form derivative, packaged as a jitted custom_jvp function."""

    def __init__(
        self,
        value: Callable,
        prime: Callable,
        partials: Sequence[Callable] = (),
        prime_from_output: Callable | None = None,
    ):
        if prime_from_output is not None and partials:
            raise ValueError("prime_from_output: a rule with learnable parameters needs x for its partials")
        self.value = value
        self.prime = prime
        self.prime_from_output = prime_from_output
        self.partials = tuple(partials)
        core = jax.custom_jvp(value)
        core.defjvp(self._jvp, symbolic_zeros=True)
        self.core = core
        self.output_core = None
        if prime_from_output is not None:
            self.output_core = jax.custom_jvp(value)
            self.output_core.defjvp(self._jvp_from_output, symbolic_zeros=True)
        self.apply = jax.jit(self._apply)
        self.derivative = jax.jit(partial(on_compute_dtype, prime))

    def _apply(self, x, *params):
        x = promote_input(x)
        wide = compute_dtype(x.dtype) == x.dtype
        core = self.output_core if wide and self.output_core is not None else self.core
        return on_compute_dtype(core, x, *params)

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

    def _jvp_from_output(self, primals, tangents):
        (x, *params), (tx, *_) = primals, tangents  # no partials: the constructor refuses them
        y = kept_as_is(self.output_core(x, *params))
        return y, (self.prime_from_output(y, *params) * tx).astype(y.dtype)
