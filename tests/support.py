"""Constants and small helpers that tests import (conftest.py holds only fixtures)."""

from __future__ import annotations

ALICE_PW = "alice-password"
BOB_PW = "bob-password"
