"""Hazard specifications of the simulator: :class:`Hazard`, :class:`ChurnScenario`, the default scenario.

A scenario gives, per segment and cause, a cause-specific hazard (Weibull or piecewise constant, optionally with
spikes at contract renewal months), the segments' shares and monthly margins. Import these names from
:mod:`churnsurv.data.simulate.simulator`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from churnsurv.data.simulate._checks import _check_real, _check_vector, _is_real, _param_error, _reshape, _times

# --------------------------------------------------------------------------- hazard specs


@dataclass(frozen=True, eq=False)
class Hazard:
    """A cause-specific hazard for one (segment, cause): Weibull or piecewise constant.

    Build one with :meth:`weibull`, :meth:`piecewise` or :meth:`exponential`, and
    add contract-renewal spikes with :meth:`renewal_spike`. Times are in months
    and rates per month.

    Parameters
    ----------
    kind : {"weibull", "piecewise"}
        Family of the base hazard.
    shape, scale : float
        Weibull shape and scale (months); ignored for ``"piecewise"``.
    rates : tuple of float
        Piecewise-constant rates per month; ignored for ``"weibull"``.
    breaks : tuple of float
        Cut points between the pieces (``len(rates) - 1`` of them).
    spikes : tuple of (tuple of float, float, float)
        ``(months, multiplier, width)`` triples added by :meth:`renewal_spike`.

    See Also
    --------
    ChurnScenario : maps (segment, cause) to a ``Hazard``.

    Notes
    -----
    The Weibull hazard and cumulative hazard are

    .. math::

        h(t) = \\frac{k}{\\lambda}\\Big(\\frac{t}{\\lambda}\\Big)^{k-1},\\qquad
        H(t) = \\Big(\\frac{t}{\\lambda}\\Big)^{k}

    with shape :math:`k` and scale :math:`\\lambda`. A piecewise hazard is
    ``rates[j]`` on :math:`(b_{j-1}, b_j]` with :math:`b_{-1} = 0` and the last
    rate holding for ever. A renewal spike at month :math:`m` multiplies the
    hazard by ``multiplier`` on :math:`(m - w, m]`, the interval that discrete
    monthly data record as month :math:`m`.

    Examples
    --------
    >>> from churnsurv.data.simulate.simulator import Hazard
    >>> h = Hazard.piecewise([0.02, 0.01], breaks=[6]).renewal_spike([12, 24], 4.0)
    >>> h.hazard([1.0, 11.5, 12.5]).tolist()
    [0.02, 0.04, 0.01]
    >>> float(Hazard.weibull(2.0, 10.0).cumulative_hazard(10.0))
    1.0
    """

    kind: str
    shape: float = 1.0
    scale: float = 1.0
    rates: tuple = ()
    breaks: tuple = ()
    spikes: tuple = ()

    def __post_init__(self):
        owner = "Hazard"
        if self.kind not in ("weibull", "piecewise"):
            raise _param_error("kind", owner, "one of 'weibull', 'piecewise'", self.kind)
        if self.kind == "weibull":
            _check_real(self.shape, "shape", owner)
            _check_real(self.scale, "scale", owner)
        else:
            rates = _check_vector(self.rates, "rates", owner, "a non-empty sequence of non-negative finite floats")
            req = f"a strictly increasing sequence of {rates.size - 1} positive finite floats"
            breaks = _check_vector(self.breaks, "breaks", owner, req, strict=True, min_len=0)
            if breaks.size != rates.size - 1 or np.any(np.diff(breaks) <= 0):
                raise _param_error("breaks", owner, req, self.breaks)

    # ---- constructors

    @classmethod
    def weibull(cls, shape, scale):
        """Weibull hazard with the given shape and scale (months).

        Parameters
        ----------
        shape : float
            Shape :math:`k > 0`; below 1 the hazard falls with tenure, above 1 it rises.
        scale : float
            Scale :math:`\\lambda > 0` in months: :math:`H(\\lambda) = 1`.

        Returns
        -------
        Hazard
        """
        _check_real(shape, "shape", "Hazard.weibull")
        _check_real(scale, "scale", "Hazard.weibull")
        return cls("weibull", shape=float(shape), scale=float(scale))

    @classmethod
    def piecewise(cls, rates, breaks=None):
        """Piecewise-constant hazard.

        Parameters
        ----------
        rates : sequence of float
            Non-negative rates per month, one per piece; the last one holds for ever.
        breaks : sequence of float, optional
            The ``len(rates) - 1`` cut points between pieces, strictly increasing.
            By default the pieces are the months ``(0, 1], (1, 2], ...``.

        Returns
        -------
        Hazard
        """
        owner = "Hazard.piecewise"
        rates = _check_vector(rates, "rates", owner, "a non-empty sequence of non-negative finite floats")
        if breaks is None:
            breaks = np.arange(1.0, rates.size)
        req = f"a strictly increasing sequence of {rates.size - 1} positive finite floats"
        breaks = _check_vector(breaks, "breaks", owner, req, strict=True, min_len=0)
        if breaks.size != rates.size - 1 or np.any(np.diff(breaks) <= 0):
            raise _param_error("breaks", owner, req, breaks.tolist())
        return cls("piecewise", rates=tuple(rates.tolist()), breaks=tuple(breaks.tolist()))

    @classmethod
    def exponential(cls, rate):
        """Constant hazard ``rate`` per month (``rate = 0`` means the cause never occurs).

        Parameters
        ----------
        rate : float
            Non-negative rate per month.

        Returns
        -------
        Hazard
        """
        rate = _check_real(rate, "rate", "Hazard.exponential", strict=False, requirement="a non-negative float")
        return cls("piecewise", rates=(rate,), breaks=())

    def renewal_spike(self, months, multiplier, width=1.0):
        """Return a copy whose hazard is multiplied by ``multiplier`` just before each renewal.

        Parameters
        ----------
        months : float or sequence of float
            Renewal months, e.g. ``[12, 24, 36]``.
        multiplier : float
            Non-negative factor applied on ``(month - width, month]``.
        width : float, default=1.0
            Length of the spike interval in months.

        Returns
        -------
        Hazard
            A new hazard; spikes that overlap multiply.
        """
        owner = "Hazard.renewal_spike"
        months = _check_vector(months, "months", owner, "a positive float or a sequence of them", strict=True)
        multiplier = _check_real(multiplier, "multiplier", owner, strict=False, requirement="a non-negative float")
        width = _check_real(width, "width", owner)
        spike = (tuple(np.unique(months).tolist()), multiplier, width)
        return Hazard(self.kind, self.shape, self.scale, self.rates, self.breaks, self.spikes + (spike,))

    # ---- compiled form: H(t) = sum_j m_j [B(min(t, s_{j+1})) - B(s_j)]_+ with B the base

    @cached_property
    def _pieces(self):
        if self.kind == "weibull":
            starts0, mult0 = np.array([0.0]), np.array([1.0])
        else:
            starts0 = np.concatenate([[0.0], self.breaks])
            mult0 = np.asarray(self.rates, dtype=float)
        edges = [starts0]
        for months, _, width in self.spikes:
            m = np.asarray(months)
            edges += [m, np.maximum(m - width, 0.0)]
        starts = np.unique(np.concatenate(edges))
        mult = mult0[np.searchsorted(starts0, starts, side="right") - 1]
        for months, factor, width in self.spikes:
            for m in months:  # loop over renewal months of the spec, not customers
                inside = (starts >= max(m - width, 0.0)) & (starts < m)
                mult = np.where(inside, mult * factor, mult)
        base = self._base_cum(starts)
        cum = np.concatenate([[0.0], np.cumsum(mult[:-1] * np.diff(base))])
        return starts, mult, cum, base

    def _base_cum(self, t):
        if self.kind == "weibull":
            return (t / self.scale) ** self.shape
        return t

    def _base_haz(self, t):
        if self.kind == "weibull":
            with np.errstate(divide="ignore"):
                return self.shape / self.scale * (t / self.scale) ** (self.shape - 1.0)
        return np.ones_like(t)

    def _piece(self, t):
        starts = self._pieces[0]
        if starts.size == 1:
            return np.zeros(np.shape(t), dtype=np.intp)
        return np.maximum(np.searchsorted(starts, t, side="left") - 1, 0)

    def _rates_at(self, starts):
        """Multiplier of the piece that starts at each of ``starts`` (a refinement of the own pieces)."""
        own, mult = self._pieces[0], self._pieces[1]
        return mult[np.searchsorted(own, starts, side="right") - 1]

    def _H(self, t):
        starts, mult, cum, base = self._pieces
        j = self._piece(t)
        with np.errstate(invalid="ignore"):
            term = mult[j] * (self._base_cum(t) - base[j])
        return cum[j] + np.where(mult[j] == 0, 0.0, term)

    def _h(self, t):
        mult = self._pieces[1][self._piece(t)]
        with np.errstate(invalid="ignore"):
            return np.where(mult == 0, 0.0, mult * self._base_haz(t))

    def hazard(self, t):
        """Hazard rate per month at ``t`` (array-like, months).

        Parameters
        ----------
        t : array-like of float
            Non-negative times in months.

        Returns
        -------
        numpy.ndarray or float
        """
        t, shape = _times(t, "t", "Hazard.hazard")
        return _reshape(self._h(t), shape)

    def cumulative_hazard(self, t):
        """Cumulative hazard :math:`H(t) = \\int_0^t h(u)\\,du` (closed form).

        Parameters
        ----------
        t : array-like of float
            Non-negative times in months.

        Returns
        -------
        numpy.ndarray or float
        """
        t, shape = _times(t, "t", "Hazard.cumulative_hazard")
        return _reshape(self._H(t), shape)


# --------------------------------------------------------------------------- scenario


@dataclass(frozen=True, eq=False)
class ChurnScenario:
    """Segments, their shares, cause-specific hazards and margins of a simulated book.

    Parameters
    ----------
    hazards : mapping of str to mapping of str to Hazard
        ``hazards[segment][cause]``. A cause missing from a segment has hazard 0
        there. The segment order is the mapping's order; causes are ordered by
        first appearance.
    shares : mapping of str to float
        Share of new customers in each segment; positive, summing to one.
    margin_mean : float or mapping of str to float, default=50.0
        Mean monthly margin (per segment, or one value for all).
    margin_sigma : float, default=0.35
        Log-scale standard deviation of the lognormal monthly margin.

    See Also
    --------
    default_scenario : the ready-made four-segment, five-cause book.
    simulate_churn : draws customers from a scenario.

    Examples
    --------
    >>> from churnsurv.data.simulate.simulator import ChurnScenario, Hazard
    >>> sc = ChurnScenario(
    ...     hazards={"A": {"price": Hazard.exponential(0.02)},
    ...              "B": {"price": Hazard.weibull(0.8, 50), "service": Hazard.exponential(0.01)}},
    ...     shares={"A": 0.4, "B": 0.6})
    >>> sc.segments, sc.causes
    (('A', 'B'), ('price', 'service'))
    """

    hazards: Mapping
    shares: Mapping
    margin_mean: object = 50.0
    margin_sigma: float = 0.35

    def __post_init__(self):
        owner = "ChurnScenario"
        req = "a non-empty mapping of segment to a non-empty mapping of cause to Hazard"
        if not isinstance(self.hazards, Mapping) or not self.hazards:
            raise _param_error("hazards", owner, req, self.hazards, TypeError)
        hazards = {}
        for seg, by_cause in self.hazards.items():
            if not isinstance(by_cause, Mapping) or not by_cause:
                raise _param_error("hazards", owner, req, self.hazards, TypeError)
            for cause, hz in by_cause.items():
                if not isinstance(hz, Hazard) or not isinstance(cause, str):
                    raise _param_error("hazards", owner, req, self.hazards, TypeError)
            hazards[seg] = dict(by_cause)
        segments = tuple(hazards)
        req = f"a mapping of the segments {list(segments)} to positive floats summing to one"
        if not isinstance(self.shares, Mapping):
            raise _param_error("shares", owner, req, self.shares, TypeError)
        if set(self.shares) != set(segments):
            raise _param_error("shares", owner, req, dict(self.shares))
        shares = {s: self.shares[s] for s in segments}
        if not all(_is_real(v) and np.isfinite(v) and v > 0 for v in shares.values()):
            raise _param_error("shares", owner, req, shares)
        if abs(sum(shares.values()) - 1.0) > 1e-9:
            raise _param_error("shares", owner, req, shares)
        mm = self.margin_mean
        req = f"a positive float or a mapping of the segments {list(segments)} to positive floats"
        if isinstance(mm, Mapping):
            if set(mm) != set(segments):
                raise _param_error("margin_mean", owner, req, dict(mm))
            margin = {s: mm[s] for s in segments}
        elif _is_real(mm):
            margin = dict.fromkeys(segments, mm)
        else:
            raise _param_error("margin_mean", owner, req, mm, TypeError)
        if not all(_is_real(v) and np.isfinite(v) and v > 0 for v in margin.values()):
            raise _param_error("margin_mean", owner, req, mm)
        _check_real(self.margin_sigma, "margin_sigma", owner, strict=False, requirement="a non-negative float")
        object.__setattr__(self, "hazards", hazards)
        object.__setattr__(self, "shares", {s: float(v) for s, v in shares.items()})
        object.__setattr__(self, "margin_mean", {s: float(v) for s, v in margin.items()})
        object.__setattr__(self, "margin_sigma", float(self.margin_sigma))

    @property
    def segments(self):
        """Tuple of segment names."""
        return tuple(self.hazards)

    @property
    def causes(self):
        """Tuple of cause names, in order of first appearance."""
        return tuple(dict.fromkeys(c for by_cause in self.hazards.values() for c in by_cause))


def default_scenario():
    """The ready-made book used by :func:`simulate_churn` when no scenario is given.

    Four contract segments and five causes of defection (``competitor``,
    ``price``, ``service``, ``product``, ``natural``):

    * ``Month-to-month`` (45 %): Weibull hazards, mostly falling with tenure
      (about half the customers leave in the first year).
    * ``One year`` (20 %): low hazards with spikes at every yearly renewal
      (months 12, 24, ..., 120); mixes Weibull and piecewise causes.
    * ``Two year`` (20 %): piecewise-constant hazards only, spikes at months
      24, 48, ..., 120 (so every quantity of the truth is exact).
    * ``Prepaid`` (15 %): high early churn, piecewise with one Weibull cause.

    Returns
    -------
    ChurnScenario

    Examples
    --------
    >>> from churnsurv.data.simulate.simulator import default_scenario
    >>> default_scenario().segments
    ('Month-to-month', 'One year', 'Two year', 'Prepaid')
    """
    H = Hazard
    yearly, two_yearly = np.arange(12, 121, 12), np.arange(24, 121, 24)
    hazards = {
        "Month-to-month": {
            "competitor": H.weibull(0.8, 60.0),
            "price": H.weibull(0.9, 90.0),
            "service": H.weibull(0.7, 150.0),
            "product": H.weibull(1.1, 200.0),
            "natural": H.exponential(0.002),
        },
        "One year": {
            "competitor": H.exponential(0.004).renewal_spike(yearly, 5.0),
            "price": H.exponential(0.003).renewal_spike(yearly, 4.0),
            "service": H.weibull(0.8, 400.0),
            "product": H.weibull(1.2, 500.0).renewal_spike(yearly, 2.0),
            "natural": H.exponential(0.0015),
        },
        "Two year": {
            "competitor": H.exponential(0.002).renewal_spike(two_yearly, 6.0),
            "price": H.exponential(0.0015).renewal_spike(two_yearly, 5.0),
            "service": H.piecewise([0.003, 0.002, 0.0015], breaks=[6, 24]),
            "product": H.exponential(0.001),
            "natural": H.exponential(0.001),
        },
        "Prepaid": {
            "competitor": H.piecewise([0.06, 0.04, 0.025, 0.02], breaks=[1, 3, 12]),
            "price": H.piecewise([0.03, 0.02, 0.015], breaks=[3, 12]),
            "service": H.exponential(0.008),
            "product": H.weibull(0.6, 400.0),
            "natural": H.exponential(0.004),
        },
    }
    shares = {"Month-to-month": 0.45, "One year": 0.2, "Two year": 0.2, "Prepaid": 0.15}
    margins = {"Month-to-month": 70.0, "One year": 60.0, "Two year": 55.0, "Prepaid": 30.0}
    return ChurnScenario(hazards, shares, margin_mean=margins, margin_sigma=0.35)
