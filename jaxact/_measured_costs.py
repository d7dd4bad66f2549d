"""Measured computation cost of every activation, relative to relu (generated).

Do not edit: regenerate with the command below.  Each value is the median over
passes of the median over interleaved rounds of the paired ratio
time(jaxact f) / time(jaxact relu)
on the same float32 input (elementwise: a 1-D array; axis functions: a
[size // 1024, 1024] matrix), for the jitted forward pass
("fwd") and the forward + backward pass with a runtime cotangent ("fwd+bwd").
On a CPU much of the time is memory traffic, so the multiples are smaller
than the arithmetic alone would give; on a shared machine they are noisy.

command: python benchmarks/activations.py --write-costs --repeats 61 --note '2-core AMD EPYC CPU, quiet apart from this run'
device: cpu (cpu, x86_64); date: 2026-12-05 15:13 UTC
jax 0.10.2, jaxlib 0.10.2, jaxact 0.1.0
size: 1048576 elements, repeats: 61, passes: 3
noise check: relu against a second copy of itself measured {'fwd': 1.01, 'fwd+bwd': 1.0}
note: 2-core AMD EPYC CPU, quiet apart from this run
"""

MEASURED_ON = {'command': 'python benchmarks/activations.py --write-costs --repeats 61 --note '
            "'2-core AMD EPYC CPU, quiet apart from this run'",
 'device_kind': 'cpu',
 'platform': 'cpu',
 'date': '2026-12-05 15:13 UTC',
 'jax_version': '0.10.2',
 'jaxact_version': '0.1.0',
 'size': 1048576,
 'repeats': 61,
 'passes': 3,
 'relu_vs_relu': {'fwd': 1.01, 'fwd+bwd': 1.0}}

# name -> {mode: time multiple of relu}
MEASURED_COSTS: dict[str, dict[str, float]] = {
    'identity': {'fwd': 1.01, 'fwd+bwd': 1.16},
    'relu': {'fwd': 1.0, 'fwd+bwd': 1.0},
    'relu6': {'fwd': 1.0, 'fwd+bwd': 0.99},
    'leaky_relu': {'fwd': 1.0, 'fwd+bwd': 0.99},
    'hard_tanh': {'fwd': 1.01, 'fwd+bwd': 1.0},
    'hard_sigmoid': {'fwd': 0.99, 'fwd+bwd': 0.99},
    'hard_swish': {'fwd': 1.24, 'fwd+bwd': 1.05},
    'sparse_plus': {'fwd': 1.01, 'fwd+bwd': 1.0},
    'sparse_sigmoid': {'fwd': 0.97, 'fwd+bwd': 0.97},
    'sigmoid': {'fwd': 3.33, 'fwd+bwd': 2.96},
    'tanh': {'fwd': 3.27, 'fwd+bwd': 3.24},
    'softplus': {'fwd': 6.06, 'fwd+bwd': 4.44},
    'log_sigmoid': {'fwd': 5.71, 'fwd+bwd': 4.09},
    'soft_sign': {'fwd': 1.0, 'fwd+bwd': 0.98},
    'squareplus': {'fwd': 4.47, 'fwd+bwd': 3.5},
    'elu': {'fwd': 3.29, 'fwd+bwd': 2.61},
    'selu': {'fwd': 3.67, 'fwd+bwd': 3.14},
    'celu': {'fwd': 3.85, 'fwd+bwd': 2.93},
    'silu': {'fwd': 4.78, 'fwd+bwd': 5.66},
    'swish': {'fwd': 4.72, 'fwd+bwd': 6.69},
    'mish': {'fwd': 9.0, 'fwd+bwd': 8.35},
    'gelu': {'fwd': 5.78, 'fwd+bwd': 8.03},
    'softmax': {'fwd': 3.19, 'fwd+bwd': 2.64},
    'log_softmax': {'fwd': 3.75, 'fwd+bwd': 2.55},
    'softmin': {'fwd': 3.89, 'fwd+bwd': 2.97},
    'glu': {'fwd': 2.3, 'fwd+bwd': 1.97},
}
