"""``churnsurv.reporting`` is :mod:`churnsurv.report`: one module object under two paths."""

import sys

import churnsurv.report as _target

sys.modules[__name__] = _target
