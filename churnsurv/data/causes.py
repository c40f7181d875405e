"""The vocabulary of defection causes and mappings from raw churn labels onto it.

Firms lose customers for causes the retention literature keeps naming. churnsurv's default taxonomy
(:data:`DEFAULT_TAXONOMY`) gives each a short snake-case key; :class:`CauseMap` maps the raw labels of a
data set (``Churn Category`` or ``Churn Reason`` in the bundled telco files) onto those keys. Unknown
labels are reported, never dropped.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from churnsurv._validation import data_error, find_stack_level, param_error
from churnsurv.exceptions import ChurnsurvWarning

__all__ = [
    "DEFAULT_TAXONOMY",
    "MAVEN_CATEGORY_MAP",
    "TELCO_REASON_MAP",
    "CauseMap",
]

#: The default taxonomy: key -> (label, description). Order is the display order in tables and plots.
DEFAULT_TAXONOMY: dict[str, tuple[str, str]] = {
    "competitor": ("Competitor", "A competitor poached the customer with a better offer, device or speed."),
    "price": ("Price", "The price drifted up or was too high for what was delivered."),
    "product": ("Product", "The product fell short: range, features, reliability of the core offer."),
    "service": ("Service failure", "The service slipped on a detail: support, self-service, neglected requests."),
    "attitude": ("Attitude of staff", "Rude or indifferent staff, at the counter or on the phone."),
    "broken_promise": ("Broken promise", "A promised rebate, discount or fix was not delivered; integrity."),
    "policy_pressure": ("Policy pressure", "A large supplier's policy squeezed small accounts (fees, minimums)."),
    "staff_turnover": ("Staff turnover", "The salesperson or account manager who held the relationship left."),
    "market": ("Market turbulence", "The market shook: mergers, regulation, economic shocks."),
    "substitute": ("Substitute technology", "The customer moved to a different kind of product."),
    "natural": ("Natural churn", "The customer moved away, closed, or died: no fault of the firm."),
    "unknown": ("Unknown", "The cause was not recorded or the customer did not say."),
}

#: Maven telecom ``Churn Category`` values -> taxonomy keys.
MAVEN_CATEGORY_MAP: dict[str, str] = {
    "Competitor": "competitor",
    "Price": "price",
    "Dissatisfaction": "service",
    "Attitude": "attitude",
    "Other": "unknown",
}

#: ``Churn Reason`` values shared by the Maven and IBM telco files -> taxonomy keys.
TELCO_REASON_MAP: dict[str, str] = {
    "Competitor had better devices": "competitor",
    "Competitor made better offer": "competitor",
    "Competitor offered higher download speeds": "competitor",
    "Competitor offered more data": "competitor",
    "Price too high": "price",
    "Extra data charges": "price",
    "Long distance charges": "price",
    "Lack of affordable download/upload speed": "price",
    "Product dissatisfaction": "product",
    "Limited range of services": "product",
    "Network reliability": "product",
    "Service dissatisfaction": "service",
    "Lack of self-service on Website": "service",
    "Poor expertise of online support": "service",
    "Poor expertise of phone support": "service",
    "Attitude of support person": "attitude",
    "Attitude of service provider": "attitude",
    "Moved": "natural",
    "Deceased": "natural",
    "Don't know": "unknown",
}


@dataclass(frozen=True)
class CauseMap:
    """A mapping from raw cause labels to cause keys.

    Parameters
    ----------
    mapping : Mapping[str, str]
        Raw label -> cause key. Keys of the result need not be in :data:`DEFAULT_TAXONOMY`: analysts can
        use their own vocabulary.
    unknown : {"error", "unknown", "keep"}, default "error"
        What to do with a raw label that the mapping does not list: raise a
        :class:`~churnsurv.TenureDataError` naming the labels and their counts; map it to ``"unknown"``
        with a warning; or keep the raw label as its own cause with a warning.
    order : sequence of str, optional
        Display order of the cause keys. Defaults to the taxonomy order, then first appearance.

    Examples
    --------
    >>> cm = CauseMap({"Competitor": "competitor", "Price": "price"}, unknown="unknown")
    >>> cm.apply(["Price", "Competitor", None], column="Churn Category").tolist()
    ['price', 'competitor', nan]
    """

    mapping: Mapping[str, str]
    unknown: str = "error"
    order: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if self.unknown not in ("error", "unknown", "keep"):
            raise param_error("unknown", "CauseMap", "one of {'error', 'unknown', 'keep'}", self.unknown)

    @classmethod
    def maven_categories(cls, **kwargs) -> CauseMap:
        """The mapping of the Maven file's ``Churn Category`` onto the default taxonomy."""
        return cls(MAVEN_CATEGORY_MAP, **kwargs)

    @classmethod
    def telco_reasons(cls, **kwargs) -> CauseMap:
        """The mapping of the telco files' ``Churn Reason`` (20 reasons) onto the default taxonomy."""
        return cls(TELCO_REASON_MAP, **kwargs)

    def categories(self, present=()) -> list[str]:
        """Cause keys in display order: ``order``, then taxonomy order, then any others present."""
        keys = list(dict.fromkeys(list(self.order) + [k for k in DEFAULT_TAXONOMY if k in set(self.mapping.values())]))
        keys += [k for k in dict.fromkeys(self.mapping.values()) if k not in keys]
        keys += [k for k in dict.fromkeys(present) if k not in keys]
        return keys

    def apply(self, labels, *, column: str = "cause", ids=None) -> pd.Series:
        """Map raw labels to cause keys; missing labels stay missing.

        Raises
        ------
        TenureDataError
            When ``unknown="error"`` and some labels are not in the mapping.
        """
        s = pd.Series(labels, dtype=object).reset_index(drop=True)
        present = s.notna()
        known = s.isin(list(self.mapping))
        bad = present & ~known
        if bad.any():
            counts = s[bad].value_counts()
            listed = ", ".join(f"{k!r} ({v})" for k, v in counts.head(10).items())
            if self.unknown == "error":
                ids = np.arange(len(s)) if ids is None else np.asarray(ids, dtype=object)
                raise data_error(
                    column,
                    f"cause labels the cause mapping does not know: {listed}",
                    bad.to_numpy(),
                    ids,
                    "Add them to the mapping, or pass unknown='unknown' to map them to 'unknown'.",
                )
            action = "mapped to 'unknown'" if self.unknown == "unknown" else "kept as their own causes"
            warnings.warn(
                f"Column {column!r} has {int(bad.sum())} rows with labels the cause mapping does not know, "
                f"{action}: {listed}.",
                ChurnsurvWarning,
                stacklevel=find_stack_level(),
            )
        out = s.map(self.mapping)
        if bad.any():
            out[bad] = "unknown" if self.unknown == "unknown" else s[bad]
        return out
