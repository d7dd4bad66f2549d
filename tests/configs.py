"""Test configurations drawn from the registry: every activation at its defaults
and at each of its ``test_params``, so a new registry entry is tested by itself."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

import jaxact


def _configs(kind: str) -> list[tuple[str, tuple]]:
    out = []
    for name in jaxact.names():
        s = jaxact.spec(name)
        if s.kind != kind:
            continue
        out.append((name, tuple(sorted(s.defaults.items()))))
        for extra in s.test_params:
            out.append((name, tuple(sorted({**s.defaults, **extra}.items()))))
    return out


ELEMENTWISE_CONFIGS = _configs("elementwise")
AXIS_CONFIGS = _configs("axis")


def config_id(config) -> str:
    name, params = config
    spec_defaults = jaxact.spec(name).defaults
    changed = [f"{k}={v}" for k, v in params if spec_defaults.get(k) != v]
    return name + (f"[{','.join(changed)}]" if changed else "")


def bound(config) -> callable:
    """The activation with the config's parameters bound: f(x)."""
    name, params = config
    return functools.partial(jaxact.get(name), **dict(params))


def derivative_by_jvp(f, x):
    """f'(x) elementwise, through jax.jvp (the custom rule)."""
    return jax.jvp(f, (x,), (jnp.ones_like(x),))[1]
