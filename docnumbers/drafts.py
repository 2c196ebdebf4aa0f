"""Drafts: documents whose number waits until ``issue_when`` holds (#21).

A field declared with ``issue_when=Q(...)`` leaves a row's number, text and counter
NULL while the condition is false for the row (a draft). The save that makes it true
issues the number, in that save's transaction. Whether it holds for an instance in
memory is evaluated here: in Python for the plain lookups a status condition is made
of (``exact``, ``in``, ``isnull``, comparisons on the model's own columns), else by
the database, as Django validates a ``CheckConstraint`` (``Q.check``), so what Python
decides is what SQL would decide.
"""

from __future__ import annotations

import operator

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q, Value
from django.db.models.constants import LOOKUP_SEP

_UNKNOWN = object()

_COMPARE = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def holds(field, instance, using=DEFAULT_DB_ALIAS) -> bool:
    """Whether ``field``'s ``issue_when`` holds for ``instance`` as it is (True without one)."""
    condition = getattr(field, "issue_when", None)
    if condition is None:
        return True
    result = _evaluate(condition, instance)
    if result is _UNKNOWN:
        result = condition.check(_values(instance), using=using)
    return bool(result)


def issuable(field, instances, using=DEFAULT_DB_ALIAS) -> list:
    """The instances of ``instances`` whose number may be issued now (their condition holds)."""
    if getattr(field, "issue_when", None) is None:
        return list(instances)
    return [instance for instance in instances if holds(field, instance, using)]


def condition_fields(field) -> list[str]:
    """The model field names ``issue_when`` reads, in order (where a refusal is shown)."""
    names: list[str] = []

    def walk(node):
        for child in node.children:
            if isinstance(child, Q):
                walk(child)
            else:
                name = child[0].split(LOOKUP_SEP)[0]
                if name not in names:
                    names.append(name)

    if getattr(field, "issue_when", None) is not None:
        walk(field.issue_when)
    meta = field.model._meta
    found = []
    for name in names:
        try:
            found.append(meta.get_field(name).name)
        except Exception:  # noqa: BLE001 - a name the system check reports
            continue
    return found


def _values(instance) -> dict:
    """What ``Q.check`` compares against: every concrete field's value, by name and attname."""
    against = {}
    for model_field in instance._meta.concrete_fields:
        value = instance.__dict__.get(model_field.attname)
        expression = Value(value, output_field=model_field)
        against[model_field.name] = expression
        against[model_field.attname] = expression
    return against


def _evaluate(node: Q, instance):
    """True/False for ``node`` on ``instance`` in memory, or _UNKNOWN (ask the database)."""
    results = []
    for child in node.children:
        if isinstance(child, Q):
            result = _evaluate(child, instance)
        else:
            result = _lookup(instance, *child)
        if result is _UNKNOWN:
            return _UNKNOWN
        results.append(bool(result))
    if node.connector == Q.AND:
        value = all(results)
    elif node.connector == Q.OR:
        value = any(results)
    else:  # XOR: an odd number of true children, as Django compiles it
        value = sum(results) % 2 == 1
    return not value if node.negated else value


def _lookup(instance, path: str, wanted):
    if hasattr(wanted, "resolve_expression"):
        return _UNKNOWN  # F(), functions: the database knows
    parts = path.split(LOOKUP_SEP)
    if len(parts) > 2:
        return _UNKNOWN
    name, lookup = parts[0], (parts[1] if len(parts) == 2 else "exact")
    meta = instance._meta
    try:
        model_field = meta.get_field(name)
    except Exception:  # noqa: BLE001
        return _UNKNOWN
    if not getattr(model_field, "concrete", False) or model_field.many_to_many:
        return _UNKNOWN
    if model_field.is_relation and name == model_field.name:
        wanted = _pk_of(wanted)
        if lookup == "in":
            wanted = [_pk_of(v) for v in wanted]
    elif model_field.is_relation:
        pass  # the attname (customer_id): plain values
    value = instance.__dict__.get(model_field.attname)
    try:
        if lookup == "isnull":
            return (value is None) == bool(wanted)
        if value is None:
            return False  # NULL compares to nothing in SQL
        target = model_field.target_field if model_field.is_relation else model_field
        value = target.to_python(value)
        if lookup == "exact":
            return wanted is not None and value == target.to_python(wanted)
        if lookup == "in":
            return value in {target.to_python(v) for v in wanted if v is not None}
        if lookup in _COMPARE:
            return wanted is not None and _COMPARE[lookup](value, target.to_python(wanted))
    except Exception:  # noqa: BLE001 - a value Python cannot compare: the database decides
        return _UNKNOWN
    return _UNKNOWN


def _pk_of(value):
    return getattr(value, "pk", value)
