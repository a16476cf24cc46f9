"""Errors raised by the data helpers: each message says what is wrong and how to fix it."""

from __future__ import annotations


class DataError(RuntimeError):
    """A data set could not be found, read or used."""


class IdxFormatError(DataError, ValueError):
    """A file is not a valid IDX file (bad header, unknown type, truncated or oversized payload)."""


class DataNotFoundError(DataError, FileNotFoundError):
    """No source for a data set was found; the message lists the ways to provide it."""
