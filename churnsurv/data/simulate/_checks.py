"""Parameter checks of the simulators , with the scikit-learn style messages."""

from __future__ import annotations

import numbers

import numpy as np

from churnsurv._validation import param_error


def _param_error(name, owner, requirement, value, exc=ValueError):
    return param_error(name, owner, requirement, value, type_error=exc is TypeError)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _check_int(value, name, owner, *, low=1, requirement="a positive int"):
    if not _is_int(value):
        raise _param_error(name, owner, requirement, value, TypeError)
    if value < low:
        raise _param_error(name, owner, requirement, value)
    return int(value)


def _check_real(value, name, owner, *, low=0.0, strict=True, high=None, requirement="a positive float"):
    if not _is_real(value):
        raise _param_error(name, owner, requirement, value, TypeError)
    v = float(value)
    if not np.isfinite(v) or (v <= low if strict else v < low) or (high is not None and v > high):
        raise _param_error(name, owner, requirement, value)
    return v


def _check_bool(value, name, owner):
    if not isinstance(value, (bool, np.bool_)):
        raise _param_error(name, owner, "a bool", value, TypeError)
    return bool(value)


def _check_random_state(random_state, owner):
    if random_state is None or _is_int(random_state):
        if random_state is not None and random_state < 0:
            raise _param_error("random_state", owner, "a non-negative int, a numpy Generator or None", random_state)
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    raise _param_error("random_state", owner, "a non-negative int, a numpy Generator or None", random_state, TypeError)


def _check_vector(value, name, owner, requirement, *, low=0.0, strict=False, min_len=1):
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise _param_error(name, owner, requirement, value, TypeError) from err
    arr = np.atleast_1d(arr)
    if arr.ndim != 1 or arr.size < min_len or not np.all(np.isfinite(arr)):
        raise _param_error(name, owner, requirement, value)
    if np.any(arr <= low) if strict else np.any(arr < low):
        raise _param_error(name, owner, requirement, value)
    return arr


def _times(t, name, owner):
    """Validated float array of times >= 0 (inf allowed) and the shape to give results."""
    try:
        arr = np.asarray(t, dtype=float)
    except (TypeError, ValueError) as err:
        raise _param_error(name, owner, "an array-like of non-negative floats", t, TypeError) from err
    if np.any(np.isnan(arr)) or np.any(arr < 0):
        raise _param_error(name, owner, "an array-like of non-negative floats", t)
    return arr.ravel(), arr.shape


def _reshape(values, shape):
    out = np.asarray(values, dtype=float).reshape(shape)
    return out[()] if out.ndim == 0 else out
