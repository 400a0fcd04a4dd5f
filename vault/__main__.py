"""`python -m vault` is the `vault` command."""

from __future__ import annotations

import sys

from vault.cli import main

sys.exit(main())
