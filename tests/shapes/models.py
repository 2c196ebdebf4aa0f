"""Every model shape an AutoSequenceField meets, chosen by ``SHAPES_STAGE``.

- ``full`` (the default): each shape numbered from its creation: plain,
  ``unique_with`` a ForeignKey, formatted, formatted with a ``series_field``, a
  lines model pointing at a formatted model, an abstract base and its child, a
  proxy, a multi-table child of a numbered parent, a late formatted field.
- ``changed``: the same, changed the way projects change them later: a column
  added to a formatted model (a table rebuild on SQLite), a field added to a
  ``unique_with``, another ``start_at`` (on a late field too).
- ``renamed``: ``full`` with the late model's table and number column renamed
  (``db_table``, ``db_column``), as a project moves them later (#18).
- ``rescoped``: ``full`` with the late model numbered per branch (a new nullable
  ForeignKey in ``unique_with``) and dated by a new ``due_on`` (#19).
- ``unlate``: ``rescoped`` with the late field no longer late (#19).
- ``gone``: ``full`` without the late model (#19).
- ``unnumbered``: ``full`` with the late model's number field deleted (#19).
- ``remodeled``: ``full`` renamed: the late model's class (``RenameModel``: its table
  follows), the plain and the formatted numbered fields, and the scope field of
  ``Scoped`` (``RenameField``).
- ``before``: the documents of an existing project, without numbers.
- ``after``: the same documents once docnumbers numbers them (the adoption path).
"""

import os

from django.db import models

from docnumbers import AutoSequenceField, Format

STAGE = os.environ.get("SHAPES_STAGE", "full")


class Branch(models.Model):
    name = models.CharField(max_length=20)


if STAGE in (
    "full",
    "changed",
    "renamed",
    "rescoped",
    "unlate",
    "gone",
    "unnumbered",
    "remodeled",
):
    CHANGED = STAGE == "changed"
    RENAMED = STAGE == "renamed"
    #: The late model's scope and date move to new columns (late or not).
    RESCOPED = STAGE in ("rescoped", "unlate")
    REMODELED = STAGE == "remodeled"

    def bill_number_field():
        return AutoSequenceField(
            format=Format("shape-bill", prefix="B-{YYYY}-", padding=4, reset="yearly"),
            date_field="issued_on",
        )

    class Plain(models.Model):
        if REMODELED:
            serial = AutoSequenceField()
        else:
            number = AutoSequenceField()

    class Scoped(models.Model):
        if REMODELED:
            office = models.ForeignKey(Branch, on_delete=models.CASCADE)
        else:
            branch = models.ForeignKey(Branch, on_delete=models.CASCADE)
        if CHANGED:
            kind = models.CharField(max_length=5, default="")
        number = AutoSequenceField(
            unique_with="office" if REMODELED else ("branch", "kind") if CHANGED else "branch"
        )

    class Bill(models.Model):
        issued_on = models.DateField()
        if CHANGED:
            note = models.CharField(max_length=10, default="")
        if REMODELED:
            bill_number = bill_number_field()
        else:
            number = bill_number_field()

    class BillLine(models.Model):
        bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="lines")
        text = models.CharField(max_length=20)

    class BillProxy(Bill):
        class Meta:
            proxy = True

    class Quote(models.Model):
        series = models.ForeignKey(
            "docnumbers.NumberFormat", null=True, blank=True, on_delete=models.PROTECT
        )
        number = AutoSequenceField(
            format=Format("shape-quote", prefix="Q-", padding=3), series_field="series"
        )

    class NumberedBase(models.Model):
        number = AutoSequenceField(format=Format("shape-receipt", prefix="R-", padding=3))

        class Meta:
            abstract = True

    class Receipt(NumberedBase):
        amount = models.IntegerField(default=0)

    class Document(models.Model):
        number = AutoSequenceField(
            format=Format("shape-doc", prefix="D-", padding=3), start_at=5 if CHANGED else 1
        )

    class Contract(Document):
        party = models.CharField(max_length=20)

    if STAGE != "gone":
        late_attrs = {"__module__": __name__, "issued_on": models.DateField()}
        if RESCOPED:
            late_attrs["branch"] = models.ForeignKey(Branch, null=True, on_delete=models.CASCADE)
            late_attrs["due_on"] = models.DateField(null=True)
        if STAGE != "unnumbered":
            late_attrs["number"] = AutoSequenceField(
                format=Format("shape-late", prefix="L-{YYYY}-", padding=4, reset="yearly"),
                date_field="due_on" if RESCOPED else "issued_on",
                unique_with="branch" if RESCOPED else (),
                late=STAGE != "unlate",
                # A changed declaration: a new trigger, through the app's next migration.
                start_at=10 if CHANGED else 1,
                db_column="bill_number" if RENAMED else None,
            )
        if RENAMED:
            late_attrs["Meta"] = type("Meta", (), {"db_table": "shapes_late_bills"})
        # The late model: LateBill, or LateNote once its class is renamed.
        LateBill = type("LateNote" if REMODELED else "LateBill", (models.Model,), late_attrs)

else:
    ADOPTED = STAGE == "after"

    def numbered(**options):
        """The fields to add at the adoption stage: ``{"number": AutoSequenceField(...)}``."""
        return {"number": AutoSequenceField(**options)} if ADOPTED else {}

    def document(name, fields, **options):
        attrs = {"__module__": __name__, **fields, **numbered(**options)}
        return type(name, (models.Model,), attrs)

    def branch():
        return models.ForeignKey(Branch, on_delete=models.CASCADE)

    AdoptPlain = document("AdoptPlain", {"name": models.CharField(max_length=20)})
    AdoptScoped = document("AdoptScoped", {"branch": branch()}, unique_with="branch", start_at=10)
    AdoptBill = document(
        "AdoptBill",
        {"issued_on": models.DateField()},
        format=Format("adopt-bill", prefix="INV-{YYYY}-", padding=4, reset="yearly"),
        date_field="issued_on",
    )
    AdoptDatedBill = document(
        "AdoptDatedBill",
        {"issued_on": models.DateField()},
        format=Format("adopt-dated", prefix="DB-{YYYY}-", padding=4, reset="yearly"),
        date_field="issued_on",
    )
    AdoptScopedBill = document(
        "AdoptScopedBill",
        {"branch": branch(), "issued_on": models.DateField()},
        unique_with="branch",
        format=Format("adopt-scoped", prefix="SB-{YYYY}-", padding=2, reset="yearly"),
        date_field="issued_on",
    )
    AdoptQuote = document(
        "AdoptQuote",
        {
            "series": models.ForeignKey(
                "docnumbers.NumberFormat", null=True, blank=True, on_delete=models.PROTECT
            )
        },
        format="adopt-quote",
        series_field="series",
    )
    AdoptLate = document(
        "AdoptLate",
        {"issued_on": models.DateField()},
        format=Format("adopt-late", prefix="L-{YYYY}-", padding=3, reset="yearly"),
        date_field="issued_on",
        late=True,
    )
