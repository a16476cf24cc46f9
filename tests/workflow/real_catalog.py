"""The real node catalog (the built-in packs, no third-party entry points), loaded once per test session.

A pack that fails to import fails the tests that use it: it is never a skip."""

from __future__ import annotations

import functools

from dnne.catalog.registry import load_catalog


@functools.cache
def real_catalog():
    return load_catalog(include_entry_points=False)
