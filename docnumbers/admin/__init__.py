"""The admin: number formats (series, live preview), counters (audited moves), gap
explanations, and the ModelAdmin mixin that shows document numbers read-only on the
user's own models. Importing this package registers the docnumbers models' admins."""

from .counters import CounterAdmin, CounterChangeAdmin, CounterChangeInline, ViewOnlyMixin
from .documents import (
    COLUMN_SUFFIX,
    DocumentNumberAdminMixin,
    SeriesChoiceField,
    number_column,
    number_ordering,
    series_filter,
    series_queryset,
    series_text,
)
from .formats import NumberFormatAdmin, NumberFormatForm, OneMessagePerFieldMixin
from .gaps import GapExplanationAdmin
from .renumbering import RenumberAdminMixin, issue_action

__all__ = [
    "COLUMN_SUFFIX",
    "CounterAdmin",
    "CounterChangeAdmin",
    "CounterChangeInline",
    "DocumentNumberAdminMixin",
    "GapExplanationAdmin",
    "NumberFormatAdmin",
    "NumberFormatForm",
    "OneMessagePerFieldMixin",
    "RenumberAdminMixin",
    "SeriesChoiceField",
    "ViewOnlyMixin",
    "issue_action",
    "number_column",
    "number_ordering",
    "series_filter",
    "series_queryset",
    "series_text",
]
