"""``churnsurv.simulate`` is :mod:`churnsurv.data.simulate.simulator`: one module object under two paths."""

import sys

import churnsurv.data.simulate.simulator as _target

sys.modules[__name__] = _target
