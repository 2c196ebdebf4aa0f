"""Which AutoSequenceFields the project declares, filled as model classes are created.

Imports nothing of docnumbers, so that models, checks and the admin can ask
"which fields use the format code X?" without importing the field module.
"""

from __future__ import annotations

from django.apps import apps as global_apps

#: (model label, field name) -> field, for the project's models (not migration states).
_fields: dict[tuple[str, str], object] = {}


def add(field) -> None:
    """Record ``field`` of a concrete model of the project (called by contribute_to_class)."""
    _fields[field.model._meta.label, field.name] = field


def fields() -> list:
    """Every registered field of a model installed in the project, in a stable order."""
    installed = set(global_apps.get_models())
    return [
        field
        for key, field in sorted(_fields.items(), key=lambda item: item[0])
        if field.model in installed
    ]


def fields_of_code(code: str) -> list:
    """The registered fields whose format code is ``code``."""
    return [f for f in fields() if getattr(f, "format_code", None) == code]


def codes() -> set[str]:
    """The NumberFormat codes that installed fields refer to."""
    return {f.format_code for f in fields() if getattr(f, "format_code", None) is not None}


def by_sequence_label() -> dict[str, object]:
    """Fields by ``app_label.model.field``: the text their counter keys start with."""
    return {f"{f.model._meta.label_lower}.{f.name}": f for f in fields()}


def of_model(model) -> list:
    """The registered fields among ``model``'s concrete fields (parents' and proxies' too)."""
    registered = {id(f) for f in _fields.values()}
    return [f for f in model._meta.concrete_fields if id(f) in registered]
