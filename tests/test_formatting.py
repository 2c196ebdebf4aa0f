"""Templates, tokens, padding and periods: pure functions, no database."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docnumbers.formatting import (
    Format,
    Reset,
    TemplateError,
    parse,
    period_contains,
    period_key,
    render,
    render_number,
    token_table,
    validate_format,
)


@pytest.mark.parametrize(
    "template, day, expected",
    [
        ("INV-{YYYY}-", dt.date(2026, 1, 5), "INV-2026-"),
        ("{YY}/{MM}/{DD}-", dt.date(2026, 3, 9), "26/03/09-"),
        ("CN-{YYYY}-{MM}-", dt.date(2025, 12, 31), "CN-2025-12-"),
        ("CN-{YYYY}-{MM}-", dt.date(2026, 1, 1), "CN-2026-01-"),
        ("{YYYY}{MM}{DD}", dt.date(2028, 2, 29), "20280229"),  # leap day
        ("Y{YY}", dt.date(2005, 7, 1), "Y05"),
        ("{{literal}}-", dt.date(2026, 1, 1), "{literal}-"),
        ("", dt.date(2026, 1, 1), ""),
        ("ÉCHÉANCE/", dt.date(2026, 1, 1), "ÉCHÉANCE/"),
    ],
)
def test_token_table(template, day, expected):
    assert render(template, "", 0, day, 7)[: -len("7")] == expected


@pytest.mark.parametrize(
    "number, padding, expected",
    [
        (1, 4, "0001"),
        (42, 4, "0042"),
        (12345, 4, "12345"),
        (7, 0, "7"),
        (0, 3, "000"),
        (-3, 4, "-0003"),
        (5, 18, "000000000000000005"),
    ],
)
def test_padding_table(number, padding, expected):
    assert render_number(number, padding) == expected


@pytest.mark.parametrize(
    "day, first_month, fy, fye",
    [
        (dt.date(2026, 3, 31), 4, "2025", "2026"),  # last day of FY 2025-26
        (dt.date(2026, 4, 1), 4, "2026", "2027"),  # first day of FY 2026-27
        (dt.date(2026, 12, 31), 4, "2026", "2027"),
        (dt.date(2026, 6, 30), 7, "2025", "2026"),
        (dt.date(2026, 6, 30), 1, "2026", "2026"),
    ],
)
def test_fiscal_year_tokens(day, first_month, fy, fye):
    assert render("{FY}/", "/{FYE}", 0, day, 1, first_month) == f"{fy}/1/{fye}"


@pytest.mark.parametrize(
    "reset, day, first_month, expected",
    [
        ("never", dt.date(2026, 5, 1), 1, ""),
        ("yearly", dt.date(2025, 12, 31), 1, "2025"),
        ("yearly", dt.date(2026, 1, 1), 1, "2026"),
        ("monthly", dt.date(2026, 2, 28), 1, "2026-02"),
        ("monthly", dt.date(2028, 2, 29), 1, "2028-02"),
        ("daily", dt.date(2028, 2, 29), 1, "2028-02-29"),
        ("fiscal", dt.date(2026, 3, 31), 4, "FY2025-04"),
        ("fiscal", dt.date(2026, 4, 1), 4, "FY2026-04"),
    ],
)
def test_periods(reset, day, first_month, expected):
    assert period_key(day, reset, first_month) == expected


@pytest.mark.parametrize(
    "template, code, words",
    [
        ("INV-{YEAR}", "unknown_token", "Unknown token '{YEAR}'"),
        ("INV-{yyyy}", "unknown_token", "write '{YYYY}'"),
        ("INV-{YYYY", "unbalanced", "Unbalanced '{'"),
        ("INV-}", "unbalanced", "Unbalanced '}'"),
        ("{number.__class__}", "access", "attribute or index access"),
        ("{0[0]}", "access", "attribute or index access"),
        ("{}", "unknown_token", "Unknown token '{}'"),
        ("A{B{C}}", "unbalanced", "Unbalanced"),
        ("x" * 51, "too_long", "at most 50"),
        ("tab\there", "control", "control character"),
    ],
)
def test_bad_templates_name_the_problem(template, code, words):
    with pytest.raises(TemplateError) as info:
        parse(template)
    assert info.value.code == code
    assert words in info.value.message


@pytest.mark.parametrize(
    "prefix, suffix, padding, reset, fm, code",
    [
        ("INV-", "", 4, "yearly", 1, "period_token"),
        ("INV-{YYYY}-", "", 4, "monthly", 1, "period_token"),
        ("INV-{MM}-", "", 4, "monthly", 1, "period_token"),
        ("INV-{YYYY}{MM}-", "", 4, "daily", 1, "period_token"),
        ("INV-{YYYY}-", "", 4, "fiscal", 4, "period_token"),
        ("INV-", "", 19, "never", 1, "padding"),
        ("INV-", "", -1, "never", 1, "padding"),
        ("INV-", "", 4, "weekly", 1, "reset"),
        ("INV-{FY}-", "", 4, "fiscal", 13, "fiscal_month"),
    ],
)
def test_bad_formats_name_the_problem(prefix, suffix, padding, reset, fm, code):
    with pytest.raises(TemplateError) as info:
        validate_format(prefix, suffix, padding, reset, fm)
    assert info.value.code == code


@pytest.mark.parametrize("value", [4.0, 4.5, True, "4", None])
def test_a_fiscal_month_that_is_not_an_int_is_refused(value):
    # 4.0 once passed (4.0 in range(1, 13)) and then broke period().
    fmt = Format("x", prefix="{FY}-", reset="fiscal", fiscal_year_start_month=value)
    with pytest.raises(TemplateError) as info:
        fmt.validate()
    assert info.value.code == "fiscal_month"
    assert "whole number from 1 to 12" in info.value.message
    assert repr(value) in info.value.message
    with pytest.raises(TemplateError):
        validate_format("{FY}-", "", 4, "fiscal", value)


@pytest.mark.parametrize("value", [4.0, True, False, "4", None])
def test_a_padding_that_is_not_an_int_is_refused(value):
    with pytest.raises(TemplateError) as info:
        Format("x", prefix="INV-", padding=value).validate()
    assert info.value.code == "padding"
    assert "whole number" in info.value.message and repr(value) in info.value.message


def test_yearly_reset_without_year_token_shows_the_clash():
    with pytest.raises(TemplateError, match="INV-0001 twice"):
        validate_format("INV-", "", 4, "yearly")


@pytest.mark.parametrize(
    "prefix, suffix, reset, fm",
    [
        ("INV-{YYYY}-", "", "yearly", 1),
        ("", "/{YY}", "yearly", 1),
        ("ORD-{YY}{MM}-", "", "monthly", 1),
        ("T{YYYY}{MM}{DD}-", "", "daily", 1),
        ("FY{FY}-", "", "fiscal", 4),
        ("INV-{YYYY}-", "", "fiscal", 1),  # a fiscal year that is the calendar year
        ("PLAIN-", "", "never", 1),
    ],
)
def test_good_formats_validate(prefix, suffix, reset, fm):
    validate_format(prefix, suffix, 4, reset, fm)


def test_token_table_documents_every_token():
    names = [name for name, _ in token_table()]
    assert names == ["{YYYY}", "{YY}", "{MM}", "{DD}", "{FY}", "{FYE}"]


# -- properties ----------------------------------------------------------------

TOKEN_TEXT = st.sampled_from(["{YYYY}", "{YY}", "{MM}", "{DD}", "{FY}", "{FYE}"])
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=20)
PIECES = st.lists(st.one_of(TOKEN_TEXT, st.sampled_from(["-", "/", "INV", "{{", "}}", "0", "A"])))


@given(ANY_TEXT)
def test_any_template_validates_or_raises_template_error(template):
    try:
        parse(template)
    except TemplateError as exc:
        assert exc.message
    # Nothing else may escape: no KeyError, IndexError, AttributeError...


@given(ANY_TEXT, ANY_TEXT, st.integers(-5, 25), st.sampled_from(["never", "yearly", "x"]))
def test_any_format_validates_or_raises_template_error(prefix, suffix, padding, reset):
    try:
        validate_format(prefix, suffix, padding, reset)
    except TemplateError:
        pass


DAYS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


@given(
    prefix=PIECES.map("".join),
    suffix=PIECES.map("".join),
    padding=st.integers(0, 6),
    reset=st.sampled_from(["never", "yearly", "monthly", "daily", "fiscal"]),
    first_month=st.integers(1, 12),
    a=st.tuples(DAYS, st.integers(-50, 100_000)),
    b=st.tuples(DAYS, st.integers(-50, 100_000)),
)
def test_different_period_and_number_never_render_the_same(
    prefix, suffix, padding, reset, first_month, a, b
):
    fmt = Format("x", prefix[:50], suffix[:50], padding, reset, first_month)
    try:
        fmt.validate()
    except TemplateError:
        return
    (day_a, n_a), (day_b, n_b) = a, b
    if (fmt.period(day_a), n_a) != (fmt.period(day_b), n_b):
        assert fmt.render(day_a, n_a) != fmt.render(day_b, n_b)


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)),
    other=st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)),
    reset=st.sampled_from([r for r in Reset.ALL if r != Reset.NEVER]),
    first_month=st.integers(1, 12),
)
def test_a_period_contains_exactly_the_days_whose_key_it_is(day, other, reset, first_month):
    key = period_key(day, reset, first_month)
    assert period_contains(key, day)
    assert period_contains(key, other) == (period_key(other, reset, first_month) == key)
