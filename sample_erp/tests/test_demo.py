"""Smoke tests of the sample_erp demo: run them on SQLite, PostgreSQL and MariaDB.

.venv/bin/pytest sample_erp/tests -p no:cacheprovider --ds=sample_erp.settings
"""

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from docnumbers.models import Counter, NumberFormat
from sample_erp.invoicing.management.commands.stress_invoices import Command as Stress
from sample_erp.invoicing.models import CreditNote, Customer, Invoice, InvoiceLine, Order

RUN_PY = Path(__file__).resolve().parent.parent / "run.py"


def numbers(model, **filters):
    return set(model.objects.filter(**filters).values_list("number_display", flat=True))


def test_migrations_match_the_models(db):
    call_command("makemigrations", "invoicing", check=True, dry_run=True, stdout=io.StringIO())


def test_migrate_seeds_the_declared_formats(db):
    codes = set(NumberFormat.objects.values_list("code", flat=True))
    assert {"invoice", "customer-invoice", "credit-note", "order"} <= codes


def test_demo_data_twice_adds_nothing(db):
    out = io.StringIO()
    call_command("load_demo_data", stdout=out)
    assert "records created" in out.getvalue()
    counts = [m.objects.count() for m in (Customer, Invoice, InvoiceLine, CreditNote, Order)]
    counters = list(Counter.objects.values_list("key", "value"))
    out = io.StringIO()
    call_command("load_demo_data", stdout=out)
    assert "already loaded" in out.getvalue()
    assert [m.objects.count() for m in (Customer, Invoice, InvoiceLine, CreditNote, Order)] == (
        counts
    )
    assert list(Counter.objects.values_list("key", "value")) == counters


def test_demo_data_shows_every_feature(demo_data):
    # The year boundary, and the back-dated invoice that takes 2025's next number.
    assert numbers(Invoice, issued_on__year=2025, series=None) == {
        "INV-2025-0001",
        "INV-2025-0002",
        "INV-2025-0003",
        "INV-2025-0004",
    }
    late = Invoice.objects.get(subject="December delivery, booked late")
    assert late.number_display == "INV-2025-0004"
    assert late.pk == Invoice.objects.filter(issued_on__year=2025).latest("pk").pk
    assert "INV-2026-0001" in numbers(Invoice, issued_on__year=2026)
    # A second series of the invoice code.
    assert numbers(Invoice, series__name="Export") == {"EXP-2026-0001"}
    # Per-customer numbers.
    acme = Invoice.objects.filter(customer__code="acme", status="posted").order_by("pk")
    assert [i.customer_number_display for i in acme] == ["2025/001", "2025/002", "2026/001"]
    # Drafts wait for their numbers.
    drafts = Invoice.objects.filter(status="draft")
    assert set(drafts.values_list("number", "number_display", "customer_number")) == {
        (None, None, None)
    }
    assert drafts.count() == 2
    # Credit notes have their own series; orders start again every month.
    assert numbers(CreditNote) == {"CN-2025-0001", "CN-2026-0001", "CN-2026-0002"}
    assert numbers(Order) == {
        "ORD-202601-001",
        "ORD-202601-002",
        "ORD-202601-003",
        "ORD-202602-001",
        "ORD-202602-002",
    }
    assert Customer.objects.order_by("pk").first().account_number == 10001


def test_demo_user_twice(db):
    for _ in range(2):
        out = io.StringIO()
        call_command("demo_user", stdout=out)
        assert "DEMO ONLY" in out.getvalue()
    from django.contrib.auth import authenticate

    user = authenticate(username="demo", password="demo")
    assert user is not None and user.is_superuser


def admin_urls():
    """Every changelist and add page of the admin, docnumbers' own models included."""
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if model_admin.has_add_permission(_superuser_request()):
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    return urls


def _superuser_request():
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = User(is_superuser=True, is_staff=True, is_active=True)
    return request


def test_admin_registers_docnumbers_and_every_demo_model():
    registered = {m._meta.label for m in admin.site._registry}
    assert {"invoicing.Customer", "invoicing.Invoice", "invoicing.CreditNote"} <= registered
    assert "invoicing.Order" in registered
    assert {"docnumbers.NumberFormat", "docnumbers.Counter"} <= registered


def test_admin_pages(admin_client, demo_data):
    urls = admin_urls()
    for model in (Customer, Invoice, CreditNote, Order, NumberFormat, Counter):
        if model in admin.site._registry:
            opts = model._meta
            obj = model.objects.order_by("pk").first()
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    urls.append(reverse("admin:invoicing_invoice_changelist") + "?q=INV-2026-0001")
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url
    response = admin_client.get(reverse("admin:invoicing_invoice_changelist"))
    assert b"INV-2025-0004" in response.content


def test_public_pages(client, demo_data):
    invoice = Invoice.objects.get(number_display="INV-2025-0004")
    for url in ("/", reverse("invoice-list"), reverse("invoice-list") + "?q=INV-2025"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"INV-2025-0004" in response.content
    response = client.get(invoice.get_absolute_url())
    assert response.status_code == 200
    assert b"INV-2025-0004" in response.content
    assert b"INITECH 2025/001" in response.content
    credited = Invoice.objects.get(subject="Hosting, December 2025")
    assert b"CN-2025-0001" in client.get(credited.get_absolute_url()).content
    assert client.get(reverse("invoice-detail", args=[999999])).status_code == 404


def test_admin_add_a_draft_then_post_it(admin_client, demo_data):
    """The tour: an invoice added in the admin is a draft; posting it issues its numbers."""
    globex = Customer.objects.get(code="globex")
    data = {
        "customer": globex.pk,
        "issued_on": "2026-05-04",
        "subject": "Added through the admin",
        "series": "",
        "status": "draft",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-description": "Support hours",
        "lines-0-quantity": "3",
        "lines-0-unit_price": "80.00",
        "credit_notes-TOTAL_FORMS": "0",
        "credit_notes-INITIAL_FORMS": "0",
        "credit_notes-MIN_NUM_FORMS": "0",
        "credit_notes-MAX_NUM_FORMS": "0",
    }
    response = admin_client.post(reverse("admin:invoicing_invoice_add"), data)
    assert response.status_code == 302, response.context and response.context.get("errors")
    invoice = Invoice.objects.get(subject="Added through the admin")
    assert (invoice.number_display, invoice.customer_number_display) == (None, None)
    assert invoice.lines.count() == 1
    # Posted one by one: its form, Status "Posted", save.
    change = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
    lines = {
        "lines-INITIAL_FORMS": "1",
        "lines-0-id": str(invoice.lines.get().pk),
        "lines-0-invoice": str(invoice.pk),
    }
    response = admin_client.post(change, {**data, **lines, "status": "posted"})
    assert response.status_code == 302, response.context and response.context.get("errors")
    invoice.refresh_from_db()
    assert invoice.number_display == "INV-2026-0005"
    assert invoice.customer_number_display == "2026/002"
    # The next one, dated in 2025, is posted with the list's action: 2025's next number.
    data.update(issued_on="2025-12-15", subject="Another late one")
    assert admin_client.post(reverse("admin:invoicing_invoice_add"), data).status_code == 302
    late = Invoice.objects.get(subject="Another late one")
    response = admin_client.post(
        reverse("admin:invoicing_invoice_changelist"),
        {"action": "post_drafts", "_selected_action": [late.pk]},
    )
    assert response.status_code == 302
    assert Invoice.objects.get(pk=late.pk).number_display == "INV-2025-0005"


@pytest.mark.django_db(transaction=True)
def test_stress_command_no_duplicate_no_gap():
    out = io.StringIO()
    call_command("stress_invoices", invoices=40, workers=4, no_progress=True, stdout=out)
    text = out.getvalue()
    print(text)
    assert "  duplicates           0" in text, text
    assert "  gaps                 0" in text, text
    assert "OK: 40 numbers" in text, text
    created = Invoice.objects.filter(subject__startswith="Load test ")
    assert created.count() == 40
    assert sorted(created.values_list("number", flat=True)) == list(range(1, 41))
    # Its own series: the demo's INV- numbers are untouched.
    assert {text[:5] for text in created.values_list("number_display", flat=True)} == {"LOAD-"}
    assert NumberFormat.objects.series_of("invoice").first().prefix != "LOAD-{YYYY}-"

    out = io.StringIO()
    call_command("stress_invoices", cleanup=True, stdout=out)
    assert "Removed 40 load-test invoice(s)" in out.getvalue()
    assert not Invoice.objects.filter(subject__startswith="Load test ").exists()
    assert not NumberFormat.objects.filter(prefix="LOAD-{YYYY}-").exists()
    assert not Customer.objects.filter(code="load-test").exists()
    # The removed customer's account number is an explained gap, not a hole.
    from docnumbers.audit import audit

    assert all(not report.gaps for report in audit())


@pytest.mark.django_db
def test_stress_check_finds_a_gap():
    customer = Customer.objects.create(code="gap", name="Gap")
    invoices = [
        Invoice.objects.create(
            customer=customer, issued_on=dt.date(2026, 6, 1), subject=f"x {i}", status="posted"
        )
        for i in range(3)
    ]
    invoices[1].delete()
    created = Invoice.objects.filter(customer=customer)
    duplicates, missing = Stress().check_field(created, "number", before={})
    assert duplicates == [] and missing == [2]


@pytest.mark.django_db
def test_stress_command_fails_on_bad_arguments():
    with pytest.raises(CommandError):
        call_command("stress_invoices", invoices=0, stdout=io.StringIO())


def test_run_py_twice(tmp_path):
    """The one command, without the server, twice in a row on a fresh SQLite file."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}
    outputs = []
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, str(RUN_PY), "--no-server"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        outputs.append(result.stdout)
    assert "records created" in outputs[0]
    assert "already loaded" in outputs[1]
    assert "DEMO ONLY" in outputs[1] and "Username: demo" in outputs[1]
