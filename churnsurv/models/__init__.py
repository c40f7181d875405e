"""Regression models of retention: formulas and the Cox models (parametric, discrete-time and cohort models next).

lifelines is imported only inside this layer, and never appears in a public signature.
"""

from churnsurv.models.cox import CauseSpecificCox

__all__ = ["CauseSpecificCox"]
