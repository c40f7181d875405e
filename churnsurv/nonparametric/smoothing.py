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
from scipy import stats

from churnsurv._base import BaseEstimator
from churnsurv._validation import check_conf_level, check_is_fitted, check_one_of, param_error
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
        cause, with ``cause=``). Defections outside it are not used.
    bandwidth_grid : array-like, optional
        Candidate bandwidths for ``bandwidth="cv"``. Default: 30 values spaced evenly on the log scale from
        :math:`\\max\\{(t_R - t_L)/100, 2\\delta\\}` to :math:`(t_R - t_L)/2`, :math:`\\delta` the median gap
        between consecutive defection times (so that monthly data are never smoothed over less than two
        months).

    Attributes
    ----------
    hazard_ : pandas.DataFrame
        One row per (segment, [cause,] grid time): the ``by`` columns, ``cause`` (with ``cause=``), ``time``,
        ``estimate`` (hazard per time unit), ``std_error``, ``ci_lower``, ``ci_upper``, and ``bandwidth``
        (the bandwidth used for that row). ``attrs`` holds ``kernel``, ``boundary``, ``conf_level``,
        ``time_unit`` and ``bandwidth`` (a float when there is one curve, else a dict keyed by segment
        label).
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
    0. Ties are handled exactly through the counts (``muhaz`` gives tied defections the increments
    :math:`1/(n - i + 1)` of their rank instead; without ties the two are identical).

    **Confidence band**, pointwise, on the log scale:
    :math:`\\hat h(t) \\exp(\\pm z_{1-\\alpha/2}\\, \\mathrm{se}/\\hat h(t))`, which stays positive; it is NaN
    where the estimate is 0. It covers the smoothed hazard :math:`E\\hat h(t)`; the smoothing bias is not in it.

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
    >>> import pandas as pd
    >>> from churnsurv.nonparametric import SmoothedHazard
    >>> df = pd.DataFrame({"tenure": [2, 3, 3, 5, 6, 8, 9, 11, 12, 12],
    ...                    "churned": [1, 1, 0, 1, 1, 0, 1, 1, 0, 0]})
    >>> sh = SmoothedHazard(bandwidth=4.0, grid=[2, 4, 6, 8]).fit(df, duration="tenure", event="churned")
    >>> sh.hazard_.round(4)
       time  estimate  std_error  ci_lower  ci_upper  bandwidth
    0   2.0    0.0487     0.0300    0.0145    0.1629        4.0
    1   4.0    0.0821     0.0419    0.0302    0.2235        4.0
    2   6.0    0.0860     0.0459    0.0302    0.2450        4.0
    3   8.0    0.1212     0.0670    0.0410    0.3582        4.0
    >>> sh.bandwidth_
       bandwidth method  n_events  time_min  time_max
    0        4.0  fixed       6.0       0.0      11.0
    """

    def __init__(self, kernel: str = "epanechnikov", bandwidth="cv", boundary: str = "muller-wang",
                 conf_level: float = 0.95, grid=None, time_range=None, bandwidth_grid=None):
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.boundary = boundary
        self.conf_level = conf_level
        self.grid = grid
        self.time_range = time_range
        self.bandwidth_grid = bandwidth_grid

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
        z = stats.norm.ppf(0.5 + check_conf_level(self.conf_level, owner) / 2)
        bw = _check_bandwidth(self.bandwidth, owner)
        grid = _check_grid(self.grid, owner)
        trange = _check_time_range(self.time_range, owner)
        bgrid = _check_bandwidth_grid(self.bandwidth_grid, owner)

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

        hz_rows, bw_rows, cv_rows, fits = [], [], [], []
        for gi in range(len(starts)):
            sl = slice(starts[gi], ends[gi])
            key = {b: keys[b].iloc[gi] for b in by}
            label = _label(key, by)
            for c, d_all in curves:
                label_c = label if c is None else (f"{label}, {c}" if by else c)
                fit = _fit_one(t_all[sl], y_all[sl], d_all[sl], after_all[sl], kernel, self.boundary, bw, trange,
                               bgrid, label_c)
                fits.append((key, c, fit))
                head = dict(key)
                if c is not None:
                    head["cause"] = c
                bw_rows.append({**head, "bandwidth": fit["bandwidth"], "method": fit["method"],
                                "n_events": fit["n_events"], "time_min": fit["lo"], "time_max": fit["hi"]})
                if fit["cv"] is not None:
                    cv_rows.append(pd.DataFrame({**{k: [v] * len(fit["cv"][0]) for k, v in head.items()},
                                                 "bandwidth": fit["cv"][0], "score": fit["cv"][1]}))
                times = _grid_times(grid, fit["lo"], fit["hi"])
                hz_rows.append(_evaluate(fit, times, kernel, self.boundary, z, head))

        self.by_ = tuple(by)
        self.causes_ = tuple(causes)
        self.time_unit_ = lt.time_unit
        self.conf_level_ = float(self.conf_level)
        self.kernel_ = kernel
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
            rows.append(_evaluate(fit, t, self.kernel_, self.boundary, self._z, head))
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
                "time_unit": self.time_unit_, "bandwidth": bandwidth}


def smoothed_hazard(data, by=None, *, cause=None, kernel: str = "epanechnikov", bandwidth="cv",
                    boundary: str = "muller-wang", conf_level: float = 0.95, grid=None, time_range=None,
                    **frame_kwargs) -> pd.DataFrame:
    """Kernel-smoothed hazard rate as a tidy table (the function form of :class:`SmoothedHazard`).

    Parameters
    ----------
    data, by, cause, **frame_kwargs
        As in :meth:`SmoothedHazard.fit`.
    kernel, bandwidth, boundary, conf_level, grid, time_range
        As in :class:`SmoothedHazard`.

    Returns
    -------
    pandas.DataFrame
        :attr:`SmoothedHazard.hazard_`: ``[*by, (cause,) time, estimate, std_error, ci_lower, ci_upper,
        bandwidth]``, with the bandwidth(s) also in ``attrs["bandwidth"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> from churnsurv.nonparametric import smoothed_hazard
    >>> df = pd.DataFrame({"tenure": [2, 3, 3, 5, 6, 8, 9, 11, 12, 12],
    ...                    "churned": [1, 1, 0, 1, 1, 0, 1, 1, 0, 0]})
    >>> h = smoothed_hazard(df, bandwidth=4.0, grid=[3, 6], duration="tenure", event="churned")
    >>> h[["time", "estimate"]].round(4)
       time  estimate
    0   3.0     0.072
    1   6.0     0.086
    >>> h.attrs["bandwidth"]
    4.0
    """
    est = SmoothedHazard(kernel=kernel, bandwidth=bandwidth, boundary=boundary, conf_level=conf_level, grid=grid,
                         time_range=time_range)
    return est.fit(data, by=by, cause=cause, **frame_kwargs).hazard_


# ---------------------------------------------------------------------- one curve
def _fit_one(t, y, d, after, kernel, boundary, bw, trange, bgrid, label) -> dict:
    """Increments of one curve, its range and bandwidth."""
    has = (d > 0) & (y > 0)
    if trange is not None:
        lo, hi = trange
    else:
        lo = 0.0
        hi = float(t[has].max()) if has.any() else float(t.max())
    inside = has & (t >= lo) & (t <= hi)
    # defections the kernels may use: those in [lo, hi] with boundary kernels at both ends; without a
    # right-end correction the ordinary kernel also uses defections after hi (as muhaz does)
    usable = inside if boundary == "muller-wang" else has & (t >= lo) if boundary == "left" else has
    T = t[usable]
    a = d[usable] / y[usable]
    a2 = d[usable] / y[usable] ** 2
    n_events = float(d[inside].sum())
    in_range = (T >= lo) & (T <= hi)
    fit = {"T": T, "a": a, "a2": a2, "in_range": in_range, "lo": float(lo), "hi": float(hi),
           "n_events": n_events, "cv": None}
    if n_events == 0:
        warnings.warn(f"Segment {label!r} has no defection in the time range; its smoothed hazard is 0 (no "
                      "confidence band).", StatisticalWarning, stacklevel=4)
        if bw == "cv":
            fit.update(bandwidth=np.nan, method="cv")
        else:
            fit.update(bandwidth=float(bw), method="fixed")
        return fit
    if hi <= lo:
        raise ValueError(f"Segment {label!r}: all defections happen at time {lo:g}; a smoothed hazard needs a "
                         "time range of positive length (pass time_range=(start, stop)).")
    if bw == "cv":
        cands = bgrid if bgrid is not None else _default_bandwidth_grid(T[in_range], lo, hi)
        y_max = float(y.max())

        def weight(times):  # exposure weight Y(t) / max Y, Y the at-risk step function of the life table
            idx = np.searchsorted(t, times, side="left")          # first row at or after each time
            exact = (idx < len(t)) & (t[np.minimum(idx, len(t) - 1)] == times)
            prev = np.maximum(idx - 1, 0)
            risk = np.where(exact, y[np.minimum(idx, len(t) - 1)], np.where(idx > 0, after[prev], 0.0))
            return np.maximum(risk, 0.0) / y_max

        w_T = weight(T)
        scores = np.array([_cv_score(T, a, a2, w_T, in_range, b, lo, hi, kernel, boundary, weight)
                           for b in cands])
        best = int(np.nanargmin(scores))
        b = float(cands[best])
        if len(cands) > 1 and best == 0:
            warnings.warn(f"Segment {label!r}: the cross-validated bandwidth is the smallest candidate ({b:.4g}); "
                          "the curve may be undersmoothed. Pass bandwidth_grid= to widen the search, or a fixed "
                          "bandwidth.", StatisticalWarning, stacklevel=4)
        fit.update(bandwidth=b, method="cv", cv=(np.asarray(cands, float), scores))
    else:
        b = float(bw)
        fit.update(bandwidth=b, method="fixed")
    if boundary != "none" and b > (hi - lo) / 2:
        warnings.warn(f"Segment {label!r}: the bandwidth ({b:.4g}) exceeds half the time range "
                      f"[{lo:g}, {hi:g}], so the boundary kernels of the two ends overlap (the left one is used); "
                      "the estimate is close to a straight line and unreliable near the right end.",
                      StatisticalWarning, stacklevel=4)
    return fit


def _evaluate(fit, times, kernel, boundary, z, head) -> pd.DataFrame:
    times = np.asarray(times, dtype=float)
    b = fit["bandwidth"]
    est = np.full(len(times), np.nan)
    se = np.full(len(times), np.nan)
    ok = (times >= fit["lo"] - 1e-12) & (times <= fit["hi"] + 1e-12)
    if fit["n_events"] == 0:
        est[ok] = 0.0
        se[ok] = 0.0
    elif ok.any():
        raw, var = _smooth(times[ok], fit["T"], fit["a"], fit["a2"], b, fit["lo"], fit["hi"], kernel, boundary,
                           variance=True)
        est[ok] = np.maximum(raw, 0.0)
        se[ok] = np.sqrt(np.maximum(var, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = est > 0
        f = np.where(pos, np.exp(z * se / np.where(pos, est, 1.0)), np.nan)
        lower = np.where(pos, est / f, np.nan)
        upper = np.where(pos, est * f, np.nan)
    out = pd.DataFrame({k: [v] * len(times) for k, v in head.items()})
    out["time"] = times
    out["estimate"] = est
    out["std_error"] = se
    out["ci_lower"] = lower
    out["ci_upper"] = upper
    out["bandwidth"] = float(b)
    return out


def _smooth(z, T, a, a2, b, lo, hi, kernel, boundary, variance=False):
    """Raw (unclamped) kernel sums at points z: (1/b) sum K a and (1/b^2) sum K^2 a2."""
    z = np.asarray(z, dtype=float)
    order = np.argsort(z, kind="stable")
    zs = z[order]
    est = np.zeros(len(z))
    var = np.zeros(len(z)) if variance else None
    if len(T) == 0 or len(z) == 0:
        return est, var
    # per-point kernel shape: q (<1 near a boundary) and the sign of the argument
    q = np.ones(len(zs))
    sign = np.ones(len(zs))
    if boundary != "none":
        left = zs < lo + b
        q = np.where(left, (zs - lo) / b, q)
        if boundary == "muller-wang":
            right = ~left & (zs > hi - b)
            q = np.where(right, (hi - zs) / b, q)
            sign = np.where(right, -1.0, sign)
    q = np.clip(q, 0.0, 1.0)
    c, A, B = (v[:, None] for v in _kernel_coefficients(q, kernel))
    q = q[:, None]
    lo_idx = np.searchsorted(T, zs - b, side="right")     # window: zs - b < T < zs + b
    hi_idx = np.searchsorted(T, zs + b, side="left")
    width = int(np.max(hi_idx - lo_idx, initial=0))
    n = len(zs)
    out_est = np.zeros(n)
    out_var = np.zeros(n) if variance else None
    if width > 0:
        offsets = np.arange(width)
        step = max(1, _BLOCK // width)
        for i in range(0, n, step):
            j = min(n, i + step)
            idx = lo_idx[i:j, None] + offsets[None, :]
            valid = idx < hi_idx[i:j, None]
            idx = np.minimum(idx, len(T) - 1)
            x = sign[i:j, None] * (zs[i:j, None] - T[idx]) / b
            K = _kernel_poly(c[i:j], A[i:j], B[i:j], q[i:j], x, kernel)
            K[~valid] = 0.0
            out_est[i:j] = np.einsum("ij,ij->i", K, a[idx]) / b
            if variance:
                out_var[i:j] = np.einsum("ij,ij,ij->i", K, K, a2[idx]) / (b * b)
    est[order] = out_est
    if variance:
        var[order] = out_var
    return est, var


def _cv_score(T, a, a2, w_T, in_range, b, lo, hi, kernel, boundary, weight) -> float:
    """Exposure-weighted least-squares cross-validation score (see SmoothedHazard Notes)."""
    aw, a2w = a * w_T * in_range, a2 * w_T * in_range   # the sum over customers runs over [lo, hi] only
    span = float(T.max() - T.min()) if len(T) else 0.0
    n_bins = int(np.ceil(_CV_BINS_PER_BANDWIDTH * span / b))
    if span > 0 and len(T) > n_bins:  # bin the increments (weighted mean time per bin, width <= b / 50)
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
    h_grid, _ = _smooth(grid, T, a, a2, b, lo, hi, kernel, boundary)
    integral = np.trapezoid(h_grid * h_grid * weight(grid), grid)
    used = aw > 0
    Tu = T_eval[used]
    h_at, _ = _smooth(Tu, T, a, a2, b, lo, hi, kernel, boundary)
    # the customer's own increment, K_q(0) / (b Y), with the kernel shape used at T
    q = np.ones(len(Tu))
    if boundary != "none":
        left = Tu < lo + b
        q = np.where(left, (Tu - lo) / b, q)
        if boundary == "muller-wang":
            q = np.where(~left & (Tu > hi - b), (hi - Tu) / b, q)
    self_term = np.sum(_kernel(np.clip(q, 0.0, 1.0), 0.0, kernel) * a2w[used]) / b
    return float(integral - 2.0 * (np.sum(aw[used] * h_at) - self_term))


def _default_bandwidth_grid(T, lo, hi) -> np.ndarray:
    span = hi - lo
    gaps = np.diff(np.unique(T))
    delta = float(np.median(gaps)) if len(gaps) else span
    b_lo = max(span / 100.0, 2.0 * delta)
    b_hi = span / 2.0
    if b_lo >= b_hi:
        return np.array([b_hi])
    return np.geomspace(b_lo, b_hi, _CV_GRID_SIZE)


def _grid_times(grid, lo, hi) -> np.ndarray:
    if grid is None:
        return np.linspace(lo, hi, 101)
    if isinstance(grid, numbers.Integral):
        return np.linspace(lo, hi, int(grid))
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
