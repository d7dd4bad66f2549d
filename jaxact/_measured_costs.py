"""Measured computation cost of every activation, relative to relu (generated).

Do not edit: regenerate with the command below.  Each value is the median
over interleaved rounds of the paired ratio time(jaxact f) / time(jaxact relu)
on the same float32 input (elementwise: a 1-D array; axis functions: a
[size // 1024, 1024] matrix), for the jitted forward pass
("fwd") and the forward + backward pass with a runtime cotangent ("fwd+bwd").
On a CPU much of the time is memory traffic, so the multiples are smaller
than the arithmetic alone would give; on a shared machine they are noisy.

command: python benchmarks/activations.py --write-costs --size '2**22' --repeats 21 --note '2-core AMD EPYC CPU shared with other test runs (load average 6-8 during the run): noisy; see benchmarks/RESULTS.md'
device: cpu (cpu, x86_64); date: 2026-11-28 14:14 UTC
jax 0.10.2, jaxlib 0.10.2, jaxact 0.1.0
size: 4194304 elements, repeats: 21
noise check: relu against a second copy of itself measured {'fwd': 0.98, 'fwd+bwd': 1.06}
note: 2-core AMD EPYC CPU shared with other test runs (load average 6-8 during the run): noisy; see benchmarks/RESULTS.md
"""

MEASURED_ON = {'command': "python benchmarks/activations.py --write-costs --size '2**22' --repeats "
            "21 --note '2-core AMD EPYC CPU shared with other test runs (load average "
            "6-8 during the run): noisy; see benchmarks/RESULTS.md'",
 'device_kind': 'cpu',
 'platform': 'cpu',
 'date': '2026-11-28 14:14 UTC',
 'jax_version': '0.10.2',
 'jaxact_version': '0.1.0',
 'size': 4194304,
 'repeats': 21,
 'relu_vs_relu': {'fwd': 0.98, 'fwd+bwd': 1.06}}

# name -> {mode: time multiple of relu}
MEASURED_COSTS: dict[str, dict[str, float]] = {
    'identity': {'fwd': 1.02, 'fwd+bwd': 1.05},
    'relu': {'fwd': 1.0, 'fwd+bwd': 1.0},
    'relu6': {'fwd': 1.07, 'fwd+bwd': 0.73},
    'leaky_relu': {'fwd': 1.04, 'fwd+bwd': 1.0},
    'hard_tanh': {'fwd': 1.0, 'fwd+bwd': 1.17},
    'hard_sigmoid': {'fwd': 1.02, 'fwd+bwd': 1.01},
    'hard_swish': {'fwd': 1.05, 'fwd+bwd': 1.11},
    'sparse_plus': {'fwd': 0.99, 'fwd+bwd': 1.5},
    'sparse_sigmoid': {'fwd': 1.06, 'fwd+bwd': 0.96},
    'sigmoid': {'fwd': 1.98, 'fwd+bwd': 1.76},
    'tanh': {'fwd': 2.79, 'fwd+bwd': 1.91},
    'softplus': {'fwd': 2.29, 'fwd+bwd': 1.98},
    'log_sigmoid': {'fwd': 2.21, 'fwd+bwd': 2.18},
    'soft_sign': {'fwd': 1.02, 'fwd+bwd': 0.96},
    'squareplus': {'fwd': 1.1, 'fwd+bwd': 1.12},
    'elu': {'fwd': 2.02, 'fwd+bwd': 1.27},
    'selu': {'fwd': 1.87, 'fwd+bwd': 1.68},
    'celu': {'fwd': 2.1, 'fwd+bwd': 1.53},
    'silu': {'fwd': 1.7, 'fwd+bwd': 2.18},
    'swish': {'fwd': 2.01, 'fwd+bwd': 2.49},
    'mish': {'fwd': 3.1, 'fwd+bwd': 4.53},
    'gelu': {'fwd': 3.39, 'fwd+bwd': 3.46},
    'softmax': {'fwd': 3.28, 'fwd+bwd': 1.57},
    'log_softmax': {'fwd': 3.32, 'fwd+bwd': 2.5},
    'softmin': {'fwd': 3.23, 'fwd+bwd': 2.37},
    'glu': {'fwd': 1.64, 'fwd+bwd': 2.72},
}
