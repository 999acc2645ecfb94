"""'Did you mean' suggestions for mistyped names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate most like ``name``, if one is close enough to be a likely typo.

    The same answer as ``difflib.get_close_matches(name, candidates, 1, cutoff)``, found fast
    enough to run on every keystroke in a project of thousands of datasets: the full ratio is
    computed only while a candidate's cheap upper bound (``quick_ratio``) can still beat the
    best found so far.
    """
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(name)
    bounded: list[tuple[float, str]] = []
    for candidate in candidates:
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() >= cutoff:
            bound = matcher.quick_ratio()
            if bound >= cutoff:
                bounded.append((bound, candidate))
    bounded.sort(reverse=True)
    best: tuple[float, str] | None = None
    for bound, candidate in bounded:
        if best is not None and bound < best[0]:
            break
        matcher.set_seq1(candidate)
        score = (matcher.ratio(), candidate)
        if score[0] >= cutoff and (best is None or score > best):
            best = score
    return best[1] if best else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    return hint_for(closest(name, candidates))


def hint_for(best: str | None) -> str | None:
    """The words for people that go with a suggestion: a diagnostic carries the name itself in
    ``suggestion``, for programs, and this in its hint."""
    return f"did you mean '{best}'?" if best else None
