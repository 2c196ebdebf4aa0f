"""docnumbers' migration operations on data, and the rewrites that add them.

``NumberExistingRows(model_name, name, order_by=("pk",))`` numbers the rows of a
model whose number is NULL (see ``adoption``). ``adoption_steps`` rewrites the
``AddField`` of an AutoSequenceField that ``makemigrations`` detected into the
steps that work on a table with rows. ``RenameCounters(old, new, scope)`` keeps the
counters of a renamed model or field counting; ``counters_follow_renames`` adds it.
docnumbers' ``makemigrations`` command applies both rewrites to every migration it
writes (``rewrite_migration``).
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import router
from django.db.migrations.operations import (
    AddConstraint,
    AddField,
    AddIndex,
    AlterField,
    AlterModelTable,
    RemoveConstraint,
    RenameField,
    RenameModel,
)
from django.db.migrations.operations.base import Operation
from django.db.migrations.operations.fields import FieldOperation

from . import adoption, allocation, registry

try:  # Django 5.1+: the symbol makemigrations prints before the description.
    from django.db.migrations.operations.base import OperationCategory
except ImportError:  # pragma: no cover - Django 4.2
    OperationCategory = None


class NumberExistingRows(Operation):
    """Number the rows whose ``name`` is NULL, in ``order_by`` order, with the real engine.

    Each ``unique_with`` scope and period counts from the field's ``start_at``;
    formatted fields get their text and counter; the counters end at the highest
    number issued. A format with no row yet is created from the defaults the
    project's field declares (``Format(...)``). Backwards it does nothing (the
    column it filled is dropped by the reverse of the AddField before it).
    """

    reduces_to_sql = False
    reversible = True
    if OperationCategory is not None:
        category = OperationCategory.PYTHON

    def __init__(self, model_name, name, order_by=adoption.DEFAULT_ORDER):
        self.model_name = model_name
        self.name = name
        self.order_by = tuple(order_by)

    @property
    def model_name_lower(self):
        return self.model_name.lower()

    def deconstruct(self):
        # order_by is always written out, so that the migration shows what to change.
        kwargs = {"model_name": self.model_name, "name": self.name, "order_by": self.order_by}
        return self.__class__.__name__, [], kwargs

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        using = schema_editor.connection.alias
        if self.allow_migrate_model(using, model):
            adoption.number_existing_rows(model, self.name, order_by=self.order_by, using=using)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def references_model(self, name, app_label):
        return name.lower() == self.model_name_lower

    def references_field(self, model_name, name, app_label):
        # The order and the unique_with fields are read too: any field of the model.
        return model_name.lower() == self.model_name_lower

    def describe(self):
        order = ", ".join(self.order_by)
        return f"Number the existing rows of {self.model_name}.{self.name} (ordered by {order})"

    @property
    def migration_name_fragment(self):
        return f"number_{self.model_name_lower}_{self.name.lower()}"


class RenameCounters(Operation):
    """The counters of the sequence ``old`` (``app_label.model.field``) take the name
    ``new``, and their scopes the field names ``scope`` maps (old -> new): a renamed
    model, numbered field or ``unique_with`` field keeps counting where it was instead
    of starting again (and issuing numbers its rows hold). Backwards it moves them back.
    """

    reduces_to_sql = False
    reversible = True
    if OperationCategory is not None:
        category = OperationCategory.PYTHON

    def __init__(self, old, new, scope=None):
        self.old = old
        self.new = new
        self.scope = dict(scope or {})

    @property
    def identity(self) -> tuple:
        """What it moves: two that move the same counters the same way are one."""
        return self.old, self.new, tuple(sorted(self.scope.items()))

    def deconstruct(self):
        kwargs = {"old": self.old, "new": self.new}
        if self.scope:
            kwargs["scope"] = self.scope
        return self.__class__.__name__, [], kwargs

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._move(schema_editor, self.old, self.new, self.scope)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        back = {new: old for old, new in self.scope.items()}
        self._move(schema_editor, self.new, self.old, back)

    @staticmethod
    def _move(schema_editor, old, new, scope):
        using = schema_editor.connection.alias
        if router.allow_migrate(using, "docnumbers", model_name="counter"):
            allocation.rename_sequence(old, new, scope, using=using)

    def describe(self):
        if self.old == self.new:
            renamed = ", ".join(f"{old} to {new}" for old, new in self.scope.items())
            return f"Rename {renamed} in the scopes of the counters of {self.old}"
        return f"Move the counters of {self.old} to {self.new}"

    @property
    def migration_name_fragment(self):
        return "rename_counters"


def counters_follow_renames(app_label: str, operations: list) -> list:
    """``operations`` with a ``RenameCounters`` after each ``RenameModel`` or
    ``RenameField`` that renames a numbered field's sequence or one of its scope fields
    (the project's fields as they are now say which fields are numbered)."""
    present = {op.identity for op in operations if isinstance(op, RenameCounters)}
    result = []
    for op in operations:
        result.append(op)
        for follow in _counter_moves(app_label, op):
            if follow.identity not in present:
                result.append(follow)
    return result


def _counter_moves(app_label: str, op) -> list:
    if not isinstance(op, (RenameModel, RenameField)):
        return []
    model = op.new_name_lower if isinstance(op, RenameModel) else op.model_name_lower
    numbered = [
        field
        for field in registry.fields()
        if (field.model._meta.app_label, field.model._meta.model_name) == (app_label, model)
    ]
    if isinstance(op, RenameModel):
        old = op.old_name_lower
        return [
            RenameCounters(f"{app_label}.{old}.{f.name}", f"{app_label}.{model}.{f.name}")
            for f in numbered
        ]
    moves = []
    for field in numbered:
        label = f"{app_label}.{model}.{field.name}"
        if field.name == op.new_name:
            moves.append(RenameCounters(f"{app_label}.{model}.{op.old_name}", label))
        elif op.new_name in field.unique_with:
            moves.append(RenameCounters(label, label, scope={op.old_name: op.new_name}))
    return moves


def refuse_renames_without_counters(sender=None, *, using="default", plan=None, **kwargs):
    """pre_migrate: stop before a rename would make a numbered field count from its start.

    A ``RenameModel`` or ``RenameField`` of a numbered model's sequence or scope, in a
    migration without the ``RenameCounters`` that docnumbers' ``makemigrations`` adds
    (written by hand, or by Django's own command), whose counters exist: the field would
    issue numbers its rows hold, and every save would be refused.
    """
    for migration, backwards in plan or ():
        if backwards:
            continue
        present = {op.identity for op in migration.operations if isinstance(op, RenameCounters)}
        for op in migration.operations:
            for move in _counter_moves(migration.app_label, op):
                if move.identity in present:
                    continue
                scope_field = next(iter(move.scope), None)
                if allocation.has_counters(move.old, scope_field, using=using):
                    raise CommandError(_rename_refusal(migration, op, move))


def _rename_refusal(migration, operation, move) -> str:
    arguments = f"old={move.old!r}, new={move.new!r}"
    if move.scope:
        arguments += f", scope={move.scope!r}"
    return (
        f"Migration {migration.app_label}.{migration.name}: {operation.describe()} renames "
        f"what the counters of {move.old} are named after, and the migration does not move "
        "them: the field would count again from its start and issue numbers its rows hold. "
        f"Add docnumbers.operations.RenameCounters({arguments}) right after it "
        "(docnumbers' makemigrations writes it; README: Renaming a numbered model or field)."
    )


def _nullable(field):
    name, path, args, kwargs = field.deconstruct()
    return type(field)(*args, **{**kwargs, "null": True})


def _on(operations: list, model: str, kinds) -> list:
    return [op for op in operations if isinstance(op, kinds) and op.model_name_lower == model]


def _adopt(operations: list, add: AddField) -> list:
    """Replace ``add`` by the adoption steps.

    The numbering comes after every field operation of the model in this
    migration (a ``unique_with`` or ``date_field`` added alongside must exist),
    and the model's constraints and indexes after the numbering.
    """
    model, field = add.model_name_lower, add.field
    names = (f"{add.name}_display", f"{add.name}_counter")
    companions = [op for op in _on(operations, model, AddField) if op.name in names]
    result = []
    for op in operations:
        if op is add:
            nullable = AddField(model_name=add.model_name, name=add.name, field=_nullable(field))
            result += [nullable, *companions]
        elif not any(op is c for c in companions):
            result.append(op)
    steps = [NumberExistingRows(model_name=add.model_name, name=add.name)]
    if not field.null:
        steps.append(AlterField(model_name=add.model_name, name=add.name, field=field))
    fields = _on(result, model, FieldOperation)
    last = max(i for i, op in enumerate(result) if any(op is f for f in fields))
    # The unique constraints are added once every row has its number.
    early = _on(result[:last], model, (AddConstraint, AddIndex))
    head = [op for op in result[: last + 1] if not any(op is e for e in early)]
    return head + steps + early + result[last + 1 :]


def _key(operation) -> tuple[str, str]:
    return operation.model_name_lower, operation.name


def adoption_steps(operations: list) -> list:
    """``operations`` with each AddField of an AutoSequenceField made to work on existing rows.

    ``AddField`` (null=True), the companion AddFields, ``NumberExistingRows``, then
    ``AlterField`` to the declared (NOT NULL) field; constraints after them. An
    AddField already followed by its NumberExistingRows is left as it is.
    """
    done = {_key(op) for op in operations if isinstance(op, NumberExistingRows)}
    result = list(operations)
    for add in [op for op in operations if adoption.adds_number(op) and _key(op) not in done]:
        result = _adopt(result, add)
    return result


def old_constraints_last(operations: list) -> list:
    """``operations`` with the unique constraints a table rename replaces dropped last.

    The field's constraints are named after the table (``<table>_..._uniq``), so a
    new ``db_table`` (or a renamed model) removes them and adds them under new names.
    MariaDB refuses to drop the old (counter, number) index while the counter's
    foreign key has no other index to use, so the new ones are added first.
    """
    renamed = {op.name_lower for op in operations if isinstance(op, AlterModelTable)}
    renamed |= {op.new_name_lower for op in operations if isinstance(op, RenameModel)}
    old = [
        op
        for op in operations
        if isinstance(op, RemoveConstraint)
        and op.model_name_lower in renamed
        and op.name.endswith("_uniq")
    ]
    if not old:
        return operations
    result = [op for op in operations if not any(op is o for o in old)]
    for removal in old:
        adds = [
            i
            for i, op in enumerate(result)
            if isinstance(op, AddConstraint) and op.model_name_lower == removal.model_name_lower
        ]
        result.insert(adds[-1] + 1 if adds else len(result), removal)
    return result


def rewrite_migration(migration, docnumbers_leaf=None) -> bool:
    """Apply ``old_constraints_last``, ``counters_follow_renames`` and ``adoption_steps``
    to ``migration`` in place; return whether it changed.

    Numbering rows and moving counters use docnumbers' tables as they are now, so the migration then
    depends on ``docnumbers_leaf`` (docnumbers' latest migration) when given.
    """
    reordered = old_constraints_last(migration.operations)
    changed = reordered is not migration.operations
    operations = adoption_steps(counters_follow_renames(migration.app_label, reordered))
    migration.operations = operations
    # Both add operations (NumberExistingRows, RenameCounters): the same length means
    # nothing was added.
    if len(operations) == len(reordered):
        return changed
    if docnumbers_leaf is not None and migration.app_label != "docnumbers":
        others = [d for d in migration.dependencies if d[0] != "docnumbers"]
        migration.dependencies = [*others, tuple(docnumbers_leaf)]
    return True
