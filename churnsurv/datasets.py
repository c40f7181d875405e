"""``churnsurv.datasets`` is :mod:`churnsurv.data.datasets`: one module object under two paths."""

import sys

import churnsurv.data.datasets as _target

sys.modules[__name__] = _target
