"""Measured computation cost of every activation, relative to relu (generated).

Do not edit: regenerate with the command below.  Each value is the median
over interleaved rounds of the paired ratio time(jaxact f) / time(jaxact relu)
on the same float32 input (elementwise: a 1-D array; axis functions: a
[size // 1024, 1024] matrix), for the jitted forward pass
("fwd") and the forward + backward pass with a runtime cotangent ("fwd+bwd").
On a CPU much of the time is memory traffic, so the multiples are smaller
than the arithmetic alone would give; on a shared machine they are noisy.

command: python benchmarks/activations.py --write-costs --size '2**22' --repeats 21 --note '2-core AMD EPYC CPU, quiet apart from this run (after the 16-bit softmax, tanh and sigmoid/silu/gelu speed work)'
device: cpu (cpu, x86_64); date: 2026-11-28 15:32 UTC
jax 0.10.2, jaxlib 0.10.2, jaxact 0.1.0
size: 4194304 elements, repeats: 21
noise check: relu against a second copy of itself measured {'fwd': 0.95, 'fwd+bwd': 1.08}
note: 2-core AMD EPYC CPU, quiet apart from this run (after the 16-bit softmax, tanh and sigmoid/silu/gelu speed work)
"""

MEASURED_ON = {'command': "python benchmarks/activations.py --write-costs --size '2**22' --repeats "
            "21 --note '2-core AMD EPYC CPU, quiet apart from this run (after the "
            "16-bit softmax, tanh and sigmoid/silu/gelu speed work)'",
 'device_kind': 'cpu',
 'platform': 'cpu',
 'date': '2026-11-28 15:32 UTC',
 'jax_version': '0.10.2',
 'jaxact_version': '0.1.0',
 'size': 4194304,
 'repeats': 21,
 'relu_vs_relu': {'fwd': 0.95, 'fwd+bwd': 1.08}}

# name -> {mode: time multiple of relu}
MEASURED_COSTS: dict[str, dict[str, float]] = {
    'identity': {'fwd': 1.05, 'fwd+bwd': 1.29},
    'relu': {'fwd': 1.0, 'fwd+bwd': 1.0},
    'relu6': {'fwd': 0.98, 'fwd+bwd': 1.02},
    'leaky_relu': {'fwd': 1.04, 'fwd+bwd': 0.99},
    'hard_tanh': {'fwd': 0.97, 'fwd+bwd': 1.07},
    'hard_sigmoid': {'fwd': 1.04, 'fwd+bwd': 0.98},
    'hard_swish': {'fwd': 1.04, 'fwd+bwd': 1.0},
    'sparse_plus': {'fwd': 1.01, 'fwd+bwd': 0.98},
    'sparse_sigmoid': {'fwd': 0.92, 'fwd+bwd': 0.9},
    'sigmoid': {'fwd': 1.33, 'fwd+bwd': 1.27},
    'tanh': {'fwd': 1.3, 'fwd+bwd': 1.38},
    'softplus': {'fwd': 1.58, 'fwd+bwd': 1.28},
    'log_sigmoid': {'fwd': 1.86, 'fwd+bwd': 1.47},
    'soft_sign': {'fwd': 1.13, 'fwd+bwd': 1.01},
    'squareplus': {'fwd': 1.16, 'fwd+bwd': 1.15},
    'elu': {'fwd': 1.35, 'fwd+bwd': 1.23},
    'selu': {'fwd': 1.4, 'fwd+bwd': 1.29},
    'celu': {'fwd': 1.72, 'fwd+bwd': 1.2},
    'silu': {'fwd': 1.41, 'fwd+bwd': 1.39},
    'swish': {'fwd': 2.13, 'fwd+bwd': 1.77},
    'mish': {'fwd': 2.04, 'fwd+bwd': 3.16},
    'gelu': {'fwd': 2.55, 'fwd+bwd': 2.64},
    'softmax': {'fwd': 2.96, 'fwd+bwd': 1.37},
    'log_softmax': {'fwd': 3.32, 'fwd+bwd': 2.4},
    'softmin': {'fwd': 3.72, 'fwd+bwd': 2.43},
    'glu': {'fwd': 1.26, 'fwd+bwd': 2.7},
}
