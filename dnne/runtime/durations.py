"""The one duration parser of dnne: runner flags (`--timeout`, `--stall-timeout`), checkpoint triggers of type
`time` (Network, PPO Trainer) and the export-time check of those widgets all read durations through it, so a text
accepted in one place is accepted everywhere."""

from __future__ import annotations

import re

# Hours, minutes, seconds in that order, each optional, blanks allowed between them; a bare number is seconds.
_DURATION = re.compile(
    r"(?:(?P<h>\d+(?:\.\d+)?)\s*h)?\s*(?:(?P<m>\d+(?:\.\d+)?)\s*m)?\s*(?:(?P<s>\d+(?:\.\d+)?)\s*s?)?"
)
EXAMPLES = "30s, 5m, 1h30m or a number of seconds"


def parse_duration(text: object) -> float:
    """`30s`, `5m`, `1h30m`, `1h 30m`, `90` or `1.5` (seconds; case and surrounding blanks ignored) → seconds > 0.
    ValueError saying what is expected on anything else."""
    raw = str(text).strip().lower()
    match = _DURATION.fullmatch(raw)
    if not raw or match is None or not any(match.groupdict().values()):
        raise ValueError(f"invalid duration {text!r} (expected e.g. {EXAMPLES})")
    hours, minutes, seconds = (float(match.group(k) or 0) for k in ("h", "m", "s"))
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise ValueError(f"invalid duration {text!r}: it must be more than 0 seconds")
    return total
