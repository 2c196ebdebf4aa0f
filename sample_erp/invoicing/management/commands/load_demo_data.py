"""Load the demo's customers and documents; running it again adds nothing.

Each record is looked up by a natural key (a customer's code; a document's
customer and subject) and created only when missing, in the order that shows
the features: a year boundary, a back-dated invoice, a second invoice series,
a credit note series, monthly order numbers and per-customer numbers.
"""

import datetime as dt
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from docnumbers.models import NumberFormat

from ...models import CreditNote, Customer, Invoice, InvoiceLine, Order

CUSTOMERS = [
    ("acme", "ACME Corporation", "billing@acme.example"),
    ("globex", "Globex Ltd", "accounts@globex.example"),
    ("initech", "Initech", "ap@initech.example"),
    ("umbrella", "Umbrella Health", "finance@umbrella.example"),
]

EXPORT_SERIES = {"code": "invoice", "name": "Export", "prefix": "EXP-{YYYY}-"}

# (customer, date, subject, series, lines); created in this order.
INVOICES = [
    ("acme", "2025-11-14", "Consulting, November 2025", None, [("Consulting days", 4, "650.00")]),
    ("globex", "2025-12-05", "Hosting, December 2025", None, [("Managed server", 1, "240.00")]),
    (
        "acme",
        "2025-12-30",
        "Year-end maintenance",
        None,
        [("On-site maintenance", 1, "900.00"), ("Spare parts", 3, "45.50")],
    ),
    # The year boundary: the first invoice dated 2026 starts again at 0001.
    ("initech", "2026-01-02", "Licences, January 2026", None, [("Seat licence", 25, "19.00")]),
    ("acme", "2026-01-15", "Consulting, January 2026", None, [("Consulting days", 2, "650.00")]),
    ("umbrella", "2026-01-20", "Export shipment", "export", [("Lab equipment", 2, "1800.00")]),
    ("globex", "2026-02-03", "Hosting, February 2026", None, [("Managed server", 1, "240.00")]),
    # Back-dated: entered after the 2026 invoices, dated 2025: it takes 2025's next number.
    (
        "initech",
        "2025-12-31",
        "December delivery, booked late",
        None,
        [("Hardware delivered 31 December", 1, "1250.00")],
    ),
    ("umbrella", "2026-03-10", "Training", None, [("Training day", 1, "1100.00")]),
    # Drafts: no number until they are posted from the admin.
    ("globex", "2026-03-12", "Hosting, March 2026", None, [("Managed server", 1, "240.00")]),
    ("acme", "2026-03-14", "Consulting, March 2026", None, [("Consulting days", 1, "650.00")]),
]

#: Left as drafts (no number yet), to be posted in the admin.
DRAFTS = {"Hosting, March 2026", "Consulting, March 2026"}

NOTES = {
    "Licences, January 2026": "<- a new year: the counter starts again",
    "Export shipment": "<- the Export series",
    "December delivery, booked late": "<- entered after 2026's, dated 2025: 2025's next number",
}

# (customer, date, reason, amount, subject of the invoice it corrects)
CREDIT_NOTES = [
    ("globex", "2025-12-20", "Hosting outage, 3 days", "24.00", "Hosting, December 2025"),
    ("acme", "2026-01-25", "Consulting day billed twice", "650.00", "Consulting, January 2026"),
    ("globex", "2026-02-10", "Loyalty discount", "20.00", "Hosting, February 2026"),
]

# (customer, local date and time, description, subject of its invoice or None)
ORDERS = [
    ("acme", "2026-01-05 10:00", "Two consulting days", "Consulting, January 2026"),
    ("initech", "2026-01-19 14:30", "25 seat licences", None),
    # 23:30 in Paris is still January, though it is already 22:30 UTC... and Paris decides.
    ("umbrella", "2026-01-31 23:30", "Lab equipment for export", "Export shipment"),
    # A new month: order numbers start again at 001.
    ("globex", "2026-02-01 09:00", "Hosting renewal", "Hosting, February 2026"),
    ("umbrella", "2026-02-14 11:15", "Training day", "Training"),
]


def _date(text):
    return dt.date.fromisoformat(text)


def _local_datetime(text):
    return timezone.make_aware(dt.datetime.fromisoformat(text))


class Command(BaseCommand):
    help = "Load the demo customers, invoices, credit notes and orders (safe to run again)."

    def handle(self, *args, **options):
        self.created = 0
        with transaction.atomic():
            customers = self.load_customers()
            export = self.load_export_series()
            invoices = self.load_invoices(customers, export)
            self.load_credit_notes(customers, invoices)
            self.load_orders(customers, invoices)
        if self.created:
            self.stdout.write(self.style.SUCCESS(f"Demo data: {self.created} records created."))
        else:
            self.stdout.write("Demo data: already loaded, nothing to do.")
        self.print_examples()

    def load_customers(self):
        customers = {}
        for code, name, email in CUSTOMERS:
            customer, created = Customer.objects.get_or_create(
                code=code, defaults={"name": name, "email": email}
            )
            self.created += created
            customers[code] = customer
        return customers

    def load_export_series(self):
        # A second series of the code "invoice": an invoice that picks it gets EXP- numbers.
        export = NumberFormat.objects.filter(
            code=EXPORT_SERIES["code"], prefix=EXPORT_SERIES["prefix"]
        ).first()
        if export is None:
            export = NumberFormat.objects.create(
                **EXPORT_SERIES, padding=4, reset="yearly", position=1
            )
            self.created += 1
        return export

    def load_invoices(self, customers, export):
        invoices = {}
        for code, day, subject, series, lines in INVOICES:
            customer = customers[code]
            invoice = Invoice.objects.filter(customer=customer, subject=subject).first()
            if invoice is None:
                invoice = Invoice.objects.create(
                    customer=customer,
                    issued_on=_date(day),
                    subject=subject,
                    series=export if series == "export" else None,
                    status="draft" if subject in DRAFTS else "posted",
                )
                InvoiceLine.objects.bulk_create(
                    InvoiceLine(
                        invoice=invoice,
                        description=description,
                        quantity=Decimal(quantity),
                        unit_price=Decimal(price),
                    )
                    for description, quantity, price in lines
                )
                self.created += 1
            invoices[subject] = invoice
        return invoices

    def load_credit_notes(self, customers, invoices):
        for code, day, reason, amount, subject in CREDIT_NOTES:
            customer = customers[code]
            if CreditNote.objects.filter(customer=customer, reason=reason).exists():
                continue
            CreditNote.objects.create(
                customer=customer,
                invoice=invoices[subject],
                issued_on=_date(day),
                reason=reason,
                amount=Decimal(amount),
            )
            self.created += 1

    def load_orders(self, customers, invoices):
        for code, placed_at, description, subject in ORDERS:
            customer = customers[code]
            if Order.objects.filter(customer=customer, description=description).exists():
                continue
            Order.objects.create(
                customer=customer,
                placed_at=_local_datetime(placed_at),
                description=description,
                invoice=invoices[subject] if subject else None,
            )
            self.created += 1

    def print_examples(self):
        self.stdout.write("The demo invoices, in the order they were entered:")
        by_subject = {
            invoice.subject: invoice
            for invoice in Invoice.objects.filter(
                subject__in=[subject for _, _, subject, _, _ in INVOICES]
            ).select_related("customer")
        }
        for _, _, subject, _, _ in INVOICES:
            invoice = by_subject[subject]
            mine = f"{invoice.customer.code.upper()} {invoice.customer_number_display or ''}"
            note = NOTES.get(subject, "<- a draft: no number until it is posted")
            if invoice.number_display:
                note = NOTES.get(subject, "")
            number = invoice.number_display or "(draft)"
            self.stdout.write(
                f"  {number:<14} {invoice.issued_on}  {mine:<18} {subject:<32}{note}".rstrip()
            )
        notes = ", ".join(n.number_display for n in CreditNote.objects.order_by("pk")[:6])
        orders = ", ".join(o.number_display for o in Order.objects.order_by("pk")[:6])
        self.stdout.write(f"Credit notes: {notes}")
        self.stdout.write(f"Orders: {orders}")
