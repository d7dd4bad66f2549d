"""Overhead of the streaming dead-unit / saturation monitor on a jitted training step.

What is measured
----------------
An MLP of ``--layers`` hidden layers (default 16) of ``--width`` units (default
1024), each a Dense layer followed by a jaxact activation module (``--activation``,
default relu), then a Dense head to 10 classes; softmax cross-entropy on a batch of
``--batch`` examples (default 256); one jitted Optax step (``--optimizer``, default
plain SGD, the cheapest update and so the largest relative overhead).  Two programs:

* ``plain``: the usual step, ``model.apply`` (linen) / ``model(x)`` (nnx), grads,
  update.  The modules record nothing and compute no derivative.
* ``monitored``: the module docstring's pattern in :mod:`jaxact.diagnostics`:
  ``apply_and_record`` / ``call_and_record`` inside the loss, and
  ``monitor.update(state, records)`` (per unit: ever active, saturated count).

linen steps are ``jax.jit`` functions of (params, opt_state[, monitor state], x, y)
returning the new values (no donation, the same inputs every call); nnx steps are
``nnx.jit`` functions that update the model and optimizer in place, as in the
docstring.

Method
------
See ``_timing.py``: both programs are compiled and warmed up, then each of
``--repeats`` rounds times one call of each, in alternating order; the overhead is
the median over rounds of the paired ratio monitored / plain, minus 1.  The spread
(min-max of the paired ratios) says how noisy the run was.  Nothing is asserted.

    python benchmarks/monitor_overhead.py                 # 16 x 1024, batch 256, linen and nnx
    python benchmarks/monitor_overhead.py --frameworks linen --repeats 31
    python benchmarks/monitor_overhead.py --layers 4 --width 256 --batch 64
    python benchmarks/monitor_overhead.py --quick         # smoke test, seconds
    python benchmarks/monitor_overhead.py --json out.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxact import diagnostics as dg
from jaxact import linen as jl
from jaxact import nnx as jn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import (  # noqa: E402
    Paired,
    environment,
    header_lines,
    interleaved,
    median_ms,
    parse_list,
    timer,
    warm_up,
)

CLASSES = 10
FRAMEWORKS = ("linen", "nnx")


def optimizer(name: str) -> optax.GradientTransformation:
    return {"sgd": optax.sgd(1e-3), "adam": optax.adam(1e-4)}[name]


def data(batch: int, width: int):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal((batch, width)).astype(np.float32))
    y = jnp.asarray(rng.integers(0, CLASSES, batch).astype(np.int32))
    return x, y


def loss_of(logits, y):
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


# ----------------------------------------------------------------------------
# linen
# ----------------------------------------------------------------------------
def linen_programs(args, x, y):
    layers = []
    for _ in range(args.layers):
        layers += [nn.Dense(args.width), jl.Activation(args.activation)]
    model = nn.Sequential([*layers, nn.Dense(CLASSES)])
    params = model.init(jax.random.key(0, impl="rbg"), x[:1])["params"]
    tx = optimizer(args.optimizer)
    opt_state = tx.init(params)
    monitor = dg.Monitor.create(model, x, variables={"params": params})
    mstate = monitor.init()

    @jax.jit
    def plain(params, opt_state, x, y):
        def loss_fn(params):
            return loss_of(model.apply({"params": params}, x), y)

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    @jax.jit
    def monitored(params, opt_state, mstate, x, y):
        def loss_fn(params):
            logits, records = dg.apply_and_record(model, {"params": params}, x)
            return loss_of(logits, y), records

        (loss, records), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return params, opt_state, monitor.update(mstate, records), loss

    return (
        timer(plain, (params, opt_state, x, y)),
        timer(monitored, (params, opt_state, mstate, x, y)),
        lambda: monitored(params, opt_state, mstate, x, y)[2],
        monitor,
    )


# ----------------------------------------------------------------------------
# nnx
# ----------------------------------------------------------------------------
class MLP(nnx.Module):
    def __init__(self, args, rngs):
        self.layers = nnx.List(
            [nnx.Linear(args.width, args.width, rngs=rngs) for _ in range(args.layers)]
        )
        self.acts = nnx.List([jn.Activation(args.activation) for _ in range(args.layers)])
        self.head = nnx.Linear(args.width, CLASSES, rngs=rngs)

    def __call__(self, x):
        for layer, act in zip(self.layers, self.acts):
            x = act(layer(x))
        return self.head(x)


def nnx_programs(args, x, y):
    def build():
        model = MLP(args, nnx.Rngs(jax.random.key(0, impl="rbg")))
        return model, nnx.Optimizer(model, optimizer(args.optimizer), wrt=nnx.Param)

    model_a, opt_a = build()
    model_b, opt_b = build()
    monitor = dg.Monitor.create(model_b, x)
    mstate = monitor.init()

    @nnx.jit
    def plain(model, optimizer, x, y):
        def loss_fn(model):
            return loss_of(model(x), y)

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    @nnx.jit
    def monitored(model, optimizer, mstate, x, y):
        def loss_fn(model):
            logits, records = dg.call_and_record(model, x)
            return loss_of(logits, y), records

        (loss, records), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model)
        optimizer.update(model, grads)
        return monitor.update(mstate, records), loss

    return (
        timer(plain, (model_a, opt_a, x, y)),
        timer(monitored, (model_b, opt_b, mstate, x, y)),
        lambda: monitored(model_b, opt_b, mstate, x, y)[0],
        monitor,
    )


# ----------------------------------------------------------------------------
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--layers", type=int, default=None, help="hidden layers (16)")
    p.add_argument("--width", type=int, default=None, help="units per layer and input size (1024)")
    p.add_argument("--batch", type=int, default=None, help="examples per step (256)")
    p.add_argument("--repeats", type=int, default=None, help="timed rounds (15)")
    p.add_argument("--activation", default="relu", help="registry name (relu)")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    p.add_argument("--frameworks", type=parse_list, default=list(FRAMEWORKS))
    p.add_argument("--quick", action="store_true", help="4 x 128, batch 32, 3 repeats")
    p.add_argument("--json", metavar="PATH", default=None)
    args = p.parse_args(argv)
    quick = dict(layers=4, width=128, batch=32, repeats=3)
    full = dict(layers=16, width=1024, batch=256, repeats=15)
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    bad = set(args.frameworks) - set(FRAMEWORKS)
    if bad:
        p.error(f"--frameworks: unknown {sorted(bad)}; allowed: {', '.join(FRAMEWORKS)}")
    return args


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    env = environment(
        [f"benchmarks/{Path(__file__).name}", *argv],
        layers=args.layers, width=args.width, batch=args.batch, repeats=args.repeats,
        activation=args.activation, optimizer=args.optimizer, flax_version=flax.__version__,
        optax_version=optax.__version__,
    )
    for line in header_lines(env):
        print(line)
    print(f"flax {flax.__version__}, optax {optax.__version__}; MLP {args.layers} x {args.width} "
          f"({args.activation}), batch {args.batch}, {args.optimizer}, {args.repeats} rounds")
    print()
    print("| framework | plain ms | monitored ms | median ratio | ratio spread | overhead |")
    print("|---|---|---|---|---|---|")
    x, y = data(args.batch, args.width)
    rows = []
    for framework in args.frameworks:
        print(f"[{framework}] compiling and warming up", file=sys.stderr, flush=True)
        plain, monitored, final_state, monitor = (
            linen_programs if framework == "linen" else nnx_programs
        )(args, x, y)
        warm_up(plain)
        warm_up(monitored)
        print(f"[{framework}] timing {args.repeats} rounds", file=sys.stderr, flush=True)
        t_plain, t_monitored = interleaved([plain, monitored], args.repeats)
        paired = Paired.of(t_monitored, t_plain)
        # the monitor really ran: it has seen the batch at every layer
        summary = monitor.summary(final_state(), warn=False)
        assert len(summary.dead) == args.layers and all(
            r.observations == args.batch for r in summary.dead.values()
        )
        row = {
            "framework": framework,
            "plain_ms": median_ms(t_plain),
            "monitored_ms": median_ms(t_monitored),
            "median_ratio": paired.median,
            "ratio_low": paired.low,
            "ratio_high": paired.high,
            "overhead_percent": 100 * (paired.median - 1),
            "ratios": paired.ratios,
        }
        rows.append(row)
        print(f"| {framework} | {row['plain_ms']:.2f} | {row['monitored_ms']:.2f} | "
              f"{paired.median:.3f} | {paired.low:.2f}-{paired.high:.2f} | "
              f"{row['overhead_percent']:+.1f}% |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"environment": env, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
