"""EMREX EMP gateway: entry, OIDC login, selection, consent and the signed hand-off to the client."""

__version__ = "0.1.0"
