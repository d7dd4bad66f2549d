"""Measuring errors in units in the last place (ULP) of a target dtype.

References are high-precision values given as float64 double words (hi, lo) or
plain float64.  XLA on CPU flushes subnormal results to zero, so a reference
below the dtype's smallest normal number is met by any result within one
smallest-normal of it (the bound stated for that range).
"""
from __future__ import annotations

import ml_dtypes
import mpmath as mp
import numpy as np

DTYPES = {
    "float64": np.float64,
    "float32": np.float32,
    "bfloat16": ml_dtypes.bfloat16,
    "float16": np.float16,
}


def finfo(dtype):
    return ml_dtypes.finfo(dtype) if dtype == ml_dtypes.bfloat16 else np.finfo(dtype)


def spacing(ref: np.ndarray, dtype) -> np.ndarray:
    """The ULP of |ref| in ``dtype`` (at least the smallest subnormal), as float64."""
    info = finfo(dtype)
    mag = np.minimum(np.abs(np.asarray(ref, np.float64)), float(info.max))
    mag = np.where(np.isnan(mag), 0.0, mag).astype(dtype)
    if dtype in (np.float32, np.float64):
        with np.errstate(over="ignore"):  # spacing(max) overflows: the fallback below handles it
            sp = np.spacing(mag).astype(np.float64)
        sp = np.where(np.isfinite(sp), sp, np.spacing(np.nextafter(mag, 0)).astype(np.float64))
    else:  # 16-bit types: the next bit pattern up, minus the value
        up = (mag.view(np.uint16) + np.uint16(1)).view(dtype)
        sp = up.astype(np.float64) - mag.astype(np.float64)
        down = (mag.view(np.uint16) - np.uint16(1)).view(dtype)
        sp = np.where(np.isfinite(sp), sp, mag.astype(np.float64) - down.astype(np.float64))
    return np.maximum(np.abs(sp), float(info.smallest_subnormal))


def mp_double_word(values) -> tuple[np.ndarray, np.ndarray]:
    """mpmath values as float64 (hi, lo) arrays; infinities go in hi with lo = 0."""
    hi = np.array([float(v) for v in values], dtype=np.float64)
    lo = np.zeros_like(hi)
    for i, v in enumerate(values):
        if np.isfinite(hi[i]):
            lo[i] = float(v - mp.mpf(hi[i]))
    return hi, lo


def ulp_error(got, ref_hi, ref_lo, dtype) -> np.ndarray:
    """|got - ref| in ULPs of ``dtype``; 0 where the flush-to-zero allowance applies.

    Where the reference overflows the dtype, the expected result is +-inf.
    """
    got = np.asarray(got).astype(np.float64)
    info = finfo(dtype)
    tiny = float(info.tiny)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: handled below
        diff = np.abs((got - ref_hi) - ref_lo)
        err = diff / spacing(ref_hi, dtype)
        rounded = ref_hi.astype(dtype).astype(np.float64)  # overflow to inf is the point
    overflow = np.isinf(rounded) & np.isfinite(ref_hi)
    exact_inf = np.isinf(ref_hi)
    err = np.where(overflow | exact_inf, np.where(got == rounded, 0.0, np.inf), err)
    flushed = (np.abs(ref_hi) < tiny) & (diff <= tiny)
    return np.where(flushed, 0.0, np.where(np.isnan(err), np.inf, err))
