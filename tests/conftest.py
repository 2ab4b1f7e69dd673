import os

from hypothesis import HealthCheck, settings

# Shared, noisy machines: no per-example deadline; CI runs more examples than a quick local run.
settings.register_profile(
    "default", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", parent=settings.get_profile("default"), max_examples=300)
settings.load_profile("ci" if os.environ.get("CI") else "default")
