"""The demo SIS: data for the sis-adapter's built-in SQL SIS, its tenants file and `emrex demo ...`.

A development package: `make run`, the test stacks and the development images install it, production images
do not (deploy/docker/service.Dockerfile installs one service's dependencies only).
"""

from pathlib import Path

DEMO_TENANTS = Path(__file__).parent / "demo-tenants.toml"

__all__ = ["DEMO_TENANTS"]
