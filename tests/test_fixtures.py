"""dumpdata and loaddata: natural keys for formats and counters, rows loaded without counters.

The target is the second database ("other"), migrated like any fresh install: its
declared formats were seeded after migrate, with ids of its own.
"""

import datetime as dt
import io
import json

import pytest
from django.core import serializers
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.db import connections

from docnumbers import keys, next_value, registry
from docnumbers.apps import seed_declared_formats
from docnumbers.audit import explain_gap
from docnumbers.models import Counter, GapExplanation, NumberFormat
from tests.testapp.models import (
    Customer,
    CustomerDocument,
    Invoice,
    PerNameModel,
    Quote,
    SimpleModel,
)

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "other"])

day = dt.date.fromisoformat


def dump(path, *labels, natural=True, fmt="json"):
    """manage.py dumpdata LABELS [--natural-foreign --natural-primary] -o PATH (from default)."""
    call_command(
        "dumpdata",
        *labels,
        format=fmt,
        natural_foreign=natural,
        natural_primary=natural,
        output=str(path),
        verbosity=0,
    )
    return path


def load(path, database="other"):
    call_command("loaddata", str(path), database=database, verbosity=0)


def docnumbers(*args, database="other"):
    """manage.py docnumbers ARGS --database DATABASE: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("docnumbers", *args, "--database", database, stdout=out, stderr=err)
        status = 0
    except CommandError as exc:
        status = exc.returncode
    return status, out.getvalue(), err.getvalue()


def audit(database="other"):
    status, out, _ = docnumbers("audit", "--format", "json", "--no-progress", database=database)
    return status, json.loads(out)["sequences"]


def reseed_with_other_ids(using="other"):
    """A fresh install whose seeded formats got other ids than the source's."""
    formats = NumberFormat.objects.using(using)
    formats.all().delete()
    fillers = [formats.create(code="quote", prefix=f"FILL{i}-") for i in range(3)]
    seed_declared_formats(using=using)
    for filler in fillers:
        filler.delete()


def unrelated_counters_with_the_ids_of_default():
    """Counters in "other" with the ids of default's counters, but of another sequence."""
    for counter in Counter.objects.all():
        Counter.objects.using("other").create(
            pk=counter.pk, key=f"unrelated-{counter.pk}", sequence="unrelated", value=99
        )
    # PostgreSQL's sequence does not move past explicit ids by itself.
    other = connections["other"]
    with other.cursor() as cursor:
        for sql in other.ops.sequence_reset_sql(no_style(), [Counter]):
            cursor.execute(sql)


def numbered_rows(using):
    """Every numbered row: (model, pk, field) -> (number, display, counter natural key)."""
    rows = {}
    for field in registry.fields():
        model = field.model
        columns = ["pk", field.attname]
        if field.format_code is not None:
            columns.append(field.display_name)
        for row in model.objects.using(using).values_list(*columns):
            instance = model.objects.using(using).get(pk=row[0])
            counter = (
                getattr(instance, field.counter_name) if field.format_code is not None else None
            )
            rows[model._meta.label, row[0], field.name] = (
                *row[1:],
                counter.natural_key() if counter is not None else None,
            )
    return rows


def state(using):
    """What a dump must carry over: rows, counters, formats and gap explanations."""
    return {
        "rows": numbered_rows(using),
        "counters": {c.natural_key(): c.value for c in Counter.objects.using(using)},
        "formats": {
            f.natural_key(): (f.name, f.padding, f.reset, f.active, f.position)
            for f in NumberFormat.objects.using(using)
        },
        "explained": {
            (e.counter.natural_key(), e.first, e.last, e.reason)
            for e in GapExplanation.objects.using(using).select_related("counter")
        },
    }


def make_documents():
    """Documents of every kind in the default database, with an edited seeded format."""
    acme = Customer.objects.create(name="Acme")
    NumberFormat.objects.create(code="quote", name="Standard", prefix="Q-")
    export = NumberFormat.objects.create(code="quote", name="Export", prefix="QX-", position=1)
    Invoice.objects.create(issued_on=day("2025-12-30"), customer=acme)
    for text in ("2026-01-02", "2026-01-03", "2026-01-04"):
        Invoice.objects.create(issued_on=day(text))
    # Edited in the admin: the seeded format now reads FAC-, issued numbers keep INV-.
    NumberFormat.objects.filter(seeded_for="invoice").update(prefix="FAC-{YYYY}-")
    Invoice.objects.create(issued_on=day("2026-01-05"))
    Invoice.objects.get(invoice_number_display="INV-2026-0002").delete()
    counter = Counter.objects.get(period="2026", sequence="testapp.invoice.invoice_number")
    explain_gap(counter, 2, reason="voided before it was sent")
    CustomerDocument.objects.create(customer=acme, issued_on=day("2026-02-01"))
    Quote.objects.create()
    Quote.objects.create(series=export)
    for name in ("a", "a", "b"):
        PerNameModel.objects.create(name=name)
    SimpleModel.objects.create()
    next_value("order-ref")
    next_value("order-ref")
    return acme, export


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_natural_key_dump_round_trips_into_a_database_with_other_ids(tmp_path, fmt):
    make_documents()
    reseed_with_other_ids()
    source_invoice_format = NumberFormat.objects.get(seeded_for="invoice")
    target_invoice_format = NumberFormat.objects.using("other").get(seeded_for="invoice")
    assert source_invoice_format.pk != target_invoice_format.pk

    path = dump(tmp_path / f"dump.{fmt}", "docnumbers", "testapp", fmt=fmt)
    load(path)

    assert state("other") == state("default")
    # The seeded format that migrate created was updated, not duplicated.
    assert NumberFormat.objects.using("other").filter(code="invoice").count() == 1
    target_invoice_format.refresh_from_db()
    assert target_invoice_format.prefix == "FAC-{YYYY}-"
    # Counter keys name this database's series ids.
    for counter in Counter.objects.using("other"):
        assert counter.key == keys.key_text(
            counter.sequence, counter.number_format_id, counter.scope, counter.period
        )
    assert Counter.objects.using("other").filter(key__contains=f"#{target_invoice_format.pk}@")
    assert docnumbers("audit", "--no-progress")[0] == 0


def test_numbering_continues_the_loaded_counters(tmp_path):
    acme, _ = make_documents()
    reseed_with_other_ids()
    load(dump(tmp_path / "dump.json", "docnumbers", "testapp"))
    counters = Counter.objects.using("other").count()

    invoice = Invoice.objects.using("other").create(issued_on=day("2026-03-01"))
    assert invoice.invoice_number_display == "FAC-2026-0005"
    old_year = Invoice.objects.using("other").create(issued_on=day("2025-03-01"))
    assert old_year.invoice_number_display == "FAC-2025-0002"
    export = NumberFormat.objects.using("other").get(code="quote", prefix="QX-")
    assert Quote.objects.using("other").create(series=export).number_display == "QX-0002"
    assert Quote.objects.using("other").create().number_display == "Q-0002"
    document = CustomerDocument.objects.using("other").create(
        customer_id=acme.pk, issued_on=day("2026-05-01")
    )
    assert document.number_display == "C-2026-002"
    assert PerNameModel.objects.using("other").create(name="a").number == 3
    assert SimpleModel.objects.using("other").create().number == 2
    assert next_value("order-ref", using="other") == 3
    # Every number came from a loaded counter: no second counter for any sequence.
    assert Counter.objects.using("other").count() == counters
    assert invoice.invoice_number_counter.natural_key() == (
        "testapp.invoice.invoice_number", "", "2026", "invoice", "FAC-{YYYY}-", "", "invoice"
    )  # fmt: skip
    assert docnumbers("audit", "--no-progress")[0] == 0


def test_loading_an_older_dump_again_never_moves_a_counter_back(tmp_path):
    make_documents()
    path = dump(tmp_path / "dump.json", "docnumbers", "testapp")
    load(path)
    Invoice.objects.using("other").create(issued_on=day("2026-03-01"))
    Invoice.objects.using("other").create(issued_on=day("2026-03-02"))
    load(path)
    counter = Counter.objects.using("other").get(
        sequence="testapp.invoice.invoice_number", period="2026"
    )
    assert counter.value == 6
    assert Invoice.objects.using("other").create(issued_on=day("2026-03-03")).invoice_number == 7
    assert NumberFormat.objects.using("other").filter(code="invoice").count() == 1
    assert docnumbers("audit", "--no-progress")[0] == 0


def test_a_loaded_counter_behind_its_documents_is_moved_forward_by_sync(tmp_path):
    make_documents()
    path = dump(tmp_path / "dump.json", "docnumbers", "testapp")
    objects = json.loads(path.read_text())
    for obj in objects:
        if obj["model"] == "docnumbers.counter" and obj["fields"]["period"] == "2026":
            obj["fields"]["value"] = 1  # as if the counters were dumped before the invoices
    path.write_text(json.dumps(objects))
    reseed_with_other_ids()
    load(path)

    status, reports = audit()
    behind = [r for r in reports if r["counter_behind"]]
    assert status == 1 and [(r["counter_value"], r["highest"]) for r in behind] == [(1, 4)]
    status, out, _ = docnumbers("sync", "--apply", "--no-progress")
    assert status == 0 and "moved 1 -> 4" in out
    invoice = Invoice.objects.using("other").create(issued_on=day("2026-03-01"))
    assert invoice.invoice_number_display == "FAC-2026-0005"
    assert docnumbers("audit", "--no-progress")[0] == 0


def test_a_dump_of_the_app_alone_loads_unattributed_and_sync_links_the_rows(tmp_path):
    make_documents()
    unrelated_counters_with_the_ids_of_default()  # the dump's counter ids name other rows
    load(dump(tmp_path / "app.json", "testapp.Customer", "testapp.Invoice", natural=False))

    loaded = Invoice.objects.using("other")
    assert loaded.count() == 4
    assert not loaded.filter(invoice_number_counter__isnull=False).exists()
    status, reports = audit()
    unattributed = [r for r in reports if r["unattributed"]]
    assert [(r["period"], r["issued"], r["highest"]) for r in unattributed] == [
        ("2025", 1, 1),
        ("2026", 3, 4),
    ]
    status, out, _ = docnumbers("sync", "--no-progress")
    assert "would link 3 row(s)" in out and "Run again with --apply" in out
    assert not loaded.filter(invoice_number_counter__isnull=False).exists()

    status, out, _ = docnumbers("sync", "--apply", "--no-progress")
    assert status == 0 and "linked 3 row(s)" in out and "linked 1 row(s)" in out
    assert not loaded.filter(invoice_number_counter__isnull=True).exists()
    status, reports = audit()
    assert status == 0 and not [r for r in reports if r["unattributed"]]
    new = loaded.create(issued_on=day("2026-03-01"))
    assert new.invoice_number_display == "INV-2026-0005"  # formats were not in the dump
    assert new.invoice_number_counter_id == loaded.get(invoice_number=3).invoice_number_counter_id


def test_a_dump_without_natural_keys_keeps_links_to_counters_loaded_after_the_rows(tmp_path):
    """dumpdata without natural keys lists apps as given (or as installed): rows first here."""
    make_documents()
    NumberFormat.objects.using("other").all().delete()  # an empty database: ids are free
    unrelated_counters_with_the_ids_of_default()  # rows the dump's counters overwrite by id
    load(dump(tmp_path / "all.json", "testapp", "docnumbers", natural=False))
    assert state("other") == state("default")
    assert docnumbers("audit", "--no-progress")[0] == 0


def test_a_counter_link_of_its_own_field_and_scope_is_kept(tmp_path):
    """A dump without natural keys, loaded back into the database it came from."""
    make_documents()
    before = numbered_rows("default")
    load(dump(tmp_path / "app.json", "testapp", natural=False), database="default")
    assert numbered_rows("default") == before


def test_a_natural_key_dump_of_the_app_alone_needs_its_counters(tmp_path):
    make_documents()
    path = dump(tmp_path / "app.json", "testapp.Customer", "testapp.Invoice")
    with pytest.raises(serializers.base.DeserializationError, match="Counter matching query"):
        load(path)


def test_a_seeded_format_is_found_by_seeded_for_after_its_text_changed():
    seeded = NumberFormat.objects.get(seeded_for="invoice")
    key = seeded.natural_key()
    assert key == ("invoice", "INV-{YYYY}-", "", "invoice")
    NumberFormat.objects.filter(pk=seeded.pk).update(prefix="FAC-{YYYY}-")
    assert NumberFormat.objects.get_by_natural_key(*key) == seeded
    manual = NumberFormat.objects.create(code="quote", prefix="Q-")
    assert manual.natural_key() == ("quote", "Q-", "", "")
    assert NumberFormat.objects.get_by_natural_key(*manual.natural_key()) == manual
    with pytest.raises(NumberFormat.DoesNotExist):
        NumberFormat.objects.get_by_natural_key("quote", "Z-", "", "")


def test_a_counter_natural_key_holds_no_database_id():
    Invoice.objects.create(issued_on=day("2026-01-02"))
    counter = Counter.objects.get(sequence="testapp.invoice.invoice_number")
    series = NumberFormat.objects.get(seeded_for="invoice")
    assert counter.key == f"testapp.invoice.invoice_number#{series.pk}@2026"
    assert counter.natural_key() == (
        "testapp.invoice.invoice_number", "", "2026", "invoice", "INV-{YYYY}-", "", "invoice"
    )  # fmt: skip
    assert Counter.objects.get_by_natural_key(*counter.natural_key()) == counter
    next_value("plain")
    plain = Counter.objects.get(key="plain")
    assert plain.natural_key() == ("plain", "", "")
    assert Counter.objects.get_by_natural_key("plain", "", "") == plain
    with pytest.raises(Counter.DoesNotExist):
        Counter.objects.get_by_natural_key("plain", "", "", "nope", "", "", "")
