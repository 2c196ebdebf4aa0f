"""The sequence key: which counter row a number comes from, and its stable text form."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types

#: Counter keys are stored in a 255-character unique column; longer keys keep
#: a readable head and end in a digest of the whole text.
MAX_KEY_LENGTH = 255
_HEAD = MAX_KEY_LENGTH - 1 - 64


@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """One independent sequence: a field (or a name), a series, scope values and a period.

    ``sequence`` is ``app_label.model.field`` for a field and the caller's text
    for the function API; ``scope`` holds ``(name, value-as-text)`` pairs of the
    field's ``unique_with`` fields; ``series`` is the NumberFormat's primary key.
    """

    sequence: str
    series: int | None = None
    scope: tuple[tuple[str, str | None], ...] = ()
    period: str = ""

    @property
    def scope_text(self) -> str:
        """The scope as stored in ``Counter.scope``; ``parse_scope`` reads it back."""
        return scope_text(self.scope)

    @property
    def text(self) -> str:
        """The unique text stored in ``Counter.key``."""
        return key_text(self.sequence, self.series, self.scope_text, self.period)


def key_text(sequence: str, series: int | None = None, scope: str = "", period: str = "") -> str:
    """``Counter.key`` of these parts (``scope`` as ``scope_text`` makes it).

    Also how a counter loaded from a fixture gets this database's key back
    from its columns: the series id in a key differs between databases.
    """
    text = sequence
    if series is not None:
        text += f"#{series}"
    if scope:
        text += f"|{scope}"
    if period:
        text += f"@{period}"
    return shorten(text)


def scope_text(scope) -> str:
    """``{"customer":"1"}``: the stored form of a scope ('' for none)."""
    if not scope:
        return ""
    return json.dumps(dict(scope), ensure_ascii=False, separators=(",", ":"))


def parse_scope(text: str) -> dict[str, str | None]:
    """The scope ``scope_text`` stored, as ``{field name: value as text}`` ({} for none)."""
    if not text:
        return {}
    try:
        values = json.loads(text)
    except ValueError:
        return {}
    return values if isinstance(values, dict) else {}


def scope_filters(model, names, scope: dict) -> dict:
    """ORM filters for the rows of ``model`` in ``scope`` (as ``parse_scope`` returns it).

    ``names`` are the ``unique_with`` fields; a missing or None value means NULL.
    """
    filters = {}
    for name in names:
        target = model._meta.get_field(name)
        value = scope.get(name)
        if value is None:
            filters[f"{target.attname}__isnull"] = True
        else:
            filters[target.attname] = target.to_python(value)
    return filters


def shorten(text: str) -> str:
    """Return ``text`` if it fits the key column, else a head and a SHA-256 digest."""
    if len(text) <= MAX_KEY_LENGTH:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return f"{text[:_HEAD]}~{digest}"


def sequence_label(model, field_name: str) -> str:
    """``app_label.model_name.field_name`` of a concrete model's field."""
    return f"{model._meta.label_lower}.{field_name}"


def scope_of(instance, fields) -> tuple[tuple[str, str | None], ...]:
    """The ``unique_with`` values of ``instance`` as stable text (foreign keys by id)."""
    return scope_from_values(fields, [getattr(instance, f.attname) for f in fields])


def scope_from_values(fields, values) -> tuple[tuple[str, str | None], ...]:
    """The scope of raw column values (as read by ``values_list``), in ``scope_of``'s form."""
    scope = []
    for field, value in zip(fields, values, strict=True):
        text = None
        if value is not None:
            text = field.value_to_string(types.SimpleNamespace(**{field.attname: value}))
        scope.append((field.name, text))
    return tuple(scope)
