"""Julian CYYDDD dates, HHMMSS times and (UPMJ, UPMT) stamps."""

from datetime import date, time
from decimal import Decimal

import pytest

from jde_stripe_pipeline.jde.julian import (
    date_to_julian,
    hhmmss_to_time,
    julian_to_date,
    parse_grid_date,
    parse_grid_time,
    time_to_hhmmss,
)


@pytest.mark.parametrize(
    ("julian", "expected"),
    [
        (126330, date(2026, 11, 26)),
        (98185, date(1998, 7, 4)),
        (100001, date(2000, 1, 1)),
        (99365, date(1999, 12, 31)),
        (100366, date(2000, 12, 31)),  # 2000 is a leap year (divisible by 400)
        (124060, date(2024, 2, 29)),
        (125365, date(2025, 12, 31)),
        ("126330", date(2026, 11, 26)),
    ],
)
def test_julian_to_date_both_centuries_and_leap_years(julian: int | str, expected: date) -> None:
    assert julian_to_date(julian) == expected
    assert date_to_julian(expected) == int(julian)


@pytest.mark.parametrize("empty", [0, None, "", "   "])
def test_zero_or_blank_julian_is_no_date(empty: int | str | None) -> None:
    assert julian_to_date(empty) is None


def test_no_date_writes_zero() -> None:
    assert date_to_julian(None) == 0


@pytest.mark.parametrize("bad", [125366, 126000, -5, "12a330"])
def test_impossible_julian_dates_are_refused(bad: int | str) -> None:
    with pytest.raises(ValueError):
        julian_to_date(bad)


def test_date_before_1900_has_no_julian_form() -> None:
    with pytest.raises(ValueError):
        date_to_julian(date(1899, 12, 31))


@pytest.mark.parametrize(
    ("hhmmss", "expected"),
    [(93015, time(9, 30, 15)), (0, time(0)), (235959, time(23, 59, 59)), (120000, time(12))],
)
def test_hhmmss_round_trip(hhmmss: int, expected: time) -> None:
    assert hhmmss_to_time(hhmmss) == expected
    assert time_to_hhmmss(expected) == hhmmss


@pytest.mark.parametrize("bad", [240000, 96015, 93075, -1])
def test_impossible_times_are_refused(bad: int) -> None:
    with pytest.raises(ValueError):
        hhmmss_to_time(bad)


def test_grid_values() -> None:
    assert parse_grid_date("20261126") == date(2026, 11, 26)
    assert parse_grid_date("") is None
    assert parse_grid_date(0) is None
    assert parse_grid_time(93015) == time(9, 30, 15)
    assert parse_grid_time(Decimal("93015")) == time(9, 30, 15)
    for bad in ("11/26/2026", "2026112", "20261345"):
        with pytest.raises(ValueError):
            parse_grid_date(bad)
    with pytest.raises(ValueError):
        parse_grid_time(Decimal("93015.5"))


def test_grid_values_read_the_same_every_time() -> None:
    """Parsed dates are cached: a padded or blank spelling still reads the same, and a bad value
    raises on every call (errors are never cached)."""
    for _ in range(2):
        assert parse_grid_date(" 20261126 ") == date(2026, 11, 26)
        assert parse_grid_date("   ") is None
        assert parse_grid_date(None) is None
        with pytest.raises(ValueError, match="is not yyyyMMdd"):
            parse_grid_date("2026112x")
        with pytest.raises(ValueError, match=r"month must be in 1\.\.12"):
            parse_grid_date("20261345")
        with pytest.raises(ValueError, match="is not yyyyMMdd"):
            parse_grid_date(20261126)
        assert parse_grid_time(0) == time(0)
        with pytest.raises(ValueError, match="is not an HHMMSS integer"):
            parse_grid_time(True)
        with pytest.raises(ValueError, match="is not HHMMSS"):
            parse_grid_time(240000)
