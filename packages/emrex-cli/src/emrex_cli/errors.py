"""The command line's one error type, in its own module so that `python -m emrex_cli.main` shares it."""


class CliError(Exception):
    """Bad input: printed as one line on stderr, exit code 1."""
