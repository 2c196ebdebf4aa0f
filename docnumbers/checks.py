"""System checks that need the database. Field options are checked by the field itself.

Ids: docnumbers.E001-E008 and W001 come from AutoSequenceField.check;
docnumbers.E007 is here.
"""

from django.core import checks
from django.db import DatabaseError, connections


def formats_exist(app_configs=None, databases=None, **kwargs):
    """E007: a field's format code has no NumberFormat and no declared defaults."""
    from .fields import registered_fields
    from .models import NumberFormat

    errors = []
    for alias in databases or ():
        table = NumberFormat._meta.db_table
        try:
            if table not in connections[alias].introspection.table_names():
                continue
            codes = set(NumberFormat.objects.using(alias).values_list("code", flat=True))
        except DatabaseError:
            continue
        for field in registered_fields():
            if field.format_code is None or field.format_defaults is not None:
                continue
            if field.format_code not in codes:
                errors.append(
                    checks.Error(
                        f"{field.model._meta.label}.{field.name}: the number format "
                        f"{field.format_code!r} does not exist in the database {alias!r}, "
                        "and the field declares no defaults.",
                        hint=(
                            f'Declare them: format=Format("{field.format_code}", prefix=...), '
                            "or add the format in the admin (Number formats)."
                        ),
                        obj=field,
                        id="docnumbers.E007",
                    )
                )
    return errors


def register():
    checks.register(formats_exist, checks.Tags.database)
