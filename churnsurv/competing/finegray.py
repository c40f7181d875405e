"""Fine-Gray regression: proportional subdistribution hazards for one cause of defection.

:class:`FineGray` models the cumulative incidence of one cause (say, defection to a competitor) while the
other causes compete. On right-censored data it is a NumPy re-implementation of ``cmprsk::crr`` (R. Gray):
same estimating equation, same inverse-probability-of-censoring weights, same tie handling, same robust
variance. On left-truncated (entry, exit] data it uses the time-dependent weights of Geskus (2011) and
reproduces ``survival::finegray`` followed by a weighted ``coxph`` (private module ``_geskus``). Both agree
with R to about 1e-12 (see ``tests/competing/test_against_r_finegray.py``).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import pandas as pd

from churnsurv._base import BaseEstimator
from churnsurv._validation import (
    check_columns,
    check_conf_level,
    check_is_fitted,
    check_one_of,
    data_error,
    find_stack_level,
    param_error,
)
from churnsurv.competing._crr import _CRR
from churnsurv.competing._geskus import _Geskus
from churnsurv.data.tenures import Tenures
from churnsurv.exceptions import StatisticalWarning, TenureDataError
from churnsurv.models.formula import (
    _Design,
    _encode,
    _encode_profiles,
    _parse_formula,
    _Spec,
    _warn_separation,
    _warn_sparse_terms,
)

__all__ = ["ConvergenceWarning", "FineGray"]


class ConvergenceWarning(StatisticalWarning):
    """Newton-Raphson stopped before the convergence criterion was met; estimates are unreliable."""


# ====================================================================== the estimator
class FineGray(BaseEstimator):
    """Fine-Gray proportional subdistribution hazards regression for one cause of defection.

    On right-censored data, a re-implementation of ``cmprsk::crr``: inverse-probability-of-censoring weights
    from the Kaplan-Meier estimate of the censoring distribution, Breslow handling of tied times,
    Newton-Raphson on the weighted partial likelihood, and ``crr``'s robust (sandwich) variance, which includes
    the term from estimating the censoring distribution. On left-truncated data (a tenure table with entries
    after 0, e.g. from :meth:`Tenures.from_snapshot`), the weights of Geskus (2011), as
    ``survival::finegray`` + ``coxph(..., weights = fgwt, id = id)`` computes them.

    Parameters
    ----------
    cause : str
        The cause of interest (one of ``Tenures.causes``); the other causes compete.
    conf_level : float, default=0.95
        Level of the confidence intervals.
    ties : {"breslow", "efron"}, default="breslow"
        Tie handling: Breslow (as ``crr``), or Efron (``coxph``'s default; only with Geskus weights).
    tol : float, default=1e-9
        Convergence criterion, ``crr``'s ``gtol``: stop when
        :math:`\\max_j |U_j| \\max(|\\beta_j|, 1) < \\max(|\\ell|, 1)\\,\\text{tol}` (``crr``'s default is 1e-6).
    max_iter : int, default=100
        Maximum number of Newton-Raphson steps (``crr``'s default is 10).
    censoring_strata : str, optional
        Column whose levels get separate Kaplan-Meier estimates of the censoring distribution
        (``crr``'s ``cengroup``), e.g. when the data cut-off differs between sales channels. Only with
        ``crr`` weights.
    weighting : {"auto", "crr", "geskus"}, default="auto"
        ``"crr"``: ``cmprsk::crr``'s weights (right-censored data only). ``"geskus"``: the time-dependent
        weights of Geskus (2011) of ``survival::finegray``, for (entry, exit] data. ``"auto"``: ``"geskus"`` when
        the data are left-truncated, else ``"crr"``; so on right-censored data the result equals ``crr``.

    Attributes
    ----------
    coef_ : pandas.DataFrame
        One row per term: ``term, coef, std_error, hazard_ratio, ci_lower, ci_upper`` (interval of the hazard
        ratio), ``z, p_value``. Standard errors are ``crr``'s robust ones (``sqrt(diag(fit$var))``); with
        Geskus weights, ``coxph``'s robust ones grouped by customer (the ``robust se`` of ``coxph(..., id = id)``).
    vcov_ : pandas.DataFrame
        Robust covariance of the coefficients (``crr``'s ``fit$var``; with Geskus weights ``coxph``'s
        ``fit$var`` with ``id = id``).
    naive_vcov_ : pandas.DataFrame
        Inverse information (``crr``'s ``fit$invinf``; ``coxph``'s ``fit$naive.var``, printed as
        ``se(coef)``): the model-based variance, which treats the weights as known.
    weighting_ : str
        ``"crr"`` or ``"geskus"``: the weights used.
    baseline_ : pandas.DataFrame
        ``time`` (distinct times of the cause), ``n_events``, ``jump`` (``crr``'s ``bfitj``) and
        ``cumulative_hazard``: the Breslow cumulative subdistribution hazard at covariates 0 (the
        reference levels and zero for numeric covariates).
    loglik_, loglik_null_ : float
        Log partial likelihood at the estimate and at 0 (``crr``'s ``loglik`` and ``loglik.null``).
    score_ : numpy.ndarray
        Score (gradient of the log partial likelihood) at the estimate.
    n_iter_ : int
        Newton-Raphson steps taken.
    converged_ : bool
        Whether the convergence criterion was met.
    terms_ : tuple of str
        Term names, e.g. ``("Contract[One Year]", "Contract[Two Year]", "Monthly Charge")``.
    reference_ : dict
        Reference level of each categorical covariate.
    cause_ : str
        The cause modelled.
    n_obs_, n_events_, n_competing_, n_censored_ : int
        Rows, events of the cause, events of other causes, censored rows.
    time_unit_ : str
        Time unit of the data.

    See Also
    --------
    churnsurv.data.simulate.simulate_fine_gray : data with a known subdistribution hazard ratio.

    Notes
    -----
    Let :math:`F_k(t \\mid x) = P(T \\le t, \\text{cause} = k \\mid x)` be the cumulative incidence of cause
    :math:`k`. The model says that its subdistribution hazard is proportional:

    .. math::

        \\gamma_k(t \\mid x) = -\\frac{d}{dt}\\log\\{1 - F_k(t \\mid x)\\} = \\gamma_{k0}(t)\\, e^{x^\\top\\beta},
        \\qquad F_k(t \\mid x) = 1 - \\exp\\{-\\Gamma_{k0}(t)\\, e^{x^\\top\\beta}\\}.

    Customers who left for another cause stay in the risk set after their exit, with the weight
    :math:`w_i(t) = \\hat G(t-)/\\hat G(X_i-)`, :math:`\\hat G` the Kaplan-Meier estimate of the censoring
    distribution (per ``censoring_strata`` level); customers still at risk have weight 1 and censored
    customers leave. As in ``crr``, :math:`\\hat G(t-)` is the left limit of the product-limit estimate (in
    which customers defecting at a censoring time count as at risk of censoring then), and it is 0 after a
    stratum's last time. With :math:`S^{(0)}(t) = \\sum_i w_i(t) e^{x_i^\\top\\beta}` (and :math:`S^{(1)}`
    with :math:`x_i` inside), :math:`\\hat\\beta` maximises the Breslow log partial likelihood

    .. math::

        \\ell(\\beta) = \\sum_{m} \\Big\\{ \\sum_{i:\\,X_i = t_m,\\,\\epsilon_i = k} x_i^\\top\\beta
        - d_m \\log S^{(0)}(t_m) \\Big\\},

    over the distinct times :math:`t_m` of cause :math:`k` (:math:`d_m` events each), and the baseline
    jumps are :math:`d\\hat\\Gamma_{k0}(t_m) = d_m / S^{(0)}(t_m)`. The variance is the sandwich
    :math:`I^{-1}\\big\\{\\sum_i (\\eta_i + \\psi_i)^{\\otimes 2}\\big\\} I^{-1}`, with :math:`\\eta_i` the score
    martingale residual and :math:`\\psi_i` the term from estimating :math:`G` (Fine & Gray 1999, sec. 3),
    computed as ``crr`` 2.2-11 does (with ``censoring_strata``, the :math:`\\psi_i` of stratum :math:`g`
    is built from that stratum's cause events and competing rows).

    Prediction intervals (:meth:`predict_cumulative_incidence`; ``predict.crr`` gives none) come from the
    delta method on :math:`\\log\\hat\\Gamma_k(t \\mid x)` (a complementary log-log interval for
    :math:`F_k`), with the influence of each customer on :math:`\\hat\\Gamma_{k0}(t)` (its martingale part
    and the term from estimating :math:`G`, per censoring stratum) and on :math:`\\hat\\beta` (as above), as
    in Fine & Gray (1999, sec. 4). Their coverage is checked by simulation in ``tests/competing/test_finegray.py``.

    **Left truncation** (Geskus 2011). A customer observed from :math:`L_i` (``entry``) is at risk on
    :math:`(L_i, X_i]`; one who left for another cause at :math:`s = X_i` stays in the risk set at
    :math:`t > s` with weight

    .. math::

        w_i(t) = \\frac{\\hat G(t-)\\, \\hat H(t-)}{\\hat G(s-)\\, \\hat H(s-)},

    :math:`\\hat G` the Kaplan-Meier estimate of the censoring distribution computed with delayed entry and
    :math:`\\hat H(t-) = \\prod_{e \\ge t}\\{1 - d^L(e)/Y^L(e)\\}` the reverse-time product-limit estimate of the
    entry distribution (:math:`d^L(e)` customers entering at :math:`e`, :math:`Y^L(e)` those with
    :math:`L \\le e < X`), so customers who could only have been seen had they entered earlier are
    represented. The coefficients maximise the weighted Cox partial likelihood over these risk sets (Efron or
    Breslow), as ``coxph(Surv(fgstart, fgstop, fgstatus) ~ x, weights = fgwt)`` on ``finegray``'s expanded
    data does; churnsurv evaluates the same sums without expanding the data. Conventions are those of
    ``survival`` 3.5-3: an event tied with a censoring counts as before it in :math:`\\hat G` (``crr`` counts
    it as at risk of censoring), and :math:`\\hat H` is used only when some entry is later than the first
    exit. The standard errors are ``coxph``'s robust ones with ``id = id`` (one score residual per customer,
    summed over its weighted rows), which treat the weights as known, as do the prediction intervals (whose
    influence functions are then the martingale part and the coefficient part only). Calling ``coxph``
    without ``id`` prints a "robust se" that treats the expanded rows of a customer as independent; it is
    too small and is not reproduced. With ``weighting="geskus"`` on right-censored data, the estimates
    equal ``crr``'s when no defection ties with a censoring; the standard errors differ slightly, since
    ``crr``'s variance carries the extra term :math:`\\psi_i`. ``censoring_strata`` is not available with
    Geskus weights. Case weights are not supported.

    Interpretation: :math:`e^{\\beta}` multiplies the subdistribution hazard, so it orders cumulative
    incidences (a ratio above 1 means more defections of this cause by any time); it is not a ratio of
    rates among customers still active (Austin & Fine 2017). Predicted incidences are the useful output.

    References
    ----------
    1. Fine, J. P. & Gray, R. J. (1999). A proportional hazards model for the subdistribution of a
       competing risk. *Journal of the American Statistical Association*, 94(446), 496-509.
    2. Geskus, R. B. (2011). Cause-specific cumulative incidence estimation and the Fine and Gray model
       under both left truncation and right censoring. *Biometrics*, 67(1), 39-49.
    3. Gray, R. J. (2022). cmprsk: Subdistribution analysis of competing risks. R package version 2.2-11.
    4. Austin, P. C. & Fine, J. P. (2017). Practical recommendations for reporting Fine-Gray model analyses
       for competing risk data. *Statistics in Medicine*, 36(27), 4391-4400.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from churnsurv.competing.finegray import FineGray
    >>> from churnsurv.data.simulate.simulator import simulate_fine_gray
    >>> sim = simulate_fine_gray(500, random_state=0)  # true subdistribution log hazard ratio 0.5
    >>> df = sim.data.assign(reason=sim.data["event"].map({1: "competitor", 2: "other"}))
    >>> fg = FineGray(cause="competitor").fit(df, duration="time", cause="reason", covariates=["z"])
    >>> fg.coef_[["term", "coef", "std_error", "hazard_ratio"]].round(3)
      term   coef  std_error  hazard_ratio
    0    z  0.521      0.151         1.683
    >>> cif = fg.predict_cumulative_incidence(pd.DataFrame({"z": [0, 1]}), times=[1.0])
    >>> cif[["profile", "time", "estimate", "ci_lower", "ci_upper"]].round(3)
       profile  time  estimate  ci_lower  ci_upper
    0        0   1.0     0.172     0.135     0.219
    1        1   1.0     0.273     0.227     0.325
    >>> sim.truth.cumulative_incidence(1.0, z=np.array([0.0, 1.0])).round(3)
    array([0.19 , 0.293])
    """

    def __init__(self, cause=None, conf_level=0.95, ties="breslow", tol=1e-9, max_iter=100, censoring_strata=None,
                 weighting="auto"):
        self.cause = cause
        self.conf_level = conf_level
        self.ties = ties
        self.tol = tol
        self.max_iter = max_iter
        self.censoring_strata = censoring_strata
        self.weighting = weighting

    # ---- fitting
    def _check_params(self):
        owner = "FineGray"
        check_conf_level(self.conf_level, owner)
        check_one_of(self.ties, "ties", owner, ("breslow", "efron"))
        check_one_of(self.weighting, "weighting", owner, ("auto", "crr", "geskus"))
        if isinstance(self.tol, bool) or not isinstance(self.tol, numbers.Real) or not 0 < self.tol < 1:
            raise param_error("tol", owner, "a float in (0, 1)", self.tol,
                              type_error=not isinstance(self.tol, numbers.Real) or isinstance(self.tol, bool))
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, numbers.Integral) or self.max_iter < 1:
            raise param_error("max_iter", owner, "a positive int", self.max_iter,
                              type_error=not isinstance(self.max_iter, numbers.Integral))
        if self.censoring_strata is not None and not isinstance(self.censoring_strata, str):
            raise param_error("censoring_strata", owner, "a column name or None", self.censoring_strata,
                              type_error=True)

    def fit(self, data, *, formula=None, covariates=None, reference=None, **frame_kwargs):
        """Fit the model.

        Parameters
        ----------
        data : Tenures or pandas.DataFrame
            A tenure table with causes, or a frame plus the keywords of :meth:`Tenures.from_frame`
            (``duration``, ``event``, ``cause``, ``id``...). Covariates are read from the tenure table's
            segment and value columns, or from any column of the frame. Not modified.
        formula : str, optional
            Covariates as ``"Contract + Q('Monthly Charge')"``: ``+``-separated column names, with
            ``Q('...')`` or backticks for names that are not identifiers and ``C(column, ref='level')`` to
            treat a column as categorical with the named reference level. A leading ``~`` is allowed;
            nothing else (no interactions or transformations: add such columns to the frame first).
        covariates : list of str or pandas.DataFrame, optional
            Column names (instead of ``formula``), or a ready design matrix: a numeric frame with one row
            per row of ``data`` (same order), whose column names become the terms.
        reference : dict, optional
            Reference level per categorical column, e.g. ``{"Contract": "Month-to-Month"}``; default the
            first level (category order, else sorted). Naming a numeric column here makes it categorical.
        **frame_kwargs
            Passed to :meth:`Tenures.from_frame` when ``data`` is a frame.

        Returns
        -------
        FineGray
            ``self``, fitted.

        Raises
        ------
        TenureDataError
            Missing or infinite covariate values, left truncation with ``weighting="crr"``, case weights, a constant or
            collinear term, or a term
            whose coefficient diverges (monotone likelihood: e.g. a level without events of the cause).
        ValueError
            A cause not in the data, a bad formula or reference level, Efron ties or ``censoring_strata`` with
            the wrong weighting.

        Warns
        -----
        ConvergenceWarning
            When Newton-Raphson stops before convergence (``converged_`` is then False).
        StatisticalWarning
            When a covariate level (the reference level included) has fewer than 5 defections of the cause, or
            the model fewer than 5 in all, or an estimate runs off to infinity (non-finite standard error).
        """
        self._check_params()
        tenures, frame = self._tenures(data, frame_kwargs)
        d = tenures.data
        ids = d["id"].to_numpy()
        weighting = self.weighting
        if weighting == "auto":
            weighting = "geskus" if tenures.is_truncated else "crr"
        if weighting == "crr" and tenures.is_truncated:
            raise data_error("entry", "left truncation (entry > 0)", (d["entry"] > 0).to_numpy(), ids,
                             "weighting='crr' (cmprsk::crr) does not support delayed entry. Use "
                             "weighting='geskus' (the default 'auto' does for such data), or fit tenures.naive() "
                             "to read the records as followed from sign-up.")
        if weighting == "crr" and self.ties == "efron":
            raise ValueError("The 'ties' parameter of FineGray must be 'breslow' with weighting='crr' (cmprsk::crr "
                             "has no Efron form). Got 'efron' instead; use weighting='geskus' for Efron ties.")
        if weighting == "geskus" and self.censoring_strata is not None:
            raise ValueError("The 'censoring_strata' parameter of FineGray must be None with Geskus weights "
                             f"(left-truncated data or weighting='geskus'). Got {self.censoring_strata!r} instead.")
        if (d["weight"] != 1.0).any():
            raise data_error("weight", "case weights other than 1", (d["weight"] != 1.0).to_numpy(), ids,
                             "FineGray (like cmprsk::crr) does not support case weights; expand or drop them.")
        if tenures.spells and d["id"].duplicated().any():
            raise data_error("id", "repeated ids (spells)", d["id"].duplicated(keep=False).to_numpy(), ids,
                             "FineGray treats rows as independent customers; keep one spell per customer.")
        if "cause" not in d.columns:
            raise ValueError("FineGray needs the cause of each defection: build the tenure table with "
                             "cause='<column>' (with a single cause, use a Cox model).")
        cause = self._resolve_cause(tenures)
        source = frame if frame is not None else d

        what = "records" if frame is not None else "tenure table"
        x, design = self._design(source, formula, covariates, reference, ids, len(d), what)
        event = d["event"].to_numpy(dtype=bool)
        is_k = event & (d["cause"].astype(object) == cause).to_numpy()
        status = np.where(is_k, 1, np.where(event, 2, 0))
        if not is_k.any():
            raise TenureDataError(f"There are no defections of cause {cause!r} to model "
                                  f"(causes with events: {sorted(d.loc[event, 'cause'].astype(str).unique())}).",
                                  column="cause")
        strata = np.zeros(len(d), dtype=int)
        if self.censoring_strata is not None:
            check_columns(source, [self.censoring_strata], what=what)
            col = source[self.censoring_strata]
            miss = col.isna().to_numpy()
            if miss.any():
                raise data_error(self.censoring_strata, "missing censoring strata", miss, ids,
                                 "Fill them (e.g. with a level 'unknown') or drop the rows.")
            strata = np.unique(col.astype(str).to_numpy(), return_inverse=True)[1]

        design.center = x.mean(axis=0)
        xc = x - design.center
        self._check_design(xc, design)
        if weighting == "geskus":
            crr = _Geskus(d["entry"].to_numpy(dtype=float), d["exit"].to_numpy(dtype=float), status, xc,
                          ties=self.ties)
        else:
            crr = _CRR(d["exit"].to_numpy(dtype=float), status, xc, strata)
        crr.terms = list(design.terms)
        self._check_separation(crr, design, cause, x, status)
        _warn_sparse_terms(x, design, is_k, model=f"FineGray, cause {cause!r}")

        beta, loglik, score, info, n_iter, converged = self._newton(crr)
        infl = crr.score_influence(beta)
        inv_info = np.linalg.inv(info)
        vcov = inv_info @ (infl.T @ infl) @ inv_info
        vcov = (vcov + vcov.T) / 2

        terms = list(design.terms)
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.diag(vcov))
        _warn_separation(terms, beta, se, model=f"FineGray, cause {cause!r}")
        from scipy.special import ndtr, ndtri  # normal quantile and tail; scipy loads on first use

        zq = ndtri(0.5 + self.conf_level / 2)
        zstat = beta / se
        self.coef_ = pd.DataFrame({
            "term": terms, "coef": beta, "std_error": se, "hazard_ratio": np.exp(beta),
            "ci_lower": np.exp(beta - zq * se), "ci_upper": np.exp(beta + zq * se),
            "z": zstat, "p_value": 2 * ndtr(-np.abs(zstat)),
        })
        self.vcov_ = pd.DataFrame(vcov, index=terms, columns=terms)
        self.naive_vcov_ = pd.DataFrame(inv_info, index=terms, columns=terms)
        jump = crr.hazard_jumps(beta)[0] * np.exp(-design.center @ beta)
        self.baseline_ = pd.DataFrame({"time": crr.tau, "n_events": crr.d.astype(int), "jump": jump,
                                       "cumulative_hazard": np.cumsum(jump)})
        self.loglik_ = loglik
        self.loglik_null_ = crr.loglik(np.zeros(crr.p))
        self.score_ = score
        self.n_iter_ = n_iter
        self.converged_ = converged
        self.terms_ = tuple(terms)
        self.reference_ = {k[0]: k[3] for k in design.kinds if k[1] == "categorical"}
        self.cause_ = cause
        self.weighting_ = weighting
        self.n_obs_ = len(d)
        self.n_events_ = int(is_k.sum())
        self.n_competing_ = int((status == 2).sum())
        self.n_censored_ = int((status == 0).sum())
        self.time_unit_ = tenures.time_unit
        self._design_info = design
        self._last_exit = float(d["exit"].max())  # predictions past it rest on no data (they warn)
        self._crr = crr
        self._beta = beta
        self._infl_b = infl @ inv_info  # influence of each (sorted) row on beta
        self._moments = None  # computed by the first prediction
        return self

    def _tenures(self, data, frame_kwargs):
        if isinstance(data, Tenures):
            if frame_kwargs:
                raise TypeError(f"FineGray.fit got frame keywords {sorted(frame_kwargs)} with a Tenures; they "
                                "apply only to a DataFrame.")
            return data, None
        if isinstance(data, pd.DataFrame):
            return Tenures.from_frame(data, **frame_kwargs), data.reset_index(drop=True)
        raise param_error("data", "FineGray.fit", "a Tenures or a pandas DataFrame", type(data).__name__,
                          type_error=True)

    def _resolve_cause(self, tenures):
        causes = list(tenures.causes)
        for cand in (self.cause, str(self.cause)):
            if self.cause is not None and cand in causes:
                return cand
        listed = ", ".join(repr(c) for c in causes)
        raise ValueError(f"The 'cause' parameter of FineGray must be one of the causes in the data ({listed}). "
                         f"Got {self.cause!r} instead.")

    def _design(self, source, formula, covariates, reference, ids, n, what):
        if (formula is None) == (covariates is None):
            raise ValueError("FineGray.fit needs the covariates: pass either formula=\"a + C(b, ref='x')\" or "
                             "covariates=[...] (column names or a design-matrix DataFrame), not both.")
        if reference is not None and not isinstance(reference, dict):
            raise param_error("reference", "FineGray.fit", "a dict {column: level} or None", reference,
                              type_error=True)
        reference = dict(reference or {})
        if isinstance(covariates, pd.DataFrame):
            if len(covariates) != n:
                raise ValueError(f"The design matrix has {len(covariates)} rows but the data has {n}; give one "
                                 "row per row of the data, in the same order.")
            if reference:
                raise ValueError("'reference' applies to covariate columns, not to a ready design matrix.")
            mat = covariates.reset_index(drop=True)
            nonnum = [c for c in mat.columns if not pd.api.types.is_numeric_dtype(mat[c])
                      or pd.api.types.is_bool_dtype(mat[c])]
            if nonnum:
                raise TypeError(f"The design matrix has non-numeric columns {nonnum}; code them as numbers or "
                                "pass column names in 'covariates' to have them treatment-coded.")
            for c in mat.columns:
                miss = mat[c].isna().to_numpy()
                if miss.any():
                    raise data_error(str(c), "missing covariate values", miss, ids, "Drop or impute these rows.")
            design = _Design(kinds=[(None, "matrix", None, None)], terms=[str(c) for c in mat.columns],
                             term_column=[str(c) for c in mat.columns])
            return mat.to_numpy(dtype=float), design
        if formula is not None:
            if not isinstance(formula, str):
                raise param_error("formula", "FineGray.fit", "a str", formula, type_error=True)
            specs = _parse_formula(formula)
        else:
            cov = [covariates] if isinstance(covariates, str) else list(covariates)
            if not cov or not all(isinstance(c, str) for c in cov):
                raise param_error("covariates", "FineGray.fit", "a non-empty list of column names or a DataFrame",
                                  covariates, type_error=not cov or not all(isinstance(c, str) for c in cov))
            specs = [_Spec(c) for c in cov]
        names = [s.column for s in specs]
        dup = sorted({c for c in names if names.count(c) > 1})
        if dup:
            raise ValueError(f"Covariates {dup} are listed more than once.")
        unknown = sorted(set(reference) - set(names))
        if unknown:
            raise ValueError(f"'reference' names columns that are not covariates: {unknown}.")
        for s in specs:
            if s.column in reference:
                if s.reference is not None and s.reference != reference[s.column]:
                    raise ValueError(f"Two reference levels for {s.column!r}: {s.reference!r} in the formula and "
                                     f"{reference[s.column]!r} in 'reference'.")
                s.categorical, s.reference = True, reference[s.column]
        if what == "tenure table" and any(c not in source.columns for c in names):
            missing = [c for c in names if c not in source.columns]
            usable = [c for c in source.columns if c not in ("id", "entry", "exit", "event", "cause", "weight")]
            raise TenureDataError(
                f"The tenure table has no column {', '.join(map(repr, missing))}. Covariates come from its segment "
                f"and value columns ({', '.join(map(repr, usable)) or 'none'}); add the column with segments=[...] "
                "or values=[...] when building the table, or fit on the DataFrame directly.", column=missing[0])
        check_columns(source, names, what=what)
        return _encode(source, specs, ids)

    @staticmethod
    def _check_design(xc, design):
        for j, term in enumerate(design.terms):
            if np.ptp(xc[:, j]) == 0:
                raise TenureDataError(f"Term {term!r} is constant in the data, so its coefficient is not "
                                      "identifiable. Drop it from the covariates.", column=design.term_column[j],
                                      n_rows=xc.shape[0])
        scaled = xc / xc.std(axis=0)
        for j in range(1, xc.shape[1]):
            if np.linalg.matrix_rank(scaled[:, :j + 1], tol=1e-8 * np.sqrt(xc.shape[0])) <= j:
                earlier = ", ".join(repr(t) for t in design.terms[:j])
                raise TenureDataError(
                    f"Term {design.terms[j]!r} is a linear combination of {earlier} (collinear covariates), so "
                    "the coefficients are not identifiable. Drop one of them.", column=design.term_column[j],
                    n_rows=xc.shape[0])

    def _check_separation(self, crr, design, cause, x_raw, status):
        """Monotone likelihood in one term: every event of the cause has the largest (smallest) value of it
        in its risk set, so the estimate runs off to +inf (-inf); first, the common case of a categorical level
        (the reference level included) without events of the cause."""
        fix = "Merge the level with a neighbouring one, choose a reference level that has events, or drop the term."
        for column, kind, levels, ref in design.kinds:
            if kind != "categorical":
                continue
            cols = dict(zip([lv for lv in levels if lv != ref],
                            [j for j, c in enumerate(design.term_column) if c == column], strict=True))
            for level in levels:
                rows = (x_raw[:, list(cols.values())] == 0).all(axis=1) if level == ref else x_raw[:, cols[level]] == 1
                if not (rows & (status == 1)).any():
                    if level == ref:
                        what = (f"the reference level {column} == {level!r} has no {cause!r} defections "
                                f"({int(rows.sum())} rows), so the coefficients of all other levels diverge "
                                "to +inf")
                    else:
                        what = (f"there are no {cause!r} defections among the {int(rows.sum())} rows with "
                                f"{column} == {level!r}, so the coefficient of term {column}[{level}] diverges "
                                "to -inf")
                    raise TenureDataError(f"Monotone likelihood (separation): {what}. {fix}", column=column)
        if not isinstance(crr, _CRR):
            return  # with Geskus weights a diverging numeric term shows as non-convergence
        x = crr.x
        n_tau = crr.tau.size
        rmax = np.concatenate([np.maximum.accumulate(x[::-1], axis=0)[::-1], np.full((1, crr.p), -np.inf)])
        rmin = np.concatenate([np.minimum.accumulate(x[::-1], axis=0)[::-1], np.full((1, crr.p), np.inf)])
        hi, lo = rmax[crr.first], rmin[crr.first]
        for g in range(crr.n_groups):
            mask = ((crr.ici == 2) & (crr.grp == g))[:, None]
            pmax = np.concatenate([np.full((1, crr.p), -np.inf),
                                   np.maximum.accumulate(np.where(mask, x, -np.inf), axis=0)])[crr.first]
            pmin = np.concatenate([np.full((1, crr.p), np.inf),
                                   np.minimum.accumulate(np.where(mask, x, np.inf), axis=0)])[crr.first]
            alive = (crr.g_tau[g] > 0)[:, None]
            hi = np.maximum(hi, np.where(alive, pmax, -np.inf))
            lo = np.minimum(lo, np.where(alive, pmin, np.inf))
        fx = x[crr.ici == 1]
        starts = np.concatenate([[0], np.cumsum(crr.d)[:-1]])
        fmin, fmax = np.minimum.reduceat(fx, starts, axis=0), np.maximum.reduceat(fx, starts, axis=0)
        tol = 1e-12 * (1 + np.abs(x).max(axis=0))
        for j, term in enumerate(design.terms):
            up = np.all(fmin[:, j] >= hi[:, j] - tol[j])
            down = np.all(fmax[:, j] <= lo[:, j] + tol[j])
            if not (up or down) or n_tau == 0:
                continue
            raise TenureDataError(
                f"Monotone likelihood (separation): every {cause!r} defection has the "
                f"{'largest' if up else 'smallest'} value of term {term!r} in its risk set, so its coefficient "
                f"diverges to {'+' if up else '-'}inf. Drop the term, or check that it is not defined by the outcome "
                "(e.g. a field filled in only for customers who left).", column=design.term_column[j])

    def _newton(self, crr):
        """``crr``'s Newton-Raphson with step halving (Armijo test with slope 1e-4, at most 20 halvings).

        Unlike ``crr``, a step whose predicted gain is below the rounding error of the log-likelihood is taken
        without the test, so that tolerances far below ``crr``'s 1e-6 can be met.
        """
        b = np.zeros(crr.p)
        n_iter = 0
        converged = False
        grad_norm = np.nan
        while True:
            loglik, score, info, *_ = crr.derivatives(b)
            grad_norm = float(np.max(np.abs(score)))
            if np.max(np.abs(score) * np.maximum(np.abs(b), 1.0)) < max(abs(loglik), 1.0) * self.tol:
                converged = True
                break
            if n_iter == self.max_iter:
                break
            try:
                step = np.linalg.solve(info, score)
            except np.linalg.LinAlgError:
                break
            slope = float(step @ score)  # predicted increase of the log-likelihood
            # below rounding of the log-likelihood, the Armijo test is noise: take the Newton step
            tiny = slope <= 1e-11 * max(abs(loglik), 1.0)
            for _ in range(21):
                new = crr.loglik(b + step)
                if np.isfinite(new) and (tiny or new >= loglik + 1e-4 * slope):
                    break
                step = step / 2
            else:
                break
            b = b + step
            n_iter += 1
        if not converged:
            big = [t for t, v in zip(crr.terms, b, strict=True) if abs(v) > 10]
            hint = (f" Terms {big} have large coefficients: check for separation (a level with almost no events "
                    "of the cause).") if big else ""
            warnings.warn(f"FineGray did not converge after {n_iter} Newton-Raphson iterations (max_iter="
                          f"{self.max_iter}); the largest score component is {grad_norm:.3g}. Estimates are "
                          f"unreliable.{hint}", ConvergenceWarning, stacklevel=3)
        return b, loglik, score, info, n_iter, converged

    # ---- results
    def predict_cumulative_incidence(self, profiles, times=None):
        """Predicted cumulative incidence of the cause for covariate profiles, with confidence intervals.

        Parameters
        ----------
        profiles : pandas.DataFrame
            One row per profile with the covariate columns used in ``fit`` (raw values, e.g.
            ``Contract = "Two Year"``; or the design-matrix columns when ``fit`` got a matrix). The index
            labels the profiles.
        times : array-like of float, optional
            Times at which to predict; default the distinct times of the cause (as ``predict.crr``).

        Returns
        -------
        pandas.DataFrame
            ``profile, time, estimate, std_error, ci_lower, ci_upper``, one row per (profile, time).
            ``estimate`` is :math:`1 - \\exp\\{-\\hat\\Gamma_{k0}(t) e^{x^\\top\\hat\\beta}\\}` (``predict.crr``);
            the interval is the delta-method interval of :math:`\\log \\hat\\Gamma_k(t \\mid x)` mapped back
            (see Notes of :class:`FineGray`), ``std_error`` the delta-method standard error of the incidence.

        Warns
        -----
        StatisticalWarning
            When a requested time passes the last observed exit of the fit: the incidence is carried at its last
            value there.
        """
        check_is_fitted(self, "coef_")
        if not isinstance(profiles, pd.DataFrame):
            raise param_error("profiles", "FineGray.predict_cumulative_incidence", "a pandas DataFrame",
                              type(profiles).__name__, type_error=True)
        crr, design = self._crr, self._design_info
        xp = _encode_profiles(profiles, design) - design.center
        if times is None:
            t = crr.tau.copy()
        else:
            t = np.atleast_1d(np.asarray(times, dtype=float))
            if t.ndim != 1 or np.any(np.isnan(t)) or np.any(t < 0):
                raise param_error("times", "FineGray.predict_cumulative_incidence",
                                  "a sequence of non-negative times", times)
        past = t > getattr(self, "_last_exit", np.inf)
        if past.any():
            warnings.warn(
                f"FineGray.predict_cumulative_incidence: {int(past.sum())} of the requested times pass the last "
                f"observed exit (tenure {self._last_exit:g}): the incidence is carried at its last "
                "value, an assumption, not an estimate (a parametric model can extrapolate; see the guide's "
                "'Beyond the data' rule).", StatisticalWarning, stacklevel=find_stack_level())
        if self._moments is None:
            self._moments = crr.hazard_influence_moments(self._beta, self._infl_b)
        sa2, sab = self._moments
        a, ax = crr.hazard_jumps(self._beta)
        h0 = np.concatenate([[0.0], np.cumsum(a)])
        hx = np.concatenate([np.zeros((1, crr.p)), np.cumsum(ax, axis=0)])
        k = np.searchsorted(crr.tau, t, side="right")  # cause times <= t
        vb = self.vcov_.to_numpy()
        from scipy.special import ndtri

        zq = ndtri(0.5 + self.conf_level / 2)
        rows = []
        for label, x in zip(profiles.index, xp, strict=True):
            elp = np.exp(x @ self._beta)
            cum = elp * h0[k]
            c = x[None, :] * h0[k][:, None] - hx[k]
            kk = np.maximum(k - 1, 0)
            var = elp ** 2 * (sa2[kk] + 2 * np.einsum("tj,tj->t", c, sab[kk]) + np.einsum("tj,jl,tl->t", c, vb, c))
            var = np.where(k > 0, np.maximum(var, 0.0), 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                se_log = np.where(cum > 0, np.sqrt(var) / cum, 0.0)
            est = -np.expm1(-cum)
            rows.append(pd.DataFrame({
                "profile": label, "time": t, "estimate": est, "std_error": np.exp(-cum) * np.sqrt(var),
                "ci_lower": -np.expm1(-cum * np.exp(-zq * se_log)),
                "ci_upper": -np.expm1(-cum * np.exp(zq * se_log)),
            }))
        return pd.concat(rows, ignore_index=True)

    def summary(self) -> str:
        """A text summary: data, convergence, log-likelihoods and the coefficient table."""
        check_is_fitted(self, "coef_")
        table = self.coef_.copy()
        for col in ("coef", "std_error", "hazard_ratio", "ci_lower", "ci_upper", "z"):
            table[col] = table[col].map(lambda v: f"{v:.4g}")
        table["p_value"] = self.coef_["p_value"].map(lambda v: f"{v:.3g}")
        lr = 2 * (self.loglik_ - self.loglik_null_)
        ref = ", ".join(f"{k} = {v!r}" for k, v in self.reference_.items()) or "none"
        if self.weighting_ == "geskus":
            estimator = f"Geskus weights, survival::finegray + coxph estimator, {self.ties} ties"
            se_kind = "robust standard errors grouped by customer (weights treated as known, as coxph)"
        else:
            estimator = "cmprsk::crr estimator"
            se_kind = "robust (IPCW-corrected) standard errors"
        lines = [
            f"Fine-Gray subdistribution hazards model for cause {self.cause_!r} ({estimator})",
            f"  rows: {self.n_obs_:,}; {self.cause_!r} defections: {self.n_events_:,}; competing defections: "
            f"{self.n_competing_:,}; censored: {self.n_censored_:,}",
            f"  reference levels: {ref}",
            f"  converged: {self.converged_} after {self.n_iter_} iterations; log partial likelihood "
            f"{self.loglik_:.4f} (null {self.loglik_null_:.4f}; LR statistic {lr:.2f} on {len(self.terms_)} df)",
            f"  {se_kind}; {self.conf_level:.0%} intervals of the hazard ratio",
            "",
            table.to_string(index=False),
        ]
        return "\n".join(lines)

