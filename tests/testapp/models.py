"""Models that use every option of AutoSequenceField."""

from django.db import models
from django.db.models import Q

from docnumbers import AutoSequenceField, Format


class SimpleModel(models.Model):
    name = models.CharField(max_length=50, blank=True)
    number = AutoSequenceField()


class StartAtModel(models.Model):
    number = AutoSequenceField(start_at=100)


class NegativeStartModel(models.Model):
    number = AutoSequenceField(start_at=-2)


class PerNameModel(models.Model):
    name = models.CharField(max_length=50)
    number = AutoSequenceField(unique_with="name")


class ComboModel(models.Model):
    simple_model = models.ForeignKey(SimpleModel, on_delete=models.CASCADE)
    name = models.CharField(max_length=50)
    number = AutoSequenceField(unique_with=("simple_model", "name"))


class Customer(models.Model):
    name = models.CharField(max_length=100)

    def __str__(self):
        return self.name


class Invoice(models.Model):
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT)
    issued_on = models.DateField()
    invoice_number = AutoSequenceField(
        format=Format("invoice", prefix="INV-{YYYY}-", padding=4, reset="yearly"),
        date_field="issued_on",
    )


class Order(models.Model):
    placed_at = models.DateTimeField()
    number = AutoSequenceField(
        format=Format("order", prefix="ORD-{YY}{MM}-", padding=3, reset="monthly"),
        date_field="placed_at",
    )


class CustomerDocument(models.Model):
    """A per-customer formatted sequence."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    issued_on = models.DateField()
    number = AutoSequenceField(
        unique_with="customer",
        format=Format("customer-doc", prefix="C-{YYYY}-", padding=3, reset="yearly"),
        date_field="issued_on",
    )


class Quote(models.Model):
    """A format without declared defaults: it must be created in the admin."""

    series = models.ForeignKey(
        "docnumbers.NumberFormat", null=True, blank=True, on_delete=models.PROTECT
    )
    number = AutoSequenceField(format="quote", series_field="series")


class Ticket(models.Model):
    """Formatted, no date_field: the issue date drives the period."""

    title = models.CharField(max_length=50, blank=True)
    number = AutoSequenceField(format=Format("ticket", prefix="T{YYYY}{MM}{DD}-", reset="daily"))


class LateInvoice(models.Model):
    """Late allocation: the number is taken inside COMMIT on PostgreSQL."""

    issued_on = models.DateField()
    number = AutoSequenceField(
        format=Format("late-invoice", prefix="L-{YYYY}-", padding=4, reset="yearly"),
        date_field="issued_on",
        late=True,
    )


class LateTicket(models.Model):
    queue = models.CharField(max_length=20)
    number = AutoSequenceField(unique_with="queue", late=True)


class InvoiceProxy(Invoice):
    """A proxy: saves through it number like the concrete model."""

    class Meta:
        proxy = True


class LateInvoiceProxy(LateInvoice):
    class Meta:
        proxy = True


class CreditNote(Invoice):
    """A multi-table child of a numbered model: it shares the invoice sequence."""

    reason = models.CharField(max_length=100, blank=True)


class LateInvoiceChild(LateInvoice):
    note = models.CharField(max_length=100, blank=True)


class SimpleProxy(SimpleModel):
    """A proxy of a plain field's model (its INSERT takes the number on PostgreSQL)."""

    class Meta:
        proxy = True


class SimpleChild(SimpleModel):
    """A multi-table child of a plain field's model: the parent's INSERT numbers it."""

    note = models.CharField(max_length=100, blank=True)


class NumberedDocument(models.Model):
    """An abstract base that declares the numbered field: its concrete children number."""

    issued_on = models.DateField()
    number = AutoSequenceField(
        format=Format("receipt", prefix="R-{YYYY}-", padding=3, reset="yearly"),
        date_field="issued_on",
    )

    class Meta:
        abstract = True


class Receipt(NumberedDocument):
    """Numbered through its abstract base."""

    payer = models.CharField(max_length=50, blank=True)


class Doc(models.Model):
    """A formatted parent whose multi-table child has a plain number of its own (#18)."""

    issued_on = models.DateField()
    number = AutoSequenceField(
        format=Format("doc", prefix="DOC-{YYYY}-", padding=3, reset="yearly"),
        date_field="issued_on",
    )


class DocChild(Doc):
    """Numbered twice: the parent's formatted number, and its own plain one."""

    child_number = AutoSequenceField()


class Ledger(models.Model):
    """Scoped by a plain field whose name ends in ``_id`` (not a foreign key)."""

    external_id = models.CharField(max_length=20)
    number = AutoSequenceField(unique_with="external_id")


class DraftInvoice(models.Model):
    """A draft has no number; the save that posts it issues one (#21)."""

    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT)
    issued_on = models.DateField()
    status = models.CharField(max_length=10, default="draft")
    note = models.CharField(max_length=50, blank=True)
    number = AutoSequenceField(
        format=Format("draft-invoice", prefix="D-{YYYY}-", padding=4, reset="yearly"),
        date_field="issued_on",
        issue_when=Q(status="posted"),
    )


class DraftTicket(models.Model):
    """A plain, scoped number issued once ``posted`` is set (#21)."""

    queue = models.CharField(max_length=20)
    posted = models.BooleanField(default=False)
    number = AutoSequenceField(unique_with="queue", issue_when=Q(posted=True))


class ChronoInvoice(models.Model):
    """A chronological series: a later number never carries an earlier date (#21)."""

    issued_on = models.DateField()
    status = models.CharField(max_length=10, default="draft")
    number = AutoSequenceField(
        format=Format("chrono", prefix="CH-{YYYY}-", padding=3, reset="yearly"),
        date_field="issued_on",
        issue_when=Q(status="posted"),
        chronological=True,
    )


class LateDraft(models.Model):
    """Late and drafts: numbered at COMMIT only if posted then (PostgreSQL) (#21)."""

    issued_on = models.DateField()
    status = models.CharField(max_length=10, default="draft")
    number = AutoSequenceField(
        format=Format("late-draft", prefix="LD-{YYYY}-", padding=4, reset="yearly"),
        date_field="issued_on",
        late=True,
        issue_when=Q(status="posted"),
    )


class LateQuote(models.Model):
    """Late, with every input of the COMMIT trigger: a series field, a foreign-key scope, a
    datetime read in TIME_ZONE and a fiscal year (#19)."""

    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT)
    series = models.ForeignKey(
        "docnumbers.NumberFormat",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField()
    number = AutoSequenceField(
        format=Format(
            "late-quote", prefix="LQ{FY}-", padding=3, reset="fiscal", fiscal_year_start_month=4
        ),
        date_field="issued_at",
        series_field="series",
        unique_with="customer",
        late=True,
    )
