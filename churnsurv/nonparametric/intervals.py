"""Confidence-interval helpers shared by the estimators (vectorised, NaN-aware).

Every function takes NumPy arrays and returns NumPy arrays; none knows about segments or frames. The
survival transforms follow R ``survival:::survfit_confint`` exactly, so that an estimator built on them matches
``survfit`` to rounding error.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SURVIVAL_CONF_TYPES",
    "HAZARD_CONF_TYPES",
    "z_value",
    "survival_confint",
    "cumulative_hazard_confint",
    "normal_confint",
    "log_normal_confint",
    "wilson_interval",
    "clopper_pearson_interval",
    "two_sided_p_value",
    "zero_event_survival_bound",
    "zero_event_hazard_bound",
]

SURVIVAL_CONF_TYPES = ("log", "log-log", "plain")
HAZARD_CONF_TYPES = ("log", "plain")


def z_value(conf_level: float) -> float:
    """The two-sided normal quantile :math:`z_{1-(1-\\gamma)/2}` for confidence level :math:`\\gamma`."""
    from scipy.special import ndtri  # here, not at the top: scipy loads on first use, not on `import churnsurv`

    return float(ndtri(1.0 - (1.0 - conf_level) / 2.0))


def survival_confint(surv: np.ndarray, sigma: np.ndarray, conf_level: float, conf_type: str):
    """Pointwise confidence limits of a survival curve, as R ``survfit_confint(logse=TRUE)``.

    Parameters
    ----------
    surv : numpy.ndarray
        Survival estimates :math:`\\hat S`.
    sigma : numpy.ndarray
        Standard error of :math:`-\\log \\hat S` (Greenwood: :math:`\\sqrt{\\sum d/(n(n-d))}`); ``inf`` once
        :math:`\\hat S = 0`.
    conf_level : float
    conf_type : {"log", "log-log", "plain"}

    Returns
    -------
    lower, upper : numpy.ndarray
        NaN where :math:`\\hat S = 0` (R returns ``NA``). Where :math:`\\hat S = 1` (no event yet) the variance
        is 0 and every transform gives ``[1, 1]``; R's ``log-log`` returns ``NA`` there except at time 0,
        where ``survfit0`` also sets ``[1, 1]``.
    """
    z = z_value(conf_level)
    s = np.asarray(surv, dtype=float)
    se = np.asarray(sigma, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "log":
            lower = s * np.exp(-z * se)
            upper = np.minimum(s * np.exp(z * se), 1.0)
        elif conf_type == "log-log":
            logs = np.log(s)
            shift = z * se / logs
            lower = np.exp(-np.exp(np.log(-logs) - shift))
            upper = np.exp(-np.exp(np.log(-logs) + shift))
        elif conf_type == "plain":
            half = z * se * s
            lower = np.maximum(s - half, 0.0)
            upper = np.minimum(s + half, 1.0)
        else:  # pragma: no cover - validated by the callers
            raise ValueError(f"unknown conf_type {conf_type!r}")
    one = s == 1.0
    lower = np.where(one, 1.0, lower)
    upper = np.where(one, 1.0, upper)
    zero = ~(s > 0.0)
    lower = np.where(zero, np.nan, lower)
    upper = np.where(zero, np.nan, upper)
    return lower, upper


def cumulative_hazard_confint(chaz: np.ndarray, se: np.ndarray, conf_level: float, conf_type: str):
    """Pointwise limits of a cumulative hazard :math:`\\hat H` with standard error ``se``.

    ``"log"``: :math:`\\hat H \\exp(\\pm z\\,\\mathrm{se}/\\hat H)` (the same interval as the log-log interval of
    :math:`\\exp(-\\hat H)`); ``"plain"``: :math:`\\hat H \\pm z\\,\\mathrm{se}`, floored at 0. Where
    :math:`\\hat H = 0` both limits are 0.
    """
    z = z_value(conf_level)
    h = np.asarray(chaz, dtype=float)
    se = np.asarray(se, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "log":
            f = np.exp(z * se / h)
            lower, upper = h / f, h * f
        elif conf_type == "plain":
            lower, upper = np.maximum(h - z * se, 0.0), h + z * se
        else:  # pragma: no cover
            raise ValueError(f"unknown conf_type {conf_type!r}")
    zero = h == 0.0
    return np.where(zero, 0.0, lower), np.where(zero, 0.0, upper)


def normal_confint(estimate, se, conf_level: float):
    """Symmetric Wald limits :math:`\\hat\\theta \\pm z\\,\\mathrm{se}`."""
    z = z_value(conf_level)
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    return estimate - z * se, estimate + z * se


def log_normal_confint(estimate, se_log, conf_level: float):
    """Limits :math:`\\hat\\theta\\exp(\\pm z\\,\\mathrm{se}_{\\log})` from the standard error of
    :math:`\\log\\hat\\theta` (delta method on the log scale)."""
    z = z_value(conf_level)
    estimate = np.asarray(estimate, dtype=float)
    se_log = np.asarray(se_log, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        return estimate * np.exp(-z * se_log), estimate * np.exp(z * se_log)


def two_sided_p_value(statistic):
    """Two-sided normal p-value of a Wald statistic."""
    from scipy.special import ndtr

    return 2.0 * ndtr(-np.abs(np.asarray(statistic, dtype=float)))


def wilson_interval(events, trials, conf_level: float):
    """Wilson score interval of a binomial proportion (weighted counts allowed).

    .. math::

        \\frac{\\hat p + z^2/(2n) \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/(4n^2)}}{1 + z^2/n}

    NaN where ``trials`` is 0.
    """
    z = z_value(conf_level)
    x = np.asarray(events, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        z2n = z * z / n
        centre = (p + z2n / 2.0) / (1.0 + z2n)
        half = z * np.sqrt(np.maximum(p * (1.0 - p) / n + z2n / (4.0 * n), 0.0)) / (1.0 + z2n)
        lower = np.clip(centre - half, 0.0, 1.0)
        upper = np.clip(centre + half, 0.0, 1.0)
    bad = ~(n > 0)
    # exact 0 and 1 at the boundaries (the formula gives them up to rounding)
    lower = np.where(x == 0, 0.0, lower)
    upper = np.where(x == n, 1.0, upper)
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)


def clopper_pearson_interval(events, trials, conf_level: float):
    """Exact (Clopper-Pearson) interval of a binomial proportion from beta quantiles.

    Lower limit :math:`B^{-1}(\\alpha/2; x, n-x+1)` (0 when :math:`x = 0`), upper limit
    :math:`B^{-1}(1-\\alpha/2; x+1, n-x)` (1 when :math:`x = n`), :math:`\\alpha = 1 - ` ``conf_level``.
    Weighted (non-integer) counts are used as they are. NaN where ``trials`` is 0.
    """
    from scipy.special import betaincinv  # betaincinv(a, b, q) is scipy.stats.beta.ppf(q, a, b), bit for bit

    alpha = 1.0 - conf_level
    x = np.asarray(events, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = np.where(x > 0, betaincinv(np.maximum(x, 1e-300), n - x + 1.0, alpha / 2.0), 0.0)
        upper = np.where(x < n, betaincinv(x + 1.0, np.maximum(n - x, 1e-300), 1.0 - alpha / 2.0), 1.0)
    bad = ~(n > 0)
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)



def zero_event_survival_bound(n_min, conf_level: float):
    """Exact one-sided lower confidence bound of survival over a stretch with no defection.

    With no defection observed over :math:`(0, t]` and at least :math:`m` customers at risk at every moment of
    it, the bound is

    .. math::

        S_L(t) = (1 - \\gamma)^{1/m},

    the one-sided Clopper-Pearson bound for :math:`m` trials without a failure (the "rule of three":
    :math:`1 - S_L \\approx 3/m` at :math:`\\gamma = 0.95`); ``P(S(t) >= S_L) >= conf_level``. It is exact
    for any hazard shape: the probability of no defection, :math:`\\exp(-\\sum_k n_k \\Delta H_k)`, is at
    most :math:`S(t)^m`, so a survival below :math:`S_L` would make the observation less likely than
    :math:`1 - \\gamma`.

    Parameters
    ----------
    n_min : numpy.ndarray
        Smallest number at risk over the stretch (weighted counts used as they are); 0 or less gives 0.
    conf_level : float
        One-sided confidence level :math:`\\gamma`.

    Returns
    -------
    numpy.ndarray
        The lower bound, in [0, 1).

    References
    ----------
    .. [1] Hanley, J. A. & Lippman-Hand, A. (1983). If nothing goes wrong, is everything all right?
       Interpreting zero numerators. *JAMA* 249, 1743-1745.
    .. [2] Clopper, C. J. & Pearson, E. S. (1934). The use of confidence or fiducial limits illustrated in
       the case of the binomial. *Biometrika* 26, 404-413.
    """
    m = np.asarray(n_min, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(m > 0, (1.0 - conf_level) ** (1.0 / np.where(m > 0, m, 1.0)), 0.0)
    return out


def zero_event_hazard_bound(n_min, conf_level: float):
    """Exact one-sided upper bound :math:`-\\log(1 - \\gamma)/m` of a cumulative hazard with no defection
    (``inf`` when ``m`` is 0); ``-log`` of :func:`zero_event_survival_bound`."""
    m = np.asarray(n_min, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(m > 0, -np.log(1.0 - conf_level) / np.where(m > 0, m, 1.0), np.inf)
