"""ncp_signer: the EMREX NCP signing service; the only process that holds private keys."""

from ncp_signer.app import create_app
from ncp_signer.settings import KeyConfig, Settings

__all__ = ["KeyConfig", "Settings", "create_app"]
