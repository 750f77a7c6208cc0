"""EMREX command line."""
