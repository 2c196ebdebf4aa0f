"""The documents of a small ERP, each numbered by docnumbers.

Every option of AutoSequenceField appears once:

- Customer.account_number: a plain integer sequence with ``start_at``;
- Invoice.number: INV-{YYYY}-0001, reset every year by the invoice date, with a
  ``series_field`` so that an invoice may pick another series (Export, EXP-...);
  an invoice starts as a draft without a number and takes it when it is posted
  (``issue_when``);
- Invoice.customer_number: each customer's own yearly count (``unique_with``);
- CreditNote.number: a series of its own, CN-{YYYY}-0001;
- Order.number: ORD-{YYYY}{MM}-001, reset every month by the order's local date.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum
from django.urls import reverse
from django.utils import timezone

from docnumbers import AutoSequenceField, Format

MONEY = {"max_digits": 12, "decimal_places": 2}


class Customer(models.Model):
    code = models.SlugField(unique=True, help_text="A short unique name, for example 'acme'.")
    name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    account_number = AutoSequenceField(
        start_at=10001, help_text="Given on creation: 10001, 10002, ..."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Invoice(models.Model):
    series = models.ForeignKey(
        "docnumbers.NumberFormat",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        limit_choices_to={"code": "invoice"},
        help_text="Keep the default series (the first active one under Number formats), "
        "or pick another.",
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    issued_on = models.DateField(
        default=timezone.localdate, help_text="Its year picks the number's year and counter."
    )
    subject = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10,
        choices=[("draft", "Draft"), ("posted", "Posted")],
        default="draft",
        help_text="A draft has no number yet; posting it issues the next one.",
    )
    number = AutoSequenceField(
        format=Format("invoice", prefix="INV-{YYYY}-", padding=4, reset="yearly"),
        date_field="issued_on",
        series_field="series",
        issue_when=Q(status="posted"),
    )
    customer_number = AutoSequenceField(
        unique_with="customer",
        format=Format("customer-invoice", prefix="{YYYY}/", padding=3, reset="yearly"),
        date_field="issued_on",
        verbose_name="customer's no.",
        issue_when=Q(status="posted"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # By the integer, not the text: FAC-2026-0011 after INV-2026-0005 of the same day.
        ordering = ["-issued_on", "-number"]

    def __str__(self):
        if self.number_display:
            return self.number_display
        if self.pk is not None:
            return f"Draft invoice #{self.pk}: {self.subject}"
        return f"Invoice (not saved yet) for {self.customer_id}"

    def get_absolute_url(self):
        return reverse("invoice-detail", args=[self.pk])

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines.all()), Decimal("0.00"))

    @staticmethod
    def total_expression():
        """The invoice total for ``annotate()``: one query for a whole list."""
        return Sum(
            ExpressionWrapper(
                F("lines__quantity") * F("lines__unit_price"), output_field=DecimalField(**MONEY)
            )
        )


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("1"))
    unit_price = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.description

    @property
    def amount(self) -> Decimal:
        return (self.quantity or 0) * (self.unit_price or 0)


class CreditNote(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_notes")
    invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        help_text="The invoice this note cancels or corrects, if any.",
    )
    issued_on = models.DateField(default=timezone.localdate)
    reason = models.CharField(max_length=200)
    amount = models.DecimalField(**MONEY)
    number = AutoSequenceField(
        format=Format("credit-note", prefix="CN-{YYYY}-", padding=4, reset="yearly"),
        date_field="issued_on",
    )

    class Meta:
        # By the integer, not the text: FAC-2026-0011 after INV-2026-0005 of the same day.
        ordering = ["-issued_on", "-number"]

    def __str__(self):
        return self.number_display or "Credit note (not saved yet)"

    def clean(self):
        if self.invoice_id and self.customer_id and self.invoice.customer_id != self.customer_id:
            raise ValidationError({"invoice": "This invoice belongs to another customer."})


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    placed_at = models.DateTimeField(
        default=timezone.now, help_text="Its local month picks the number's month and counter."
    )
    description = models.CharField(max_length=200)
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    number = AutoSequenceField(
        format=Format("order", prefix="ORD-{YYYY}{MM}-", padding=3, reset="monthly"),
        date_field="placed_at",
    )

    class Meta:
        ordering = ["-placed_at"]

    def __str__(self):
        return self.number_display or "Order (not saved yet)"
