"""Templates, tokens and periods: pure functions, no database.

A number format is ``prefix + zero-padded number + suffix``. Prefix and suffix
are templates made of literal text and ``{TOKEN}`` placeholders; ``{{`` and
``}}`` stand for literal braces. Every token renders to a fixed width, so a
rendered number can always be split back into prefix, number and suffix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Callable

# Lazy: labels are translated when shown, and this module still needs no settings.
# Error messages are built when raised, so gettext (which reads settings) is called then.
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .exceptions import DateOutOfRange, TemplateError

__all__ = ["Format", "Reset", "TemplateError", "parse", "parse_period", "period_key", "render"]

MAX_PADDING = 18
MAX_TEMPLATE_LENGTH = 50


def is_int(value) -> bool:
    """Whether ``value`` is a whole number: an int, and not a bool (floats and texts are not)."""
    return isinstance(value, int) and not isinstance(value, bool)


class Reset:
    """When a format's counter starts again at its first value."""

    NEVER = "never"
    YEARLY = "yearly"
    FISCAL = "fiscal"
    MONTHLY = "monthly"
    DAILY = "daily"

    CHOICES = [
        (NEVER, _("Never")),
        (YEARLY, _("Every calendar year")),
        (FISCAL, _("Every fiscal year")),
        (MONTHLY, _("Every month")),
        (DAILY, _("Every day")),
    ]
    ALL = [value for value, _ in CHOICES]


def fiscal_year(day: dt.date, first_month: int = 1) -> int:
    """Return the calendar year in which the fiscal year containing ``day`` starts."""
    return day.year if day.month >= first_month else day.year - 1


def _fy_end(day: dt.date, first_month: int) -> int:
    return fiscal_year(day, first_month) + (0 if first_month == 1 else 1)


def _calendar_year(year: int, day: dt.date, first_month: int) -> str:
    """``year`` in four digits; DateOutOfRange (a TemplateError) outside the calendar (1-9999).

    Only a fiscal year can be: the one starting in year 0 (January-March of year 1,
    April start) or ending in 10000 (April-December 9999).
    """
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise DateOutOfRange(
            gettext(
                "The date %(day)s falls in the fiscal year %(start)d/%(end)d (first month "
                "%(month)d), which does not fit in the calendar from %(min)s to %(max)s: "
                "no document dated %(day)s can be numbered with this format."
            )
            % {
                "day": day.isoformat(),
                "start": fiscal_year(day, first_month),
                "end": _fy_end(day, first_month),
                "month": first_month,
                "min": dt.date.min.isoformat(),
                "max": dt.date.max.isoformat(),
            },
            "date_range",
        )
    return f"{year:04d}"


# token -> (renderer, description). Every renderer returns a fixed-width text.
TOKENS: dict[str, tuple[Callable[[dt.date, int], str], object]] = {
    "YYYY": (lambda d, fm: f"{d.year:04d}", _("year, four digits (2026)")),
    "YY": (lambda d, fm: f"{d.year % 100:02d}", _("year, two digits (26)")),
    "MM": (lambda d, fm: f"{d.month:02d}", _("month, two digits (01-12)")),
    "DD": (lambda d, fm: f"{d.day:02d}", _("day of the month, two digits (01-31)")),
    "FY": (
        lambda d, fm: _calendar_year(fiscal_year(d, fm), d, fm),
        _("fiscal year, four digits: the year it starts in (2026 for April 2026 - March 2027)"),
    ),
    "FYE": (
        lambda d, fm: _calendar_year(_fy_end(d, fm), d, fm),
        _("fiscal year, four digits: the year it ends in (2027 for April 2026 - March 2027)"),
    ),
}

# The tokens that tell two periods of each reset kind apart. A template must
# contain one token of every group listed for its reset period.
_PERIOD_TOKENS = {
    Reset.NEVER: [],
    Reset.YEARLY: [{"YYYY", "YY"}],
    Reset.MONTHLY: [{"YYYY", "YY"}, {"MM"}],
    Reset.DAILY: [{"YYYY", "YY"}, {"MM"}, {"DD"}],
    Reset.FISCAL: [{"FY", "FYE"}],
}

_NAME = re.compile(r"[A-Z][A-Z0-9]*\Z")


def parse(template: str) -> list[tuple[str, str]]:
    """Split a template into ``("text", literal)`` and ``("token", NAME)`` parts.

    Raises TemplateError naming the problem for anything that is not literal
    text, a known ``{TOKEN}``, ``{{`` or ``}}``.
    """
    if not isinstance(template, str):
        raise TemplateError(gettext("A template must be text."), "type")
    return list(_parse(template))


@functools.lru_cache(maxsize=1024)
def _parse(template: str) -> tuple[tuple[str, str], ...]:
    # Cached: a batch renders the same few templates thousands of times.
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(
            gettext("The template is %(length)d characters long; at most %(limit)d are allowed.")
            % {"length": len(template), "limit": MAX_TEMPLATE_LENGTH},
            "too_long",
        )
    parts: list[tuple[str, str]] = []
    text: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char == "{" and template.startswith("{{", i):
            text.append("{")
            i += 2
        elif char == "}" and template.startswith("}}", i):
            text.append("}")
            i += 2
        elif char == "}":
            raise TemplateError(
                gettext("Unbalanced '}' at position %(position)d; write '}}' for a literal brace.")
                % {"position": i + 1},
                "unbalanced",
            )
        elif char == "{":
            end = template.find("}", i + 1)
            nested = template.find("{", i + 1)
            if end == -1 or (nested != -1 and nested < end):
                raise TemplateError(
                    gettext(
                        "Unbalanced '{' at position %(position)d; close it with '}' "
                        "or write '{{' for a literal brace."
                    )
                    % {"position": i + 1},
                    "unbalanced",
                )
            name = template[i + 1 : end]
            _check_token(name)
            if text:
                parts.append(("text", "".join(text)))
                text = []
            parts.append(("token", name))
            i = end + 1
        elif not char.isprintable():
            raise TemplateError(
                gettext("The template contains a control character at position %(position)d.")
                % {"position": i + 1},
                "control",
            )
        else:
            text.append(char)
            i += 1
    if text:
        parts.append(("text", "".join(text)))
    return tuple(parts)


def _check_token(name: str) -> None:
    known = ", ".join("{%s}" % token for token in TOKENS)
    if any(c in name for c in ".[]()"):
        raise TemplateError(
            gettext(
                "'{%(name)s}' tries attribute or index access, which templates do not allow. "
                "Use one of the tokens %(known)s."
            )
            % {"name": name, "known": known},
            "access",
        )
    if name not in TOKENS:
        hint = ""
        if _NAME.match(name.upper()) and name.upper() in TOKENS:
            hint = " " + gettext("Tokens are upper case: write '{%(token)s}'.") % {
                "token": name.upper()
            }
        raise TemplateError(
            gettext(
                "Unknown token '{%(name)s}'.%(hint)s Known tokens: %(known)s; "
                "write '{{' and '}}' for literal braces."
            )
            % {"name": name, "hint": hint, "known": known},
            "unknown_token",
        )


def tokens_in(template: str) -> set[str]:
    """Return the names of the tokens a valid template uses."""
    return {value for kind, value in parse(template) if kind == "token"}


@dataclasses.dataclass(frozen=True)
class Format:
    """The settings that turn an integer into a document number.

    Also the way code declares a format's defaults next to its field::

        AutoSequenceField(format=Format("invoice", prefix="INV-{YYYY}-", padding=4,
                                        reset="yearly"), date_field="issued_on")
    """

    code: str
    prefix: str = ""
    suffix: str = ""
    padding: int = 4
    reset: str = Reset.NEVER
    fiscal_year_start_month: int = 1

    def validate(self) -> None:
        """Raise TemplateError naming the first problem, if any."""
        validate_format(
            self.prefix, self.suffix, self.padding, self.reset, self.fiscal_year_start_month
        )

    def period(self, day: dt.date) -> str:
        return period_key(day, self.reset, self.fiscal_year_start_month)

    def render(self, day: dt.date, number: int) -> str:
        return render(
            self.prefix, self.suffix, self.padding, day, number, self.fiscal_year_start_month
        )

    def render_parts(self, day: dt.date) -> tuple[str, str]:
        """The rendered prefix and suffix for ``day``: the text around the number."""
        return (
            _render_template(self.prefix, day, self.fiscal_year_start_month),
            _render_template(self.suffix, day, self.fiscal_year_start_month),
        )

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def validate_format(
    prefix: str, suffix: str, padding: int, reset: str, fiscal_year_start_month: int = 1
) -> None:
    """Check a whole format; raise TemplateError naming the problem and the fix."""
    if not is_int(padding):
        raise TemplateError(
            gettext("Padding must be a whole number (an int from 0 to %(max)d), not %(value)s.")
            % {"max": MAX_PADDING, "value": repr(padding)},
            "padding",
        )
    if not 0 <= padding <= MAX_PADDING:
        raise TemplateError(
            gettext("Padding must be between 0 and %(max)d digits, not %(value)s.")
            % {"max": MAX_PADDING, "value": padding},
            "padding",
        )
    if reset not in Reset.ALL:
        raise TemplateError(
            gettext("Unknown reset period %(value)s; choose one of %(choices)s.")
            % {"value": repr(reset), "choices": ", ".join(Reset.ALL)},
            "reset",
        )
    # Not ``in range(1, 13)``: 4.0 is in it, and would then break period().
    if not is_int(fiscal_year_start_month) or not 1 <= fiscal_year_start_month <= 12:
        raise TemplateError(
            gettext(
                "The fiscal year's first month must be a whole number from 1 to 12 "
                "(an int: 4 for April), not %(value)s."
            )
            % {"value": repr(fiscal_year_start_month)},
            "fiscal_month",
        )
    used = tokens_in(prefix) | tokens_in(suffix)
    if reset == Reset.FISCAL and fiscal_year_start_month == 1:
        groups = [{"FY", "FYE", "YYYY", "YY"}]
    else:
        groups = _PERIOD_TOKENS[reset]
    for group in groups:
        if not used & group:
            names = gettext(" or ").join(
                "{%s}" % name for name in sorted(group, key=len, reverse=True)
            )
            raise TemplateError(
                gettext(
                    "A format that resets %(reset)s needs %(tokens)s "
                    "in its prefix or suffix; without it two periods print the same number "
                    "(for example %(example)s twice)."
                )
                % {
                    # Only the first letter: German nouns keep their capital.
                    "reset": (label := str(dict(Reset.CHOICES)[reset]))[:1].lower() + label[1:],
                    "tokens": names,
                    "example": render_example(prefix, suffix, padding),
                },
                "period_token",
            )


def render_example(prefix: str, suffix: str, padding: int) -> str:
    try:
        return render(prefix, suffix, padding, dt.date(2026, 1, 1), 1)
    except TemplateError:
        return gettext("the same text")


def _render_template(template: str, day: dt.date, first_month: int) -> str:
    out = []
    for kind, value in _parse(template):
        out.append(value if kind == "text" else TOKENS[value][0](day, first_month))
    return "".join(out)


def render_number(number: int, padding: int) -> str:
    """Zero-fill ``number`` to ``padding`` digits; a minus sign comes first."""
    digits = str(abs(number)).zfill(padding)
    return f"-{digits}" if number < 0 else digits


def render(
    prefix: str, suffix: str, padding: int, day: dt.date, number: int, first_month: int = 1
) -> str:
    """Render a document number, for example ``INV-2026-0001``."""
    return (
        _render_template(prefix, day, first_month)
        + render_number(number, padding)
        + _render_template(suffix, day, first_month)
    )


# The period key is made by period_key and read back by parse_period: keep them together.


def period_key(day: dt.date, reset: str, first_month: int = 1) -> str:
    """Return the text that names the reset period ``day`` falls in ('' for never).

    ``2026`` (yearly), ``2026-03`` (monthly), ``2026-03-31`` (daily),
    ``FY2026-04`` (fiscal: the year it starts in, and its first month).
    """
    if reset == Reset.NEVER:
        return ""
    if reset == Reset.YEARLY:
        return f"{day.year:04d}"
    if reset == Reset.MONTHLY:
        return f"{day.year:04d}-{day.month:02d}"
    if reset == Reset.DAILY:
        return day.isoformat()
    if reset == Reset.FISCAL:
        # The key names the period's first day, which must exist (not year 0).
        return (
            f"FY{_calendar_year(fiscal_year(day, first_month), day, first_month)}-{first_month:02d}"
        )
    raise TemplateError(
        gettext("Unknown reset period %(value)s.") % {"value": repr(reset)}, "reset"
    )


# pattern, its first day, and how many months the period covers (0: one day).
_PERIOD_PATTERNS = [
    (re.compile(r"(\d{4})\Z"), lambda m: dt.date(int(m[1]), 1, 1), 12),
    (re.compile(r"(\d{4})-(\d{2})\Z"), lambda m: dt.date(int(m[1]), int(m[2]), 1), 1),
    (
        re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z"),
        lambda m: dt.date(int(m[1]), int(m[2]), int(m[3])),
        0,
    ),
    (re.compile(r"FY(\d{4})-(\d{2})\Z"), lambda m: dt.date(int(m[1]), int(m[2]), 1), 12),
]


def _read_period(period: str) -> tuple[dt.date, int] | None:
    for pattern, first_day, months in _PERIOD_PATTERNS:
        match = pattern.match(period or "")
        if match:
            try:
                return first_day(match), months
            except ValueError:
                return None
    return None


def parse_period(period: str) -> dt.date | None:
    """The first day of the period ``period_key`` named, or None ('' or a text it never makes)."""
    read = _read_period(period)
    return read[0] if read else None


def period_days(period: str) -> list[dt.date]:
    """The first day of every month ``period`` covers (the day itself for a daily period).

    A day in each month is enough to meet every period of another reset that
    overlaps it, and every text a month or year token renders. [] for '' and
    texts ``period_key`` never makes. A period that runs past 31 December 9999
    (the fiscal year starting in 9999) stops there.
    """
    read = _read_period(period)
    if read is None:
        return []
    first, months = read
    days = [first]
    for offset in range(1, months):
        month = first.month - 1 + offset
        year = first.year + month // 12
        if year > dt.MAXYEAR:
            break  # a fiscal year that starts in 9999: its months up to December
        days.append(dt.date(year, month % 12 + 1, 1))
    return days


def period_contains(period: str, day: dt.date) -> bool:
    """Whether ``day`` falls in the period ``period_key`` named ('' and unknown texts: True)."""
    read = _read_period(period)
    if read is None:
        return True
    first, months = read
    if months == 0:
        return day == first
    index = (day.year - first.year) * 12 + day.month - first.month
    return 0 <= index < months


def token_table() -> list[tuple[str, str]]:
    """The documented tokens, as ``("{YYYY}", "year, four digits")`` pairs."""
    return [("{%s}" % name, description) for name, (_, description) in TOKENS.items()]
