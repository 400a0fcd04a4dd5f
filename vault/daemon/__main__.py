"""`python -m vault.daemon` is `vault daemon`."""

from __future__ import annotations

import sys

from vault.daemon.command import main

sys.exit(main())
