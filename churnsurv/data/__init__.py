"""The data layer: records -> validated tenure table.

* :mod:`churnsurv.data.tenures`: :class:`~churnsurv.Tenures`, the tenure table (from frames, dates, snapshots)
  and its validation;
* :mod:`churnsurv.data.association`: which covariates are tied to tenure itself (cumulative columns, tenure
  bands);
* :mod:`churnsurv.data.causes`: the taxonomy of defection causes and mappings from raw churn labels;
* :mod:`churnsurv.data.datasets`: the bundled data sets (also importable as ``churnsurv.datasets``);
* :mod:`churnsurv.data.simulate`: seeded simulation with known truth (also ``churnsurv.simulate``).

This layer imports no estimator, plotting or report module (``tests/test_layout.py`` checks it).
"""

from churnsurv.data.association import tenure_association
from churnsurv.data.causes import DEFAULT_TAXONOMY, MAVEN_CATEGORY_MAP, TELCO_REASON_MAP, CauseMap
from churnsurv.data.tenures import Tenures, TruncationReport, tenure_confounding

__all__ = [
    "DEFAULT_TAXONOMY",
    "MAVEN_CATEGORY_MAP",
    "TELCO_REASON_MAP",
    "CauseMap",
    "Tenures",
    "TruncationReport",
    "tenure_association",
    "tenure_confounding",
]
