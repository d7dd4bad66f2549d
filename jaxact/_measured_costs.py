"""Measured computation cost of every activation, relative to relu (generated).

Do not edit: regenerate with the command below.  Each value is the median
over interleaved rounds of the paired ratio time(jaxact f) / time(jaxact relu)
on the same float32 input (elementwise: a 1-D array; axis functions: a
[size // 1024, 1024] matrix), for the jitted forward pass
("fwd") and the forward + backward pass with a runtime cotangent ("fwd+bwd").
On a CPU much of the time is memory traffic, so the multiples are smaller
than the arithmetic alone would give; on a shared machine they are noisy.

command: python benchmarks/activations.py --write-costs --size '2**22' --repeats 21 --note '2-core AMD EPYC CPU, quiet apart from this run (after the double-word exp and the fusion fixes)'
device: cpu (cpu, x86_64); date: 2026-12-05 08:24 UTC
jax 0.10.2, jaxlib 0.10.2, jaxact 0.1.0
size: 4194304 elements, repeats: 21
noise check: relu against a second copy of itself measured {'fwd': 0.99, 'fwd+bwd': 1.03}
note: 2-core AMD EPYC CPU, quiet apart from this run (after the double-word exp and the fusion fixes)
"""

MEASURED_ON = {'command': "python benchmarks/activations.py --write-costs --size '2**22' --repeats "
            "21 --note '2-core AMD EPYC CPU, quiet apart from this run (after the "
            "double-word exp and the fusion fixes)'",
 'device_kind': 'cpu',
 'platform': 'cpu',
 'date': '2026-12-05 08:24 UTC',
 'jax_version': '0.10.2',
 'jaxact_version': '0.1.0',
 'size': 4194304,
 'repeats': 21,
 'relu_vs_relu': {'fwd': 0.99, 'fwd+bwd': 1.03}}

# name -> {mode: time multiple of relu}
MEASURED_COSTS: dict[str, dict[str, float]] = {
    'identity': {'fwd': 0.95, 'fwd+bwd': 0.91},
    'relu': {'fwd': 1.0, 'fwd+bwd': 1.0},
    'relu6': {'fwd': 1.04, 'fwd+bwd': 1.02},
    'leaky_relu': {'fwd': 0.98, 'fwd+bwd': 1.03},
    'hard_tanh': {'fwd': 1.02, 'fwd+bwd': 1.01},
    'hard_sigmoid': {'fwd': 1.01, 'fwd+bwd': 0.99},
    'hard_swish': {'fwd': 1.08, 'fwd+bwd': 1.02},
    'sparse_plus': {'fwd': 1.02, 'fwd+bwd': 1.02},
    'sparse_sigmoid': {'fwd': 1.0, 'fwd+bwd': 0.99},
    'sigmoid': {'fwd': 2.47, 'fwd+bwd': 1.74},
    'tanh': {'fwd': 2.07, 'fwd+bwd': 1.6},
    'softplus': {'fwd': 4.68, 'fwd+bwd': 3.34},
    'log_sigmoid': {'fwd': 4.76, 'fwd+bwd': 2.48},
    'soft_sign': {'fwd': 1.02, 'fwd+bwd': 1.0},
    'squareplus': {'fwd': 3.41, 'fwd+bwd': 1.83},
    'elu': {'fwd': 2.49, 'fwd+bwd': 1.58},
    'selu': {'fwd': 2.32, 'fwd+bwd': 2.03},
    'celu': {'fwd': 2.53, 'fwd+bwd': 1.26},
    'silu': {'fwd': 2.32, 'fwd+bwd': 3.51},
    'swish': {'fwd': 3.75, 'fwd+bwd': 3.8},
    'mish': {'fwd': 7.58, 'fwd+bwd': 6.29},
    'gelu': {'fwd': 5.25, 'fwd+bwd': 5.72},
    'softmax': {'fwd': 3.74, 'fwd+bwd': 1.8},
    'log_softmax': {'fwd': 3.29, 'fwd+bwd': 1.96},
    'softmin': {'fwd': 3.48, 'fwd+bwd': 2.44},
    'glu': {'fwd': 1.23, 'fwd+bwd': 2.17},
}
