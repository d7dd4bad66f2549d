"""jaxact: activation functions for JAX with gradients you can trust.

Every activation is jit-compiled, has a closed-form ``jax.custom_jvp`` rule, keeps
its input's dtype (bfloat16/float16 computed in float32 and rounded once) and is
registered with its metadata: ``jaxact.get``, ``jaxact.spec``, ``jaxact.table``.
``import jaxact`` imports neither flax nor optax.  The submodules: ``jaxact.losses``
and ``jaxact.pairing`` (imported here), ``jaxact.linen``, ``jaxact.nnx`` and
``jaxact.diagnostics`` (import them yourself; they need flax), ``jaxact.plot``.
"""
from jaxact._registry import (
    ActivationError,
    ActivationSpec,
    aliases,
    derivative,
    get,
    names,
    spec,
)
from jaxact.activations import (
    celu,
    elu,
    gelu,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    identity,
    leaky_relu,
    linear,
    log_sigmoid,
    mish,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    soft_sign,
    softplus,
    sparse_plus,
    sparse_sigmoid,
    squareplus,
    swish,
    tanh,
)
from jaxact.softmax import glu, log_softmax, softmax, softmin
from jaxact._table import table
from jaxact import losses, pairing
from jaxact.losses import LossError
from jaxact.pairing import PairingError

__version__ = "0.1.0"

__all__ = [
    "ActivationError",
    "ActivationSpec",
    "LossError",
    "PairingError",
    "aliases",
    "celu",
    "derivative",
    "elu",
    "gelu",
    "get",
    "glu",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "identity",
    "leaky_relu",
    "linear",
    "log_sigmoid",
    "log_softmax",
    "losses",
    "mish",
    "names",
    "pairing",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "soft_sign",
    "softmax",
    "softmin",
    "softplus",
    "sparse_plus",
    "sparse_sigmoid",
    "spec",
    "squareplus",
    "swish",
    "table",
    "tanh",
]
