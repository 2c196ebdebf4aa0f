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
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from docnumbers import AutoSequenceField, Format

MONEY = {"max_digits": 12, "decimal_places": 2}


class Customer(models.Model):
    code = models.SlugField(
        _("code"), unique=True, help_text=_("A short unique name, for example 'acme'.")
    )
    name = models.CharField(_("name"), max_length=100)
    email = models.EmailField(_("email"), blank=True)
    account_number = AutoSequenceField(
        start_at=10001,
        verbose_name=_("account number"),
        help_text=_("Given on creation: 10001, 10002, ..."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self):
        return self.name


class Invoice(models.Model):
    series = models.ForeignKey(
        "docnumbers.NumberFormat",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        limit_choices_to={"code": "invoice"},
        verbose_name=_("series"),
        help_text=_(
            "Keep the default series (the first active one under Number formats), or pick another."
        ),
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("customer"),
    )
    issued_on = models.DateField(
        _("issued on"),
        default=timezone.localdate,
        help_text=_("Its year picks the number's year and counter."),
    )
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=[("draft", _("Draft")), ("posted", _("Posted"))],
        default="draft",
        help_text=_("A draft has no number yet; posting it issues the next one."),
    )
    number = AutoSequenceField(
        verbose_name=_("number"),
        format=Format("invoice", prefix="INV-{YYYY}-", padding=4, reset="yearly"),
        date_field="issued_on",
        series_field="series",
        issue_when=Q(status="posted"),
    )
    customer_number = AutoSequenceField(
        unique_with="customer",
        format=Format("customer-invoice", prefix="{YYYY}/", padding=3, reset="yearly"),
        date_field="issued_on",
        verbose_name=_("customer's no."),
        issue_when=Q(status="posted"),
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        # By the integer, not the text: FAC-2026-0011 after INV-2026-0005 of the same day.
        ordering = ["-issued_on", "-number"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")

    def __str__(self):
        if self.number_display:
            return self.number_display
        if self.pk is not None:
            return gettext("Draft invoice %(pk)s: %(subject)s") % {
                "pk": self.pk,
                "subject": self.subject,
            }
        return gettext("Invoice (not saved yet)")

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
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="lines", verbose_name=_("invoice")
    )
    description = models.CharField(_("description"), max_length=200)
    quantity = models.DecimalField(
        _("quantity"), max_digits=10, decimal_places=2, default=Decimal("1")
    )
    unit_price = models.DecimalField(_("unit price"), **MONEY)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")

    def __str__(self):
        return self.description

    @property
    def amount(self) -> Decimal:
        return (self.quantity or 0) * (self.unit_price or 0)


class CreditNote(models.Model):
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name=_("customer"),
    )
    invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name=_("invoice"),
        help_text=_("The invoice this note cancels or corrects, if any."),
    )
    issued_on = models.DateField(_("issued on"), default=timezone.localdate)
    reason = models.CharField(_("reason"), max_length=200)
    amount = models.DecimalField(_("amount"), **MONEY)
    number = AutoSequenceField(
        verbose_name=_("number"),
        format=Format("credit-note", prefix="CN-{YYYY}-", padding=4, reset="yearly"),
        date_field="issued_on",
    )

    class Meta:
        # By the integer, not the text: FAC-2026-0011 after INV-2026-0005 of the same day.
        ordering = ["-issued_on", "-number"]
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")

    def __str__(self):
        return self.number_display or gettext("Credit note (not saved yet)")

    def clean(self):
        if self.invoice_id and self.customer_id and self.invoice.customer_id != self.customer_id:
            raise ValidationError({"invoice": gettext("This invoice belongs to another customer.")})


class Order(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    placed_at = models.DateTimeField(
        _("placed at"),
        default=timezone.now,
        help_text=_("Its local month picks the number's month and counter."),
    )
    description = models.CharField(_("description"), max_length=200)
    invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        verbose_name=_("invoice"),
    )
    number = AutoSequenceField(
        verbose_name=_("number"),
        format=Format("order", prefix="ORD-{YYYY}{MM}-", padding=3, reset="monthly"),
        date_field="placed_at",
    )

    class Meta:
        ordering = ["-placed_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")

    def __str__(self):
        return self.number_display or gettext("Order (not saved yet)")
