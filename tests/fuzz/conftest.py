"""Hypothesis settings for the fuzz suite: a modest budget in ``make test`` (two cores).

``CERCLE_FUZZ_EXAMPLES`` raises the budget for a longer hunt, e.g.
``CERCLE_FUZZ_EXAMPLES=5000 .venv/bin/pytest -q tests/fuzz``. No deadline: the machine is
shared, and a slow example is not a failure.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "cercle-fuzz",
    max_examples=int(os.environ.get("CERCLE_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
FUZZ = settings.get_profile("cercle-fuzz")
