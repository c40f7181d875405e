"""Colours shared by every churnsurv figure.

Two rules keep figures comparable:

* **segments**: a segment level (``"Month-to-Month"``) gets the same colour in
  every figure, by its position among its column's levels. Colours come from the colour-blind-safe Okabe-Ito
  palette [1]_, the palette of ``churnsurv/report/styles/churnsurv.mplstyle``;
* **causes**: each key of :data:`churnsurv.DEFAULT_TAXONOMY` has a fixed colour
  (:data:`CAUSE_COLORS`), whatever else is in the figure.

References
----------
.. [1] Okabe, M. and Ito, K. (2008). Color Universal Design (CUD): how to make
   figures and presentations that are friendly to colorblind people.
   https://jfly.uni-koeln.de/color/
.. [2] Tol, P. (2021). Colour schemes. SRON technical note SRON/EPS/TN/09-002,
   issue 3.2 (the "muted" scheme completes the cause colours).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = [
    "CAUSE_COLORS",
    "OKABE_ITO",
    "cause_colors",
    "reset_segment_colors",
    "segment_colors",
    "set_segment_colors",
]

#: Okabe-Ito palette in the order of the churnsurv style's colour cycle (yellow and black last).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

#: Fixed colour of each cause key of the default taxonomy. The seven causes met most often in
#: churn data take Okabe-Ito colours; the rarer ones take colours from Paul Tol's muted scheme;
#: ``unknown`` is grey so that it recedes.
CAUSE_COLORS: dict[str, str] = {
    "competitor": "#0072B2",
    "price": "#E69F00",
    "product": "#009E73",
    "service": "#D55E00",
    "attitude": "#CC79A7",
    "broken_promise": "#882255",
    "policy_pressure": "#332288",
    "staff_turnover": "#44AA99",
    "market": "#999933",
    "substitute": "#F0E442",
    "natural": "#56B4E9",
    "unknown": "#8C8C8C",
}

# Segment colours handed out once the eight Okabe-Ito colours are taken (Tol's muted scheme, then dark
# accents): distinct, though no longer guaranteed colour-blind safe.
_SEGMENT_EXTRA: tuple[str, ...] = ("#882255", "#44AA99", "#999933", "#332288", "#AA4499", "#117733", "#661100",
                                   "#88CCEE")

# Causes outside the taxonomy draw from these, in sorted order of the keys within a call.
_EXTRA_CAUSE_COLORS: tuple[str, ...] = ("#AA4499", "#117733", "#DDCC77", "#88CCEE", "#661100", "#000000")

# Explicit pins (set_segment_colors): the only state.
_PINNED: dict[str, str] = {}


def _natural_key(label: str):
    """Sort key that puts "Segment 2" before "Segment 10"."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in re.split(r"(\d+)", label) if p]


def _check_color(value, owner: str, key) -> str:
    import matplotlib.colors as mcolors  # here, not at the top: `import churnsurv` stays cheap

    if not mcolors.is_color_like(value):
        raise ValueError(
            f"The colour given to {key!r} in {owner} is not a matplotlib colour. Got {value!r} instead; "
            "use a name ('tab:blue'), a hex string ('#0072B2') or an RGB tuple."
        )
    return mcolors.to_hex(value, keep_alpha=False).upper() if not isinstance(value, str) else value


def check_color_mapping(colors, owner: str, what: str = "segment label") -> dict:
    """Validate a ``colors=`` argument: None or a mapping from label to a matplotlib colour."""
    if colors is None:
        return {}
    if not isinstance(colors, Mapping):
        raise TypeError(
            f"colors must be a mapping from {what} to colour, e.g. {{'Month-to-Month': '#D55E00'}}. "
            f"Got {type(colors).__name__} instead."
        )
    return {str(k): _check_color(v, owner, k) for k, v in colors.items()}


def segment_colors(labels: Iterable, *, palette: Iterable[str] | None = None) -> dict[str, str]:
    """Colours of segment labels: the same for a segment in every figure, in every session.

    Parameters
    ----------
    labels : iterable
        All the levels of a segment column, in their display order (the plot functions pass every
        category of a categorical column, not just the levels present in the rows plotted). Converted to
        ``str``; several segment columns are joined with ``" / "`` before they get here.
    palette : sequence of colours, optional
        Defaults to :data:`OKABE_ITO`, followed by eight colours of Paul Tol's muted scheme [2]_ for
        columns with more than eight levels (distinct, but no longer guaranteed colour-blind safe).

    Returns
    -------
    dict
        ``{label: colour}`` for each label, in the order given.

    Notes
    -----
    The rule is stateless, so two notebooks (two Python sessions) colour a column alike: a colour pinned
    with :func:`set_segment_colors` wins; otherwise the i-th level takes the i-th palette colour. Because
    the tenure table keeps each segment column's categories, every figure drawn from it, including one that
    shows a subset of the levels, gives a level the same colour.

    See Also
    --------
    set_segment_colors : Pin explicit colours.
    cause_colors : The fixed colours of defection causes.

    Examples
    --------
    >>> from churnsurv.plotting import segment_colors
    >>> segment_colors(["Month-to-Month", "One Year", "Two Year"])
    {'Month-to-Month': '#0072B2', 'One Year': '#E69F00', 'Two Year': '#009E73'}
    """
    labels = [str(lab) for lab in labels]
    palette = tuple(OKABE_ITO + _SEGMENT_EXTRA if palette is None else palette)
    if not palette:
        raise ValueError("palette must hold at least one colour.")
    return {lab: _PINNED.get(lab, palette[i % len(palette)]) for i, lab in enumerate(labels)}


def set_segment_colors(mapping: Mapping) -> dict[str, str]:
    """Pin the colours of segment labels for every later figure.

    Parameters
    ----------
    mapping : mapping
        ``{segment label: colour}``; any matplotlib colour. Labels not listed keep
        the automatic rule of :func:`segment_colors`.

    Returns
    -------
    dict
        The pins in force before the call, so that they can be restored.

    See Also
    --------
    segment_colors : How labels without a pin are coloured.
    reset_segment_colors : Forget pins and automatic assignments.

    Examples
    --------
    >>> from churnsurv.plotting import reset_segment_colors, segment_colors, set_segment_colors
    >>> reset_segment_colors()
    >>> _ = set_segment_colors({"Month-to-Month": "#D55E00"})
    >>> segment_colors(["Month-to-Month"])
    {'Month-to-Month': '#D55E00'}
    >>> reset_segment_colors()
    """
    checked = check_color_mapping(mapping, "set_segment_colors")
    previous = dict(_PINNED)
    _PINNED.update(checked)
    return previous


def reset_segment_colors() -> None:
    """Forget the colours pinned with :func:`set_segment_colors`.

    See Also
    --------
    segment_colors, set_segment_colors

    Examples
    --------
    >>> from churnsurv.plotting import reset_segment_colors
    >>> reset_segment_colors()
    """
    _PINNED.clear()


def cause_colors(causes: Iterable, colors: Mapping | None = None) -> dict[str, str]:
    """Fixed colours of defection causes.

    Parameters
    ----------
    causes : iterable of str
        Cause keys, e.g. ``["price", "competitor"]``.
    colors : mapping, optional
        Overrides ``{cause: colour}``.

    Returns
    -------
    dict
        ``{cause: colour}`` in the order given. Keys of the default taxonomy always get
        :data:`CAUSE_COLORS`; other keys get extra colours in sorted order of the keys
        passed (so they can change with the set of causes: pass ``colors`` to pin them).

    See Also
    --------
    segment_colors : Colours of segments.

    Examples
    --------
    >>> from churnsurv.plotting import cause_colors
    >>> cause_colors(["price", "competitor"])
    {'price': '#E69F00', 'competitor': '#0072B2'}
    """
    causes = [str(c) for c in causes]
    override = check_color_mapping(colors, "cause_colors", what="cause")
    out = {}
    extra = iter(sorted({c for c in causes if c not in CAUSE_COLORS and c not in override}, key=_natural_key))
    extra_colors = {c: _EXTRA_CAUSE_COLORS[i % len(_EXTRA_CAUSE_COLORS)] for i, c in enumerate(extra)}
    for c in causes:
        out[c] = override.get(c) or CAUSE_COLORS.get(c) or extra_colors[c]
    return out
