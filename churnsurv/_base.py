"""The base class of churnsurv's estimators: hyperparameters read from the ``__init__`` signature.

As in scikit-learn, ``__init__`` stores its arguments under their own names and does nothing else, so
:meth:`BaseEstimator.get_params`, :meth:`BaseEstimator.set_params` and the ``repr`` can be derived from it.
"""

from __future__ import annotations

import inspect

__all__ = ["BaseEstimator"]


def _is_default(value, default) -> bool:
    if value is default:
        return True
    try:
        return type(value) is type(default) and bool(value == default)
    except (TypeError, ValueError):  # e.g. arrays, whose == is elementwise
        return False


class BaseEstimator:
    """get_params / set_params / repr from the ``__init__`` signature (scikit-learn hygiene)."""

    @classmethod
    def _param_signature(cls) -> dict[str, inspect.Parameter]:
        params = inspect.signature(cls.__init__).parameters
        return {k: p for k, p in params.items() if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}

    def get_params(self, deep: bool = True) -> dict:
        """The hyperparameters, as given to ``__init__``.

        ``deep`` is accepted for scikit-learn compatibility; no churnsurv estimator nests another.
        """
        return {name: getattr(self, name) for name in self._param_signature()}

    def set_params(self, **params):
        """Set hyperparameters, validated at the next ``fit``; returns ``self``.

        An unknown name raises ``ValueError`` (and sets nothing).
        """
        valid = list(self._param_signature())
        for key in params:
            if key not in valid:
                raise ValueError(f"Invalid parameter {key!r} for estimator {type(self).__name__}. "
                                 f"Valid parameters are: {sorted(valid)!r}.")
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        sig = self._param_signature()
        changed = [f"{k}={v!r}" for k, v in self.get_params(deep=False).items() if not _is_default(v, sig[k].default)]
        return f"{type(self).__name__}({', '.join(changed)})"
