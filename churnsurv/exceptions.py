"""Exceptions and warnings raised by churnsurv.

Every data problem raises :class:`TenureDataError` (a ``ValueError``), every
bad parameter a ``ValueError`` or ``TypeError`` with the scikit-learn style
message built in :mod:`churnsurv._validation`.
"""

from __future__ import annotations

__all__ = [
    "TenureDataError",
    "NotFittedError",
    "ChurnsurvWarning",
    "StatisticalWarning",
    "TenureConfoundingWarning",
]


class TenureDataError(ValueError):
    """Customer records that cannot form a valid tenure table.

    The message names the column, the problem, the number of offending rows and
    the first few customer ids, and suggests a fix.

    Attributes
    ----------
    column : str or None
        The column at fault.
    n_rows : int
        How many rows are affected.
    ids : list
        Up to five ids (or row labels) of offending rows.
    """

    def __init__(self, message: str, *, column: str | None = None, n_rows: int = 0, ids=()):
        super().__init__(message)
        self.column = column
        self.n_rows = int(n_rows)
        self.ids = list(ids)


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit`` was called."""


class ChurnsurvWarning(UserWarning):
    """Base class of the warnings churnsurv issues."""


class StatisticalWarning(ChurnsurvWarning):
    """A result is valid but should be read with care (few events, empty segment...)."""


class TenureConfoundingWarning(StatisticalWarning):
    """A segment column is determined by tenure itself.

    Its levels occupy (nearly) disjoint tenure ranges, so survival curves by
    that column measure tenure, not the segment. The bundled Maven file's
    ``Offer`` column is the textbook case.
    """
