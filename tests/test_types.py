"""Our own small types: filters check their dates once, and give them as the numbers the index compares."""

from __future__ import annotations

import pytest

from assistant.types import Filters


def test_filter_dates_are_checked_once_and_given_as_index_numbers() -> None:
    assert Filters(date_from="2022-02-01", date_to="20220315").date_numbers() == (20220201, 20220315)
    assert Filters(date_to="2022-12-31").date_numbers() == (None, 20221231)
    assert Filters(sources=("a.txt",)).date_numbers() == (None, None)
    with pytest.raises(ValueError, match="date_from"):
        Filters(date_from="2022-02-30")
