"""The contract models load without an HTTP client: a domain (pure by the import rules) takes its request and
answer types from `ncp_contracts.<x>_models`, and importing one must not pull in httpx through the package."""

import subprocess
import sys

import pytest

MODELS = ["ncp_contracts", "ncp_contracts.sis_models", "ncp_contracts.signer_models",
          "ncp_contracts.registry_models", "ncp_contracts.errors"]


@pytest.mark.parametrize("module", MODELS)
def test_importing_the_models_leaves_httpx_unloaded(module):
    probe = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('httpx', 'httpcore')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", f"{module} imports {done.stdout.strip()}"


def test_bearer_auth_still_loads_from_the_package():
    from ncp_contracts import BearerAuth

    assert BearerAuth.__module__ == "ncp_contracts._http"
