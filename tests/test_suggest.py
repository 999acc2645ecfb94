"""'Did you mean': the fast search gives difflib's answer."""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from weir.model.suggest import closest, did_you_mean

names = st.text(alphabet="abcdeo_12", min_size=1, max_size=10)


@settings(max_examples=300, deadline=None)
@given(names, st.lists(names, max_size=40, unique=True))
def test_the_same_answer_as_difflib(name: str, candidates: list[str]) -> None:
    expected = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    assert closest(name, candidates) == (expected[0] if expected else None)


def test_suggestions() -> None:
    assert did_you_mean("ordrs", ["orders", "customers"]) == "did you mean 'orders'?"
    assert did_you_mean("zzz", ["orders", "customers"]) is None
    many = [f"d_{i}_{j}" for i in range(100) for j in range(10)]
    assert closest("d_5_33", many) in {"d_5_3", "d_53_3"}
