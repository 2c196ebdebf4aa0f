"""The models the benchmarks write: one invoice and its lines per way of numbering."""

from django.db import models

from docnumbers import AutoSequenceField, Format

from .compat import LATE_KWARGS

#: The database sequence behind NextvalInvoice.number (PostgreSQL and MariaDB).
NEXTVAL_SEQUENCE = "benchapp_nextval_seq"


class NextVal(models.Func):
    """The next value of a database sequence, as a column default (gaps allowed)."""

    output_field = models.BigIntegerField()

    def __init__(self, sequence):
        super().__init__(sequence=sequence)

    def as_sql(self, compiler, connection, **extra_context):
        return f"nextval('{self.extra['sequence']}')", []

    def as_mysql(self, compiler, connection, **extra_context):
        return f"NEXT VALUE FOR {connection.ops.quote_name(self.extra['sequence'])}", []

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite has no sequences: the "nextval" variant is not measured there.
        return "NULL", []


class CounterInInsert(models.Func):
    """The next value of a CounterRow, taken by the INSERT itself (PostgreSQL function).

    The reference for taking a gapless number at save time in one statement: the
    counter row is locked by the INSERT and stays locked until COMMIT.
    """

    output_field = models.BigIntegerField()

    def __init__(self, name):
        super().__init__(name=name)

    def as_sql(self, compiler, connection, **extra_context):
        return f"bench_take_in_insert('{self.extra['name']}')", []

    def as_mysql(self, compiler, connection, **extra_context):
        return "0", []  # PostgreSQL only: the variant does not run here

    as_sqlite = as_mysql


class InvoiceBase(models.Model):
    customer = models.CharField(max_length=100)
    issued_on = models.DateField()
    total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        abstract = True


class LineBase(models.Model):
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=100)
    quantity = models.IntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        abstract = True


class NextvalInvoice(InvoiceBase):
    """The ceiling: a database sequence, no lock held, gaps allowed."""

    number = models.BigIntegerField(unique=True, db_default=NextVal(NEXTVAL_SEQUENCE))


class NextvalLine(LineBase):
    invoice = models.ForeignKey(NextvalInvoice, on_delete=models.CASCADE, related_name="lines")


class CounterRow(models.Model):
    """The hand-written counter of the usual approach (what django-sequences does)."""

    name = models.CharField(max_length=50, unique=True)
    value = models.BigIntegerField(default=0)


class InsertTimeInvoice(InvoiceBase):
    """Numbered by hand from CounterRow when it is inserted: the lock lasts until COMMIT."""

    number = models.BigIntegerField(unique=True)


class InsertTimeLine(LineBase):
    invoice = models.ForeignKey(InsertTimeInvoice, on_delete=models.CASCADE, related_name="lines")


class InInsertInvoice(InvoiceBase):
    """Numbered from CounterRow "in-insert" by a function call inside its INSERT."""

    number = models.BigIntegerField(unique=True, db_default=CounterInInsert("in-insert"))


class InInsertLine(LineBase):
    invoice = models.ForeignKey(InInsertInvoice, on_delete=models.CASCADE, related_name="lines")


class DefaultInvoice(InvoiceBase):
    """docnumbers with its defaults: the number is taken at save time."""

    number = AutoSequenceField()


class DefaultLine(LineBase):
    invoice = models.ForeignKey(DefaultInvoice, on_delete=models.CASCADE, related_name="lines")


class LateInvoice(InvoiceBase):
    """docnumbers with late allocation: the number is taken inside COMMIT (PostgreSQL)."""

    number = AutoSequenceField(**LATE_KWARGS)


class LateLine(LineBase):
    invoice = models.ForeignKey(LateInvoice, on_delete=models.CASCADE, related_name="lines")


class ScopedInvoice(InvoiceBase):
    """One sequence per branch."""

    branch = models.CharField(max_length=20)
    number = AutoSequenceField(unique_with="branch")


class ScopedLine(LineBase):
    invoice = models.ForeignKey(ScopedInvoice, on_delete=models.CASCADE, related_name="lines")


class RowBase(models.Model):
    customer = models.CharField(max_length=100)
    issued_on = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        abstract = True


class PlainRow(RowBase):
    """The same row without a number column."""


class HandNumberedRow(RowBase):
    """The same row with a unique number column filled by the caller: the column's own cost."""

    number = models.BigIntegerField(unique=True)


class CountedRow(RowBase):
    """A row with an unformatted docnumbers number."""

    number = AutoSequenceField()


class FormattedRow(RowBase):
    """A row with a formatted docnumbers number (number, number_display, number_counter)."""

    number = AutoSequenceField(
        format=Format("bench-row", prefix="R-{YYYY}-", padding=6), date_field="issued_on"
    )


class HandFormattedRow(RowBase):
    """FormattedRow's three columns and two unique constraints, filled by the caller.

    What the columns of a formatted number cost by themselves: the floor of the
    formatted bulk_create cell.
    """

    number = models.BigIntegerField()
    number_display = models.CharField(max_length=40, unique=True)
    number_counter = models.ForeignKey(
        "docnumbers.Counter", on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["number_counter", "number"], name="bench_handformatted_counter_number"
            )
        ]


class TextRow(RowBase):
    """The same row with its number as a plain CharField."""

    number_text = models.CharField(max_length=40)


class LateFormattedInvoice(InvoiceBase):
    """Issue 14: late allocation of a formatted number (INV-{YYYY}-, padding 6, yearly)."""

    number = AutoSequenceField(
        format=Format("bench-late", prefix="INV-{YYYY}-", padding=6, reset="yearly"),
        date_field="issued_on",
        **LATE_KWARGS,
    )


class LateFormattedLine(LineBase):
    invoice = models.ForeignKey(
        LateFormattedInvoice, on_delete=models.CASCADE, related_name="lines"
    )


class HandTriggerInvoice(InvoiceBase):
    """The reference: a hand-written deferred trigger on this table, static SQL (PostgreSQL).

    Its number and text (INV-{YYYY}-000001) come from CounterRow "hand-trigger" at COMMIT.
    """

    number = models.BigIntegerField(null=True, unique=True)
    number_display = models.CharField(max_length=40, null=True, unique=True)  # noqa: DJ001


class HandTriggerLine(LineBase):
    invoice = models.ForeignKey(HandTriggerInvoice, on_delete=models.CASCADE, related_name="lines")


class HandPlainTriggerInvoice(InvoiceBase):
    """The plain reference: a hand-written deferred trigger writes the number alone at COMMIT,
    from CounterRow "hand-plain" (PostgreSQL)."""

    number = models.BigIntegerField(null=True, unique=True)


class HandPlainTriggerLine(LineBase):
    invoice = models.ForeignKey(
        HandPlainTriggerInvoice, on_delete=models.CASCADE, related_name="lines"
    )
