"""Kernel-smoothed hazard rates (Ramlau-Hansen estimator with Müller-Wang boundary kernels).

The Nelson-Aalen increments :math:`dN(t)/Y(t)` of a :class:`~churnsurv.LifeTable` are smoothed with a kernel of
bandwidth :math:`b` (in time units). Near the ends of the time range, where a symmetric kernel would run out of
data and bias the estimate down, the asymmetric boundary kernels of Müller & Wang (1994) are used, as R's
``muhaz`` does with ``b.cor = "both"``. The bandwidth is reported with every estimate: a smoothed curve is
only read correctly knowing how much it was smoothed.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from churnsurv._base import BaseEstimator
from churnsurv._validation import check_conf_level, check_is_fitted, check_one_of, find_stack_level, param_error
from churnsurv.data.tenures import _as_list
from churnsurv.exceptions import StatisticalWarning
from churnsurv.lifetable.table import LifeTable, Tenures, as_life_table, life_table

__all__ = ["SmoothedHazard", "boundary_kernel", "smoothed_hazard"]

KERNELS = ("epanechnikov", "biweight")
_KERNEL_ALIASES = {"biquadratic": "biweight", "quartic": "biweight", "epa": "epanechnikov"}
BOUNDARIES = ("muller-wang", "left", "none")
_CV_GRID_SIZE = 30
_CV_BINS_PER_BANDWIDTH = 50  # the CV score bins the increments on bins of width <= bandwidth / 50
_CV_INTEGRAL_POINTS = 401
_BLOCK = 2_000_000         # kernel matrix entries per block
_MAX_DEFAULT_BANDWIDTH = 0.25   # the default bandwidth grid ends at a quarter of the time range
MAX_CI_RATIO = 10.0             # where ci_upper / ci_lower exceeds this, the band is set to NaN ("explodes")
_H_MAX_POINTS = 201             # ... as where the band is wider than the curve's largest estimate on these points
_GAUSS3 = np.polynomial.legendre.leggauss(3)     # exact for the (degree <= 4) kernels over a period
_GAUSS_CV = np.polynomial.legendre.leggauss(8)   # period means in the CV score of whole-unit times


def boundary_kernel(x, q=1.0, kernel: str = "epanechnikov"):
    """The Müller-Wang (1994) boundary kernel :math:`K_q(x)` (the ordinary kernel when ``q = 1``).

    Parameters
    ----------
    x : array-like of float
        Argument, in bandwidths: :math:`x = (t - t_i)/b`.
    q : float or array-like in [0, 1]
        Distance from the estimation point to the boundary, in bandwidths (``q >= 1``: interior).
    kernel : {"epanechnikov", "biweight"}

    Returns
    -------
    numpy.ndarray
        :math:`K_q(x)` on its support :math:`-1 \\le x \\le \\min(q, 1)`, 0 outside.

    Notes
    -----
    Table 1 of Müller & Wang (1994), with :math:`0 \\le q < 1`:

    .. math::

        K^{E}_q(x) = \\frac{12 (x + 1)}{(1 + q)^4}
            \\Big[ \\tfrac12 (3q^2 - 2q + 1) + (1 - 2q) x \\Big],

        K^{B}_q(x) = \\frac{60 (x + 1)^2 (q - x)}{(1 + q)^6}
            \\Big[ 2q^2 - 2q + 1 + (2 - 3q) x \\Big].

    Both integrate to 1 and have first moment 0 on :math:`[-1, q]`; at :math:`q = 1` they are the
    Epanechnikov kernel :math:`\\tfrac34 (1 - x^2)` and the biweight :math:`\\tfrac{15}{16} (1 - x^2)^2`.

    Examples
    --------
    >>> float(boundary_kernel(0.0))
    0.75
    >>> float(boundary_kernel(0.0, q=0.0))
    6.0
    """
    kernel = _check_kernel(kernel, "boundary_kernel")
    x = np.asarray(x, dtype=float)
    q = np.minimum(np.asarray(q, dtype=float), 1.0)
    out = _kernel(q, x, kernel)
    return np.where((x >= -1.0) & (x <= q), out, 0.0)


def _kernel(q, x, kernel):
    """Polynomial part of K_q(x) (no support check); q = 1 gives the interior kernel."""
    c, A, B = _kernel_coefficients(q, kernel)
    return _kernel_poly(c, A, B, q, x, kernel)


def _kernel_coefficients(q, kernel):
    """Coefficients of K_q: Epanechnikov c (x + 1)(A + B x); biweight c (x + 1)^2 (q - x)(A + B x)."""
    q = np.asarray(q, dtype=float)
    if kernel == "epanechnikov":
        return 12.0 / (1.0 + q) ** 4, 0.5 * (3.0 * q * q - 2.0 * q + 1.0), 1.0 - 2.0 * q
    return 60.0 / (1.0 + q) ** 6, 2.0 * q * q - 2.0 * q + 1.0, 2.0 - 3.0 * q


def _kernel_poly(c, A, B, q, x, kernel):
    xp1 = x + 1.0
    if kernel == "epanechnikov":
        return c * xp1 * (A + B * x)
    return c * xp1 * xp1 * (q - x) * (A + B * x)


# ---------------------------------------------------------------------- the estimator
class SmoothedHazard(BaseEstimator):
    """Kernel-smoothed hazard rate, per segment (and per cause), with boundary correction.

    Parameters
    ----------
    kernel : {"epanechnikov", "biweight"}, default "epanechnikov"
        Kernel (``"biquadratic"`` is an alias of ``"biweight"``, as in ``muhaz``).
    bandwidth : float or "cv", default "cv"
        Bandwidth :math:`b` in time units (the kernel spans :math:`t \\pm b`), or ``"cv"`` to choose it per
        segment by least-squares cross-validation over ``bandwidth_grid`` (see Notes).
    boundary : {"muller-wang", "left", "none"}, default "muller-wang"
        Boundary correction: Müller-Wang boundary kernels at both ends of the time range (``muhaz``'s
        ``b.cor = "both"``), at the left end only (``"left"``), or none (the estimate is then biased down
        within one bandwidth of either end).
    conf_level : float, default 0.95
        Level of the pointwise confidence band.
    grid : int or array-like, optional
        Where the hazard is estimated: a number of equally spaced points over each segment's time range
        (default 101), or the times themselves (points outside a segment's range get NaN).
    time_range : (float, float), optional
        The interval :math:`[t_L, t_R]` on which the hazard is estimated, whose ends get boundary kernels
        (``muhaz``'s ``min.time``/``max.time``). Default: from 0 to the segment's last defection time (of the
        cause, with ``cause=``) at which at least ``min_at_risk`` customers are at risk. Defections outside it
        are not used.
    bandwidth_grid : array-like, optional
        Candidate bandwidths for ``bandwidth="cv"``. Default: 30 values spaced evenly on the log scale from
        :math:`\\max\\{(t_R - t_L)/100, 2\\delta\\}` to :math:`(t_R - t_L)/4`, :math:`\\delta` the median gap
        between consecutive defection times (so that monthly data are never smoothed over less than two
        months); with ``change_points`` the top is at most half the longest piece. The cap at a quarter of the
        range keeps the boundary kernels of the two ends from covering the whole range (where the curve would
        be a straight line whatever the data).
    discrete : "auto", bool or float, default "auto"
        Whole-unit times. Monthly data record a defection in tenure month :math:`k` at time :math:`k`, although
        it happened somewhere in :math:`(k - 1, k]`. With ``discrete=True`` each period's Nelson-Aalen increment
        :math:`dN(k)/Y(k)` is spread evenly over its period :math:`(k - 1, k]` before smoothing, so that month
        1's hazard is not read as a spike at the end of an empty interval (0, 1) (which, next to the boundary
        at 0, drags the curve's start down to a fraction of month 1's hazard). A float gives the period length
        (in time units) instead of 1. ``"auto"``: periods of length 1 when every time in the data is a whole
        number, else continuous times (``False``: each defection at its recorded time, as ``muhaz``). With
        whole units a defection recorded at time 0 has no period on the time axis and is not used.
    min_at_risk : float or None, default 10
        Rows where fewer customers are at risk get ``reliable=False``, and the default ``time_range`` ends at
        the last defection time with at least this many at risk. ``None`` or 0 turns both off.
    change_points : array-like, optional
        Times (e.g. contract renewal months ``[12, 24]``) that smoothing must not cross: the range is cut there
        and each piece :math:`(c_j, c_{j+1}]` is smoothed from its own defections only, with boundary kernels
        at both of its ends and a bandwidth of at most half its length. Grid points at a change point belong
        to the piece on their left.

    Attributes
    ----------
    hazard_ : pandas.DataFrame
        One row per (segment, [cause,] grid time): the ``by`` columns, ``cause`` (with ``cause=``), ``piece``
        (with ``change_points``: 0, 1, ... between consecutive change points; draw each piece as its own line),
        ``time``, ``estimate`` (hazard per time unit), ``std_error``, ``ci_lower``, ``ci_upper`` (NaN where the
        band is undefined or explodes, see Notes), ``n_at_risk`` (customers at risk at ``time``; with
        ``discrete``, in the period holding ``time``), ``reliable`` (``n_at_risk >= min_at_risk``),
        ``ci_dropped`` (True where the estimate exists but its band was set to NaN) and ``bandwidth`` (the
        bandwidth used for that row). ``attrs`` holds ``kernel``, ``boundary``, ``conf_level``, ``time_unit``,
        ``period`` (the period length with ``discrete``, else None), ``min_at_risk`` and ``bandwidth`` (a float
        when there is one curve, else a dict keyed by segment label).
    bandwidth_ : pandas.DataFrame
        One row per (segment, [cause]): ``bandwidth``, ``method`` ("fixed" or "cv"), ``n_events``,
        ``time_min``, ``time_max`` (the estimation range).
    cv_scores_ : pandas.DataFrame or None
        With ``bandwidth="cv"``: the cross-validation score of every candidate (``bandwidth``, ``score``), per
        segment and cause.
    by_ : tuple of str
    causes_ : tuple of str
        Causes smoothed (empty for the all-cause hazard).
    time_unit_ : str
    period_ : float or None
        The period length over which increments were spread (``discrete``), or None for continuous times.
    n_events_ : float
        Defections used (all segments).

    See Also
    --------
    smoothed_hazard : the function form, returning ``hazard_``.
    churnsurv.NelsonAalen : the cumulative hazard whose increments are smoothed.

    Notes
    -----
    **Estimator** (Ramlau-Hansen 1983). With :math:`t_i` the distinct defection times in
    :math:`[t_L, t_R]`, :math:`dN(t_i)` the defections (of the cause, for a cause-specific hazard) and
    :math:`Y(t_i)` the customers at risk,

    .. math::

        \\hat h(t) = \\frac1b \\sum_i K_t\\Big(\\frac{t - t_i}{b}\\Big) \\frac{dN(t_i)}{Y(t_i)}, \\qquad
        \\widehat{\\mathrm{Var}}\\, \\hat h(t) = \\frac1{b^2} \\sum_i K_t\\Big(\\frac{t - t_i}{b}\\Big)^2
        \\frac{dN(t_i)}{Y(t_i)^2}.

    :math:`K_t = K_1` (the Epanechnikov or biweight kernel) for :math:`t_L + b \\le t \\le t_R - b`; closer to an
    end the boundary kernel :math:`K_q` of :func:`boundary_kernel` is used, with :math:`q = (t - t_L)/b` at the
    left end and, mirrored, :math:`q = (t_R - t)/b` at the right end (Müller & Wang 1994). As in ``muhaz``, the
    left kernel takes precedence when a point is within :math:`b` of both ends (a bandwidth over half the
    range, which raises a warning), and a negative estimate (boundary kernels take negative values) is set to
    0. With ``change_points`` :math:`c_1 < c_2 < \\dots`, the estimate on :math:`(c_j, c_{j+1}]` is this
    estimator applied to that piece alone (its defections, :math:`t_L = c_j`, :math:`t_R = c_{j+1}`, bandwidth
    :math:`\\min(b, (c_{j+1} - c_j)/2)`), and the cross-validation score is the sum of the pieces' scores.
    Ties are handled exactly through the counts (``muhaz`` gives tied defections the increments
    :math:`1/(n - i + 1)` of their rank instead; without ties the two are identical).

    **Whole-unit times** (``discrete``). The increment :math:`dN(k)/Y(k)` of period :math:`(k - w, k]` is spread
    evenly over the period, i.e. the kernel smooths the step function equal to
    :math:`dN(k) / (w\\, Y(k))` on each period:

    .. math::

        \\hat h(t) = \\sum_k \\frac{dN(k)}{Y(k)} \\frac1w \\int_{k-w}^{k}
            \\frac1b K_t\\Big(\\frac{t - s}{b}\\Big) ds,

    and the variance likewise with the squared weights. As :math:`b \\to 0` the estimate on period :math:`k`
    tends to the per-period hazard :math:`dN(k)/Y(k)` (events over customers at risk, per period), so the curve
    at :math:`t = k - w/2` is comparable with a life table's hazard of month :math:`k`; for any :math:`b` a
    constant per-period hazard is reproduced exactly, also next to the boundaries. The cross-validation score
    averages both the estimate and the customer's own increment over the period of each defection.

    **Confidence band**, pointwise, on the log scale:
    :math:`\\hat h(t) \\exp(\\pm z_{1-\\alpha/2}\\, \\mathrm{se}/\\hat h(t))`, which stays positive; it is NaN
    where the estimate is 0. It covers the smoothed hazard :math:`E\\hat h(t)`; the smoothing bias is not in it.
    Where the band explodes, both limits are set to NaN and ``ci_dropped`` is True, so that a plot draws no band
    there rather than a full-height stripe: where ``ci_upper / ci_lower > 10`` (a relative standard error above
    :math:`\\ln 10 / (2 z_{1-\\alpha/2})`, 0.59 at 95%), or where the band is wider than the curve's largest
    estimate (over 201 equally spaced points of its range). Both happen within a bandwidth of the right end,
    where few customers remain and the boundary kernel takes large values, or where the hazard is near 0.

    **Bandwidth by cross-validation** (Ramlau-Hansen 1983; Patil 1993), with the exposure weight
    :math:`w(t) = Y(t) / \\max_s Y(s)` (the "natural weighting" of Nielsen & Tanggaard 2001): the bandwidth
    minimising

    .. math::

        CV(b) = \\int_{t_L}^{t_R} \\hat h_b(t)^2 w(t)\\, dt
            - 2 \\sum_j \\hat h_b^{(-j)}(T_j) \\frac{w(T_j)}{Y(T_j)}

    over the candidates, the sum running over customers :math:`j` who defect at :math:`T_j \\in [t_L, t_R]`
    and :math:`\\hat h^{(-j)}` leaving out that customer's own increment (tied defections of *other* customers
    are kept). Up to a constant it estimates the weighted integrated squared error
    :math:`\\int (\\hat h_b - h)^2 w`. Without the weight the score is dominated by the sparse tail, where a
    few customers remain at risk, and picks very large bandwidths; with it, errors count where the customers
    are. The integral uses the trapezoidal rule on :math:`\\max(401, 10 (t_R - t_L)/b)` points; when there are
    more distinct defection times than bins of width :math:`b/50`, the increments are binned on such bins
    (at their weighted mean time) for the score only; the reported estimate is always exact. Case weights are
    taken as frequency weights. ``muhaz``'s ``"global"`` rule (IMSE from a pilot estimate) is not
    implemented.

    References
    ----------
    .. [1] Ramlau-Hansen, H. (1983). Smoothing counting process intensities by means of kernel functions.
       The Annals of Statistics 11(2), 453-466.
    .. [2] Müller, H.-G. and Wang, J.-L. (1994). Hazard rate estimation under random censoring with varying
       kernels and bandwidths. Biometrics 50(1), 61-76.
    .. [3] Hess, K. R., Serachitopol, D. M. and Brown, B. W. (1999). Hazard function estimators: a simulation
       study. Statistics in Medicine 18(22), 3075-3088 (the R package ``muhaz``).
    .. [4] Patil, P. N. (1993). On the least squares cross-validation bandwidth in hazard rate estimation.
       The Annals of Statistics 21(4), 1792-1810.
    .. [5] Nielsen, J. P. and Tanggaard, C. (2001). Boundary and bias correction in kernel hazard estimation.
       Scandinavian Journal of Statistics 28(4), 675-698.

    Examples
    --------
    Simulated monthly data (whole months, so ``discrete="auto"`` spreads each month's defections over the month):

    >>> from churnsurv.simulate import simulate_churn
    >>> from churnsurv.nonparametric import SmoothedHazard
    >>> sim = simulate_churn(2_000, random_state=0)
    >>> sh = SmoothedHazard(bandwidth=3.0, grid=[0.5, 1.5, 6, 24, 60]).fit(sim.data, duration="exit",
    ...                                                                  event="event")
    >>> sh.hazard_[["time", "estimate", "ci_lower", "ci_upper", "n_at_risk", "reliable"]].round(4)
       time  estimate  ci_lower  ci_upper  n_at_risk  reliable
    0   0.5    0.0542    0.0460    0.0638     1976.0      True
    1   1.5    0.0490    0.0438    0.0548     1835.0      True
    2   6.0    0.0355    0.0314    0.0402     1458.0      True
    3  24.0    0.0224    0.0178    0.0283      644.0      True
    4  60.0    0.0216    0.0107    0.0437       82.0      True
    >>> sh.bandwidth_
       bandwidth method  n_events  time_min  time_max
    0        3.0  fixed    1124.0       0.0      67.0
    >>> sh.period_
    1.0
    """

    def __init__(self, kernel: str = "epanechnikov", bandwidth="cv", boundary: str = "muller-wang",
                 conf_level: float = 0.95, grid=None, time_range=None, bandwidth_grid=None, discrete="auto",
                 min_at_risk=10, change_points=None):
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.boundary = boundary
        self.conf_level = conf_level
        self.grid = grid
        self.time_range = time_range
        self.bandwidth_grid = bandwidth_grid
        self.discrete = discrete
        self.min_at_risk = min_at_risk
        self.change_points = change_points

    # -------------------------------------------------------------- fit
    def fit(self, data, *, by=None, cause=None, **frame_kwargs) -> SmoothedHazard:
        """Smooth the hazard of each segment (and cause).

        Parameters
        ----------
        data : Tenures, LifeTable or pandas.DataFrame
            The records (a DataFrame is read with :meth:`Tenures.from_frame` and ``frame_kwargs``).
        by : str or list of str, optional
            Segment columns: one curve per segment.
        cause : str or list of str, optional
            Smooth the cause-specific hazard of this cause (defections of other causes count as censoring);
            a list gives one curve per cause. Default: all causes together.
        **frame_kwargs
            Column keywords of :meth:`Tenures.from_frame` for a DataFrame. Since ``cause`` names the cause to
            smooth here, the frame's cause column is given as ``cause_column="<column>"``.

        Returns
        -------
        self
        """
        owner = type(self).__name__
        kernel = _check_kernel(self.kernel, owner)
        check_one_of(self.boundary, "boundary", owner, BOUNDARIES)
        from scipy.special import ndtri  # the normal quantile; scipy loads on first use

        z = ndtri(0.5 + check_conf_level(self.conf_level, owner) / 2)
        bw = _check_bandwidth(self.bandwidth, owner)
        grid = _check_grid(self.grid, owner)
        trange = _check_time_range(self.time_range, owner)
        bgrid = _check_bandwidth_grid(self.bandwidth_grid, owner)
        discrete = _check_discrete(self.discrete, owner)
        min_at_risk = _check_min_at_risk(self.min_at_risk, owner)
        cps = _check_change_points(self.change_points, owner)

        by = _as_list(by)
        if "cause_column" in frame_kwargs:
            frame_kwargs["cause"] = frame_kwargs.pop("cause_column")
        if isinstance(data, Tenures) and not frame_kwargs:
            lt = life_table(data, by)
        else:
            lt = as_life_table(data, by or None, **frame_kwargs)
        causes = _check_causes(cause, lt, owner)

        table = lt.table
        keys = lt.group_keys()
        starts = lt.group_starts()
        ends = np.r_[starts[1:], len(table)]
        t_all = table["time"].to_numpy(float)
        y_all = table["n_at_risk"].to_numpy(float)
        exits = table["n_events"].to_numpy(float) + table["n_censored"].to_numpy(float)
        after_all = y_all - exits + np.where(t_all > 0, table["n_entered"].to_numpy(float), 0.0)
        curves = [(None, table["n_events"].to_numpy(float))] if not causes else \
            [(c, lt.cause_events[c].to_numpy(float)) for c in causes]
        width = _period_width(discrete, t_all, owner)

        hz_rows, bw_rows, cv_rows, fits = [], [], [], []
        for gi in range(len(starts)):
            sl = slice(starts[gi], ends[gi])
            key = {b: keys[b].iloc[gi] for b in by}
            label = _label(key, by)
            for c, d_all in curves:
                label_c = label if c is None else (f"{label}, {c}" if by else c)
                fit = _fit_one(t_all[sl], y_all[sl], d_all[sl], after_all[sl], kernel, self.boundary, bw, trange,
                               bgrid, label_c, width, min_at_risk, cps)
                fits.append((key, c, fit))
                head = dict(key)
                if c is not None:
                    head["cause"] = c
                bw_rows.append({**head, "bandwidth": fit["bandwidth"], "method": fit["method"],
                                "n_events": fit["n_events"], "time_min": fit["lo"], "time_max": fit["hi"]})
                if fit["cv"] is not None:
                    cv_rows.append(pd.DataFrame({**{k: [v] * len(fit["cv"][0]) for k, v in head.items()},
                                                 "bandwidth": fit["cv"][0], "score": fit["cv"][1]}))
                times = _grid_times(grid, fit["lo"], fit["hi"], fit["cuts"])
                hz_rows.append(_evaluate(fit, times, kernel, z, head, min_at_risk, cps is not None))

        self.by_ = tuple(by)
        self.causes_ = tuple(causes)
        self.time_unit_ = lt.time_unit
        self.conf_level_ = float(self.conf_level)
        self.kernel_ = kernel
        self.period_ = float(width) if width > 0 else None
        self._min_at_risk = min_at_risk
        self._pieces = cps is not None
        self._fits = fits
        self._z = z
        hazard = pd.concat(hz_rows, ignore_index=True)
        bandwidth = pd.DataFrame(bw_rows)
        _restore_dtypes(hazard, keys, by)
        _restore_dtypes(bandwidth, keys, by)
        self.bandwidth_ = bandwidth
        self.cv_scores_ = pd.concat(cv_rows, ignore_index=True) if cv_rows else None
        if self.cv_scores_ is not None:
            _restore_dtypes(self.cv_scores_, keys, by)
        self.n_events_ = float(sum(f["n_events"] for _, _, f in fits))
        hazard.attrs.update(self._attrs())
        self.hazard_ = hazard
        return self

    def predict(self, times) -> pd.DataFrame:
        """The smoothed hazard at given times, per segment and cause (same columns as :attr:`hazard_`).

        Parameters
        ----------
        times : array-like of float
            Times (in the fitted time unit); outside a segment's estimation range the row is NaN.

        Returns
        -------
        pandas.DataFrame
        """
        check_is_fitted(self, "hazard_")
        t = np.atleast_1d(np.asarray(times, dtype=float))
        if t.ndim != 1 or not np.all(np.isfinite(t)):
            raise param_error("times", f"{type(self).__name__}.predict", "a 1-d array of finite times", times)
        rows = []
        for key, c, fit in self._fits:
            head = dict(key)
            if c is not None:
                head["cause"] = c
            rows.append(_evaluate(fit, t, self.kernel_, self._z, head, self._min_at_risk, self._pieces))
        out = pd.concat(rows, ignore_index=True)
        for b in self.by_:
            dtype = self.hazard_[b].dtype
            if isinstance(dtype, pd.CategoricalDtype):
                out[b] = pd.Categorical(out[b], categories=dtype.categories, ordered=dtype.ordered)
        out.attrs.update(self._attrs())
        return out

    def _attrs(self) -> dict:
        bws = {}
        for key, c, fit in self._fits:
            lab = _label(key, list(self.by_))
            lab = lab if c is None else (f"{lab}, {c}" if self.by_ else c)
            bws[lab] = fit["bandwidth"]
        bandwidth = next(iter(bws.values())) if len(bws) == 1 else bws
        return {"kernel": self.kernel_, "boundary": self.boundary, "conf_level": self.conf_level_,
                "time_unit": self.time_unit_, "period": self.period_, "min_at_risk": self._min_at_risk,
                "bandwidth": bandwidth}


def smoothed_hazard(data, by=None, *, cause=None, kernel: str = "epanechnikov", bandwidth="cv",
                    boundary: str = "muller-wang", conf_level: float = 0.95, grid=None, time_range=None,
                    discrete="auto", min_at_risk=10, change_points=None, **frame_kwargs) -> pd.DataFrame:
    """Kernel-smoothed hazard rate as a tidy table (the function form of :class:`SmoothedHazard`).

    Parameters
    ----------
    data, by, cause, **frame_kwargs
        As in :meth:`SmoothedHazard.fit`.
    kernel, bandwidth, boundary, conf_level, grid, time_range, discrete, min_at_risk, change_points
        As in :class:`SmoothedHazard`.

    Returns
    -------
    pandas.DataFrame
        :attr:`SmoothedHazard.hazard_`: ``[*by, (cause,) (piece,) time, estimate, std_error, ci_lower, ci_upper,
        n_at_risk, reliable, ci_dropped, bandwidth]``, with the bandwidth(s) also in ``attrs["bandwidth"]``.

    Examples
    --------
    >>> from churnsurv.simulate import simulate_churn
    >>> from churnsurv.nonparametric import smoothed_hazard
    >>> sim = simulate_churn(2_000, random_state=0)
    >>> h = smoothed_hazard(sim.data, by="segment", bandwidth=3.0, grid=[0.5, 12.5], duration="exit",
    ...                     event="event")
    >>> h[["segment", "time", "estimate", "reliable"]].round(4)
              segment  time  estimate  reliable
    0  Month-to-month   0.5    0.0706      True
    1  Month-to-month  12.5    0.0414      True
    2        One year   0.5    0.0162      True
    3        One year  12.5    0.0224      True
    4        Two year   0.5    0.0048      True
    5        Two year  12.5    0.0109      True
    6         Prepaid   0.5    0.1220      True
    7         Prepaid  12.5    0.0522      True
    >>> h.attrs["period"]
    1.0
    """
    est = SmoothedHazard(kernel=kernel, bandwidth=bandwidth, boundary=boundary, conf_level=conf_level, grid=grid,
                         time_range=time_range, discrete=discrete, min_at_risk=min_at_risk,
                         change_points=change_points)
    return est.fit(data, by=by, cause=cause, **frame_kwargs).hazard_


# ---------------------------------------------------------------------- one curve
def _corrections(boundary) -> tuple[bool, bool]:
    """(left, right) boundary correction of a ``boundary`` string, or the pair itself."""
    if isinstance(boundary, tuple):
        return boundary
    return boundary != "none", boundary == "muller-wang"


def _at_risk_function(t, y, after, width):
    """Y(s), the customers at risk at s (entry < s <= exit), as a step function of the life table rows.

    With whole-unit periods of length ``width``, Y is constant on each period (k - width, k] and equals the
    number at risk at its end k (for s <= 0: the first period).
    """
    n = len(t)

    def at_risk(times):
        times = np.asarray(times, dtype=float)
        if width > 0:
            times = np.maximum(np.ceil(times / width - 1e-9), 1.0) * width
        idx = np.searchsorted(t, times, side="left")          # first row at or after each time
        last = np.minimum(idx, n - 1)
        if width > 0:
            exact = (idx < n) & np.isclose(t[last], times, rtol=0.0, atol=1e-9 * width)
        else:
            exact = (idx < n) & (t[last] == times)
        prev = np.maximum(idx - 1, 0)
        risk = np.where(exact, y[last], np.where(idx > 0, after[prev], 0.0))
        return np.maximum(risk, 0.0)

    return at_risk


def _fit_one(t, y, d, after, kernel, boundary, bw, trange, bgrid, label, width=0.0, min_at_risk=0.0,
             change_points=None) -> dict:
    """Increments of one curve, its range, pieces and bandwidth."""
    has = (d > 0) & (y > 0)
    if width > 0:
        has &= t > 0          # a defection at time 0 has no period (-width, 0] inside the time axis
    at_risk = _at_risk_function(t, y, after, width)
    if trange is not None:
        lo, hi = trange
    else:
        lo = 0.0
        hi = float(t[has].max()) if has.any() else float(t.max())
        if min_at_risk > 0 and has.any():
            enough = has & (y >= min_at_risk)
            if enough.any():
                hi = float(t[enough].max())
            else:
                warnings.warn(f"Segment {label!r}: fewer than min_at_risk={min_at_risk:g} customers are at risk at "
                              "every defection time, so the time range is not shortened; every row is flagged "
                              "reliable=False.", StatisticalWarning, stacklevel=find_stack_level())
    cuts = np.array([c for c in (change_points if change_points is not None else ()) if lo < c < hi], dtype=float)
    edges = np.r_[lo, cuts, hi]
    pieces = []
    n_events = 0.0
    for i in range(len(edges) - 1):
        plo, phi = float(edges[i]), float(edges[i + 1])
        lcorr = i > 0 or boundary != "none"
        rcorr = i < len(edges) - 2 or boundary == "muller-wang"
        if width > 0:     # periods (T - width, T] overlapping the piece
            low_ok = t > plo
            high_ok = t - width < phi
        else:             # defection times; the first piece includes its left end
            low_ok = t >= plo if i == 0 else t > plo
            high_ok = t <= phi
        inside = has & low_ok & high_ok
        # defections the kernels may use: inside the piece at its corrected ends; without a correction the
        # ordinary kernel also uses defections beyond that end (as muhaz does)
        usable = has & (low_ok if lcorr else True) & (high_ok if rcorr else True)
        T = t[usable]
        pieces.append({"lo": plo, "hi": phi, "lcorr": lcorr, "rcorr": rcorr, "T": T, "a": d[usable] / y[usable],
                       "a2": d[usable] / y[usable] ** 2, "in_range": inside[usable]})
        n_events += float(d[inside].sum())
    fit = {"pieces": pieces, "cuts": cuts, "lo": float(lo), "hi": float(hi), "width": float(width),
           "n_events": n_events, "cv": None, "at_risk": at_risk}
    if n_events == 0:
        warnings.warn(f"Segment {label!r} has no defection in the time range; its smoothed hazard is 0 (no "
                      "confidence band).", StatisticalWarning, stacklevel=find_stack_level())
        if bw == "cv":
            fit.update(bandwidth=np.nan, method="cv")
        else:
            fit.update(bandwidth=float(bw), method="fixed")
        return fit
    if hi <= lo:
        raise ValueError(f"Segment {label!r}: all defections happen at time {lo:g}; a smoothed hazard needs a "
                         "time range of positive length (pass time_range=(start, stop)).")
    if bw == "cv":
        T_in = np.concatenate([p["T"][p["in_range"]] for p in pieces])
        cands = bgrid if bgrid is not None else _default_bandwidth_grid(T_in, lo, hi, edges)
        y_max = float(y.max())

        def weight(times):  # exposure weight Y(t) / max Y, Y the at-risk step function of the life table
            return at_risk(times) / y_max

        for p in pieces:
            p["w_T"] = weight(p["T"])
        scores = np.array([_cv_total(pieces, b, kernel, weight, width, len(cuts) > 0) for b in cands])
        best = int(np.nanargmin(scores))
        b = float(cands[best])
        if len(cands) > 1 and best in (0, len(cands) - 1):
            end, hint = ("smallest", "undersmoothed") if best == 0 else ("largest", "oversmoothed")
            warnings.warn(f"Segment {label!r}: the cross-validated bandwidth ({b:.4g}) is the {end} candidate of "
                          f"the grid [{cands[0]:.4g}, {cands[-1]:.4g}], so the curve may be {hint} and the choice "
                          "is not a minimum of the score. Pass bandwidth_grid= to widen the search, or a fixed "
                          "bandwidth.", StatisticalWarning, stacklevel=find_stack_level())
        fit.update(bandwidth=b, method="cv", cv=(np.asarray(cands, float), scores))
    else:
        b = float(bw)
        fit.update(bandwidth=b, method="fixed")
    if boundary != "none" and not len(cuts) and b > (hi - lo) / 2:
        warnings.warn(f"Segment {label!r}: the bandwidth ({b:.4g}) exceeds half the time range "
                      f"[{lo:g}, {hi:g}], so the boundary kernels of the two ends overlap (the left one is used); "
                      "the estimate is close to a straight line and unreliable near the right end.",
                      StatisticalWarning, stacklevel=find_stack_level())
    return fit


def _piece_bandwidth(b, piece, cut) -> float:
    """Between change points the bandwidth is at most half the piece, so its boundary kernels never overlap."""
    return min(b, (piece["hi"] - piece["lo"]) / 2.0) if cut else b


def _curve_max(fit, kernel) -> float:
    """The curve's largest estimate over 201 points of its range (the scale of 'a band wider than the curve')."""
    if "h_max" not in fit:
        est, _, _ = _estimate(fit, np.linspace(fit["lo"], fit["hi"], _H_MAX_POINTS), kernel)
        fit["h_max"] = float(np.nanmax(est)) if np.isfinite(est).any() else 0.0
    return fit["h_max"]


def _estimate(fit, times, kernel):
    """Estimate, standard error and bandwidth at times (NaN outside the range), piece by piece."""
    b = fit["bandwidth"]
    est = np.full(len(times), np.nan)
    se = np.full(len(times), np.nan)
    bws = np.full(len(times), float(b))
    ok = (times >= fit["lo"] - 1e-12) & (times <= fit["hi"] + 1e-12)
    piece = np.searchsorted(fit["cuts"], times, side="left")    # pieces are right-closed: (c_i, c_i+1]
    cut = len(fit["cuts"]) > 0
    if fit["n_events"] == 0:
        est[ok] = 0.0
        se[ok] = 0.0
    else:
        for i, p in enumerate(fit["pieces"]):
            sel = ok & (piece == i)
            if not sel.any():
                continue
            bp = _piece_bandwidth(b, p, cut)
            raw, var = _smooth(times[sel], p["T"], p["a"], p["a2"], bp, p["lo"], p["hi"], kernel,
                               (p["lcorr"], p["rcorr"]), variance=True, width=fit["width"])
            est[sel] = np.maximum(raw, 0.0)
            se[sel] = np.sqrt(np.maximum(var, 0.0))
            bws[sel] = bp
    return est, se, bws


def _evaluate(fit, times, kernel, z, head, min_at_risk, with_piece=False) -> pd.DataFrame:
    times = np.asarray(times, dtype=float)
    est, se, bws = _estimate(fit, times, kernel)
    ok = (times >= fit["lo"] - 1e-12) & (times <= fit["hi"] + 1e-12)
    piece = np.searchsorted(fit["cuts"], times, side="left")
    h_max = _curve_max(fit, kernel)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pos = est > 0
        f = np.where(pos, np.exp(z * se / np.where(pos, est, 1.0)), np.nan)
        lower = np.where(pos, est / f, np.nan)
        upper = np.where(pos, est * f, np.nan)
        exploded = pos & ~((upper / lower <= MAX_CI_RATIO) & (upper - lower <= h_max))
    lower[exploded] = np.nan
    upper[exploded] = np.nan
    n_at_risk = fit["at_risk"](times)
    out = pd.DataFrame({k: [v] * len(times) for k, v in head.items()})
    if with_piece:
        out["piece"] = np.where(ok, piece, -1)
    out["time"] = times
    out["estimate"] = est
    out["std_error"] = se
    out["ci_lower"] = lower
    out["ci_upper"] = upper
    out["n_at_risk"] = n_at_risk
    out["reliable"] = ok & (n_at_risk >= min_at_risk) & np.isfinite(est)
    out["ci_dropped"] = ok & np.isfinite(est) & ~np.isfinite(lower)
    out["bandwidth"] = bws
    return out


def _shape(z, b, lo, hi, lcorr, rcorr):
    """Kernel shape per point: q (< 1 within b of a corrected end) and the sign of the argument (-1 at the right)."""
    q = np.ones(len(z))
    sign = np.ones(len(z))
    if lcorr:
        left = z < lo + b
        q = np.where(left, (z - lo) / b, q)
    else:
        left = np.zeros(len(z), dtype=bool)
    if rcorr:
        right = ~left & (z > hi - b)
        q = np.where(right, (hi - z) / b, q)
        sign = np.where(right, -1.0, sign)
    return np.clip(q, 0.0, 1.0), sign


def _weights(zs, T, c, A, B, q, sign, b, kernel, width):
    """Kernel weight G of the increment at T for the point zs (broadcast): the estimate is sum_i a_i G_i / b.

    Point masses (``width == 0``): :math:`G = K_q(x)`, :math:`x = \\pm (z - T)/b`. An increment spread evenly over
    its period (T - width, T]: :math:`G = (b / w) \\int K_q(x) dx` over the image of the period, clipped to the
    kernel's support [-1, q] (3-point Gauss-Legendre, exact for the polynomial kernels, of degree <= 4).
    """
    x = sign * (zs - T) / b
    if width <= 0:
        return _kernel_poly(c, A, B, q, x, kernel)
    x2 = sign * (zs - T + width) / b
    xa = np.maximum(np.minimum(x, x2), -1.0)
    xb = np.minimum(np.maximum(x, x2), q)
    half = np.maximum(xb - xa, 0.0) / 2.0
    mid = (xa + xb) / 2.0
    total = 0.0
    for node, wt in zip(*_GAUSS3, strict=True):
        total = total + wt * _kernel_poly(c, A, B, q, mid + half * node, kernel)
    return total * half * (b / width)


def _smooth(z, T, a, a2, b, lo, hi, kernel, boundary, variance=False, width=0.0):
    """Raw (unclamped) kernel sums at points z: (1/b) sum G a and (1/b^2) sum G^2 a2 (see ``_weights``)."""
    z = np.asarray(z, dtype=float)
    order = np.argsort(z, kind="stable")
    zs = z[order]
    est = np.zeros(len(z))
    var = np.zeros(len(z)) if variance else None
    if len(T) == 0 or len(z) == 0:
        return est, var
    q, sign = _shape(zs, b, lo, hi, *_corrections(boundary))
    c, A, B = (v[:, None] for v in _kernel_coefficients(q, kernel))
    q = q[:, None]
    lo_idx = np.searchsorted(T, zs - b, side="right")     # window: zs - b < T and T - width < zs + b
    hi_idx = np.searchsorted(T, zs + b + width, side="left")
    span = int(np.max(hi_idx - lo_idx, initial=0))
    n = len(zs)
    out_est = np.zeros(n)
    out_var = np.zeros(n) if variance else None
    if span > 0:
        offsets = np.arange(span)
        step = max(1, _BLOCK // span)
        for i in range(0, n, step):
            j = min(n, i + step)
            idx = lo_idx[i:j, None] + offsets[None, :]
            valid = idx < hi_idx[i:j, None]
            idx = np.minimum(idx, len(T) - 1)
            K = _weights(zs[i:j, None], T[idx], c[i:j], A[i:j], B[i:j], q[i:j], sign[i:j, None], b, kernel, width)
            K[~valid] = 0.0
            out_est[i:j] = np.einsum("ij,ij->i", K, a[idx]) / b
            if variance:
                out_var[i:j] = np.einsum("ij,ij,ij->i", K, K, a2[idx]) / (b * b)
    est[order] = out_est
    if variance:
        var[order] = out_var
    return est, var


def _cv_total(pieces, b, kernel, weight, width, cut) -> float:
    """CV score of the whole curve: the sum of the pieces' scores (the estimate is defined piece by piece)."""
    return float(sum(_cv_score(p["T"], p["a"], p["a2"], p["w_T"], p["in_range"], _piece_bandwidth(b, p, cut),
                               p["lo"], p["hi"], kernel, (p["lcorr"], p["rcorr"]), weight, width)
                     for p in pieces))


def _cv_score(T, a, a2, w_T, in_range, b, lo, hi, kernel, boundary, weight, width=0.0) -> float:
    """Exposure-weighted least-squares cross-validation score (see SmoothedHazard Notes)."""
    aw, a2w = a * w_T * in_range, a2 * w_T * in_range   # the sum over customers runs over [lo, hi] only
    span = float(T.max() - T.min()) if len(T) else 0.0
    n_bins = int(np.ceil(_CV_BINS_PER_BANDWIDTH * span / b))
    if width <= 0 and span > 0 and len(T) > n_bins:  # bin the increments (weighted mean time per bin, <= b / 50)
        edges = np.linspace(T.min(), T.max(), n_bins + 1)
        k = np.clip(np.searchsorted(edges, T, side="right") - 1, 0, n_bins - 1)

        def binned(v):
            return np.bincount(k, weights=v, minlength=n_bins)

        ab, awb = binned(a), binned(aw)
        keep = ab > 0
        t_min, t_max = T.min(), T.max()
        # smoothing at the a-weighted mean time, the sum over customers at the aw-weighted one (first-order exact)
        T_eval = np.clip(binned(aw * T)[keep] / np.where(awb[keep] > 0, awb[keep], 1.0), t_min, t_max)
        T = np.clip(binned(a * T)[keep] / ab[keep], t_min, t_max)
        a, a2, aw, a2w = ab[keep], binned(a2)[keep], awb[keep], binned(a2w)[keep]
    else:
        T_eval = T
    grid = np.linspace(lo, hi, max(_CV_INTEGRAL_POINTS, int(np.ceil(10 * (hi - lo) / b)) + 1))
    h_grid, _ = _smooth(grid, T, a, a2, b, lo, hi, kernel, boundary, width=width)
    integral = np.trapezoid(h_grid * h_grid * weight(grid), grid)
    used = aw > 0
    Tu = T_eval[used]
    lcorr, rcorr = _corrections(boundary)
    if width <= 0:
        h_at, _ = _smooth(Tu, T, a, a2, b, lo, hi, kernel, boundary)
        # the customer's own increment, K_q(0) / (b Y), with the kernel shape used at T
        q, _ = _shape(Tu, b, lo, hi, lcorr, rcorr)
        self_term = np.sum(_kernel(q, 0.0, kernel) * a2w[used]) / b
        return float(integral - 2.0 * (np.sum(aw[used] * h_at) - self_term))
    # whole-unit periods: a defection in (T - width, T] happened at an unknown time in it, so both the estimate
    # and the customer's own increment are averaged over the period (its part inside [lo, hi]; Gauss-Legendre)
    nodes, wts = _GAUSS_CV
    p_lo = np.maximum(Tu - width, lo)
    p_hi = np.minimum(Tu, hi)
    s = (p_lo + p_hi)[:, None] / 2.0 + (p_hi - p_lo)[:, None] / 2.0 * nodes[None, :]
    h_s, _ = _smooth(s.ravel(), T, a, a2, b, lo, hi, kernel, boundary, width=width)
    mean_h = h_s.reshape(s.shape) @ (wts / 2.0)
    q, sign = _shape(s.ravel(), b, lo, hi, lcorr, rcorr)
    c, A, B = _kernel_coefficients(q, kernel)
    own = _weights(s.ravel(), np.repeat(Tu, len(nodes)), c, A, B, q, sign, b, kernel, width) / b
    mean_own = own.reshape(s.shape) @ (wts / 2.0)
    return float(integral - 2.0 * (np.sum(aw[used] * mean_h) - np.sum(a2w[used] * mean_own)))


def _default_bandwidth_grid(T, lo, hi, edges=None) -> np.ndarray:
    span = hi - lo
    gaps = np.diff(np.unique(T))
    delta = float(np.median(gaps)) if len(gaps) else span
    b_lo = max(span / 100.0, 2.0 * delta)
    b_hi = span * _MAX_DEFAULT_BANDWIDTH
    if edges is not None and len(edges) > 2:
        b_hi = min(b_hi, float(np.max(np.diff(edges))) / 2.0)
    if b_lo >= b_hi:
        return np.array([b_hi])
    return np.geomspace(b_lo, b_hi, _CV_GRID_SIZE)


def _grid_times(grid, lo, hi, cuts=()) -> np.ndarray:
    if grid is None:
        grid = 101
    if isinstance(grid, numbers.Integral):
        times = np.linspace(lo, hi, int(grid))
        if len(cuts):      # the change points are on the default grid (each as the end of the piece on its left)
            times = np.union1d(times, cuts)
        return times
    return np.asarray(grid, dtype=float)


# ---------------------------------------------------------------------- checks and labels
def _check_kernel(kernel, owner):
    if not isinstance(kernel, str):
        raise param_error("kernel", owner, f"one of {{{', '.join(map(repr, KERNELS))}}}", kernel, type_error=True)
    k = _KERNEL_ALIASES.get(kernel.lower(), kernel.lower())
    check_one_of(k, "kernel", owner, KERNELS)
    return k


def _check_bandwidth(bw, owner):
    if isinstance(bw, str):
        if bw != "cv":
            raise param_error("bandwidth", owner, "a positive float (time units) or 'cv'", bw)
        return bw
    if isinstance(bw, bool) or not isinstance(bw, numbers.Real) or not np.isfinite(bw) or bw <= 0:
        raise param_error("bandwidth", owner, "a positive float (time units) or 'cv'", bw)
    return float(bw)


def _check_grid(grid, owner):
    expected = "None, an int >= 2 or a 1-d array of finite times >= 0"
    if grid is None:
        return None
    if isinstance(grid, numbers.Integral) and not isinstance(grid, bool):
        if grid < 2:
            raise param_error("grid", owner, expected, grid)
        return int(grid)
    try:
        arr = np.asarray(grid, dtype=float)
    except (TypeError, ValueError) as err:
        raise param_error("grid", owner, expected, grid, type_error=True) from err
    if arr.ndim != 1 or len(arr) == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise param_error("grid", owner, expected, grid)
    return arr


def _check_time_range(tr, owner):
    if tr is None:
        return None
    expected = "None or a pair (start, stop) of times with 0 <= start < stop"
    try:
        lo, hi = (float(v) for v in tr)
    except (TypeError, ValueError) as err:
        raise param_error("time_range", owner, expected, tr, type_error=True) from err
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo < hi):
        raise param_error("time_range", owner, expected, tr)
    return lo, hi


def _check_bandwidth_grid(bg, owner):
    if bg is None:
        return None
    expected = "None or a 1-d array of positive bandwidths"
    try:
        arr = np.asarray(bg, dtype=float)
    except (TypeError, ValueError) as err:
        raise param_error("bandwidth_grid", owner, expected, bg, type_error=True) from err
    if arr.ndim != 1 or len(arr) == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise param_error("bandwidth_grid", owner, expected, bg)
    return np.sort(arr)


def _check_causes(cause, lt: LifeTable, owner) -> list:
    causes = _as_list(cause)
    if not causes:
        return []
    if not lt.causes:
        raise ValueError(f"{owner}: cause={cause!r} was given but the records have no causes; build the tenure "
                         "table with cause='<column>'.")
    missing = [c for c in causes if c not in lt.causes]
    if missing:
        raise ValueError(f"{owner}: unknown cause(s) {missing}; the causes are {list(lt.causes)}.")
    return causes


def _label(key: dict, by: Sequence[str]) -> str:
    if not by:
        return "all"
    return ", ".join(str(key[b]) for b in by)


def _restore_dtypes(frame: pd.DataFrame, keys: pd.DataFrame, by) -> None:
    for b in by:
        if b in frame and isinstance(keys[b].dtype, pd.CategoricalDtype):
            frame[b] = pd.Categorical(frame[b], categories=keys[b].cat.categories, ordered=keys[b].cat.ordered)


def _check_discrete(discrete, owner):
    """'auto', False (0.0: continuous), True (1.0) or a positive period length."""
    expected = "'auto', a bool or a positive float (the period length)"
    if isinstance(discrete, str):
        if discrete != "auto":
            raise param_error("discrete", owner, expected, discrete)
        return "auto"
    if isinstance(discrete, (bool, np.bool_)):
        return 1.0 if discrete else 0.0
    if not isinstance(discrete, numbers.Real) or not np.isfinite(discrete) or discrete <= 0:
        raise param_error("discrete", owner, expected, discrete, type_error=not isinstance(discrete, numbers.Real))
    return float(discrete)


def _period_width(discrete, times, owner) -> float:
    """The period length: 0 for continuous times; 'auto' is 1 when every time is a whole number."""
    times = times[np.isfinite(times)]
    if discrete == "auto":
        return 1.0 if len(times) and np.all(times == np.round(times)) else 0.0
    if discrete > 0:
        k = times / discrete
        off = np.abs(k - np.round(k)) > 1e-9 * np.maximum(1.0, np.abs(k))
        if off.any():
            raise ValueError(f"{owner}: discrete={discrete!r} spreads each defection over a period of length "
                             f"{discrete:g}, but {int(off.sum())} of the {len(times)} distinct times in the data are "
                             f"not multiples of {discrete:g} (e.g. {', '.join(f'{v:g}' for v in times[off][:5])}). "
                             "Pass discrete=False for continuous times, or the period length of the data.")
    return float(discrete)


def _check_min_at_risk(value, owner) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise param_error("min_at_risk", owner, "None or a number >= 0", value, type_error=True)
    if not np.isfinite(value) or value < 0:
        raise param_error("min_at_risk", owner, "None or a number >= 0", value)
    return float(value)


def _check_change_points(value, owner):
    if value is None:
        return None
    expected = "None or a 1-d array of finite times > 0"
    try:
        arr = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError) as err:
        raise param_error("change_points", owner, expected, value, type_error=True) from err
    if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise param_error("change_points", owner, expected, value)
    return np.unique(arr)
