"""`python -m emrex_cli`: the same as the `emrex` command."""

import sys

from emrex_cli.main import main

sys.exit(main())
