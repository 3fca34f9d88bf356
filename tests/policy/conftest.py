"""Readable Chinese test ids for the policy case files (locality + case name).

pytest escapes non-ASCII ids to \\uXXXX by default, which makes a failing case unreadable in the
report; the case names are the Chinese sentences staff recognise from the seed, so show them as is.
"""

from __future__ import annotations

import pytest

_ID_OPTION = "disable_test_id_escaping_and_forfeit_all_rights_to_community_support"


def pytest_configure(config: pytest.Config) -> None:
    # pytest has no public setter for ini values; the getini cache is what it reads.
    config._inicache[_ID_OPTION] = True
