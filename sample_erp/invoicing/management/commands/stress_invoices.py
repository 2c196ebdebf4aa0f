"""Create invoices from concurrent workers, then prove from the database that every
number was issued exactly once and none is missing.

Each worker is a thread with its own database connection; each invoice (and its
line) is created in its own transaction, so all workers fight for the same
counter rows. The summary is computed from what the database holds afterwards.

The invoices go into a series of their own (LOAD-{YYYY}-, "Load test"), for the
customer "Load Test Ltd", so the demo's INV- numbers are left alone;
``--cleanup`` removes everything the runs made.
"""

import datetime as dt
import threading
import time
import uuid
from collections import Counter as Tally
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection, connections, transaction
from django.db.models import Count
from django.utils import timezone

from docnumbers.audit import explain_gap
from docnumbers.models import Counter, NumberFormat

from ...models import Customer, Invoice, InvoiceLine

SUBJECT = "Load test"
LOAD_SERIES = {"code": "invoice", "name": "Load test", "prefix": "LOAD-{YYYY}-", "padding": 4}
LOAD_CUSTOMER = "load-test"
# Lock conflicts after which the whole transaction is rolled back and may be tried
# again: SQLite's busy lock (before Django 5.1's IMMEDIATE mode), deadlocks elsewhere.
RETRYABLE = ("database is locked", "deadlock", "lock wait timeout")
MAX_ATTEMPTS = 20


def _retryable(exc):
    text = str(exc).lower()
    return any(marker in text for marker in RETRYABLE)


def _reason(exc):
    text = str(exc).lower()
    return next(marker for marker in RETRYABLE if marker in text)


class Progress:
    """A progress bar on a terminal, a line every tenth of the way otherwise."""

    def __init__(self, total, out, tty):
        self.total, self.out, self.tty = total, out, tty
        self.done = 0
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.next_line = 0

    def tick(self):
        with self.lock:
            self.done += 1
            if self.tty:
                self._bar()
            elif self.done >= self.next_line or self.done == self.total:
                self.out.write(f"  {self.done}/{self.total} invoices")
                self.next_line = self.done + max(1, self.total // 10)

    def _bar(self, width=40):
        filled = width * self.done // self.total
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        self.out.write(
            f"\r  [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
            f"{100 * self.done // self.total:3d}%  {rate:6.0f} invoices/s",
            ending="",
        )
        self.out.flush()

    def finish(self):
        if self.tty:
            self.out.write("")


class Command(BaseCommand):
    help = (
        "Create N invoices from K concurrent workers and check the numbers issued: "
        "no duplicate, no gap. Exits with status 1 if there is either."
    )

    def add_arguments(self, parser):
        parser.add_argument("--invoices", "-n", type=int, default=200, help="default 200")
        parser.add_argument("--workers", "-k", type=int, default=8, help="default 8")
        parser.add_argument(
            "--date",
            type=dt.date.fromisoformat,
            default=None,
            help="the invoices' date, YYYY-MM-DD (default today)",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="print lines instead of a progress bar"
        )
        parser.add_argument(
            "--cleanup",
            action="store_true",
            help="remove the load-test invoices, their series, counters and customer, and stop",
        )

    def handle(self, *args, invoices, workers, date, no_progress, cleanup, **options):
        if cleanup:
            self.cleanup()
            return
        if invoices < 1 or workers < 1:
            raise CommandError("--invoices and --workers must be 1 or more.")
        workers = min(workers, invoices)
        day = date or timezone.localdate()
        run = uuid.uuid4().hex[:8]
        customer, _ = Customer.objects.get_or_create(
            code=LOAD_CUSTOMER, defaults={"name": "Load Test Ltd"}
        )
        series = self.load_series()
        before = dict(Counter.objects.values_list("pk", "value"))
        # The connection of this thread is not used by the workers; free it meanwhile.
        connection.close()

        self.stdout.write(
            f"Creating {invoices} invoices dated {day} from {workers} concurrent workers "
            f"on {connection.vendor} (run {run})..."
        )
        tty = not no_progress and getattr(self.stdout, "isatty", lambda: False)()
        progress = Progress(invoices, self.stdout, tty)
        shares = [invoices // workers + (i < invoices % workers) for i in range(workers)]
        errors, retries = [], Tally()
        threads = [
            threading.Thread(
                target=self.work,
                args=(i, share, customer.pk, series.pk, day, run, progress, errors, retries),
                name=f"stress-worker-{i}",
            )
            for i, share in enumerate(shares)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        progress.finish()
        failed = self.summary(run, before, elapsed, errors, retries)
        if failed:
            raise CommandError(failed)

    @staticmethod
    def load_series():
        """The "Load test" series of invoices (LOAD-): last in the order, never the default."""
        last = NumberFormat.objects.order_by("-position").values_list("position", flat=True).first()
        series, _ = NumberFormat.objects.get_or_create(
            code=LOAD_SERIES["code"],
            prefix=LOAD_SERIES["prefix"],
            defaults={**LOAD_SERIES, "reset": "yearly", "position": (last or 0) + 1},
        )
        return series

    def cleanup(self):
        """Delete what the runs made: invoices, counters, the series and the customer."""
        series = NumberFormat.objects.filter(
            code=LOAD_SERIES["code"], prefix=LOAD_SERIES["prefix"]
        ).first()
        customer = Customer.objects.filter(code=LOAD_CUSTOMER).first()
        with transaction.atomic():
            invoices = Invoice.objects.filter(subject__startswith=f"{SUBJECT} ")
            count = invoices.count()
            keys = set()
            for field in ("number", "customer_number"):
                ids = invoices.values_list(f"{field}_counter", flat=True)
                keys |= set(Counter.objects.filter(pk__in=ids).values_list("key", flat=True))
            if series is not None:
                keys |= set(series.counters.values_list("key", flat=True))
            invoices.delete()  # their lines go with them
            for key in sorted(keys):
                # The customer's own counter keeps going if other invoices still use it.
                counter = Counter.objects.get(key=key)
                if not Invoice.objects.filter(number_counter=counter).exists() and not (
                    Invoice.objects.filter(customer_number_counter=counter).exists()
                ):
                    counter.changes.all().delete()
                    counter.gap_explanations.all().delete()
                    # The load test's own series goes whole; docnumbers' function API
                    # refuses a field's counter, so the row is deleted directly.
                    counter.delete()
            if series is not None and not series.counters.exists():
                series.delete()
            if customer is not None and not customer.invoices.exists():
                number = customer.account_number
                customer.delete()
                # Its account number stays a gap: say why, so the audit lists it as explained.
                account = Counter.objects.get(key="invoicing.customer.account_number")
                explain_gap(
                    account,
                    number,
                    kind="voided",
                    reason="Load-test customer removed by stress_invoices --cleanup",
                )
        self.stdout.write(f"Removed {count} load-test invoice(s), their counters and series.")

    def work(self, worker, count, customer_id, series_id, day, run, progress, errors, retries):
        """One worker: ``count`` invoices, each in its own transaction, on its own connection."""
        try:
            for i in range(count):
                for attempt in range(1, MAX_ATTEMPTS + 1):
                    try:
                        with transaction.atomic():
                            invoice = Invoice.objects.create(
                                customer_id=customer_id,
                                series_id=series_id,
                                issued_on=day,
                                subject=f"{SUBJECT} {run} worker {worker} #{i + 1}",
                                status="posted",
                            )
                            InvoiceLine.objects.create(
                                invoice=invoice,
                                description="Load test item",
                                unit_price=Decimal("1.00"),
                            )
                        break
                    except OperationalError as exc:
                        if attempt == MAX_ATTEMPTS or not _retryable(exc):
                            raise
                        retries[_reason(exc)] += 1
                        time.sleep(0.01 * attempt)
                progress.tick()
        except Exception as exc:  # reported in the summary, and the command fails
            errors.append(f"worker {worker}: {type(exc).__name__}: {exc}")
        finally:
            # Each thread opened its own connections; close them, not the others'.
            connections.close_all()

    def summary(self, run, before, elapsed, errors, retries):
        """Print what the database holds; return the failure text, or '' when all is well."""
        created = Invoice.objects.filter(subject__startswith=f"{SUBJECT} {run} ")
        issued = created.count()
        self.stdout.write("")
        self.stdout.write("Summary (from the database)")
        rate = issued / elapsed if elapsed else 0
        self.stdout.write(f"  invoices created     {issued} in {elapsed:.1f} s ({rate:.0f}/s)")
        # A transaction that met a lock conflict was rolled back whole, numbers included.
        why = ", ".join(f"{n} {reason}" for reason, n in retries.most_common())
        self.stdout.write(
            f"  transactions retried {sum(retries.values())}" + (f" ({why})" if why else "")
        )
        first_last = created.order_by("number").values_list("number_display", flat=True)
        if issued:
            self.stdout.write(f"  numbers issued       {first_last.first()} .. {first_last.last()}")
        duplicates = gaps = 0
        for field in ("number", "customer_number"):
            dup, missing = self.check_field(created, field, before)
            duplicates += len(dup)
            gaps += len(missing)
            label = str(Invoice._meta.get_field(field).verbose_name)
            detail = ""
            if dup:
                detail += f"  duplicates: {', '.join(dup[:10])}"
            if missing:
                detail += f"  missing: {', '.join(map(str, missing[:10]))}"
            self.stdout.write(f"  {label:<28} duplicates {len(dup)}, gaps {len(missing)}{detail}")
        self.stdout.write(f"  duplicates           {duplicates}")
        self.stdout.write(f"  gaps                 {gaps}")
        problems = []
        if errors:
            problems.append(f"{len(errors)} worker(s) failed: " + "; ".join(errors[:3]))
        if duplicates:
            problems.append(f"{duplicates} duplicate number(s)")
        if gaps:
            problems.append(f"{gaps} missing number(s)")
        if problems:
            self.stdout.write(self.style.ERROR("FAILED: " + "; ".join(problems)))
            return "; ".join(problems)
        self.stdout.write(
            self.style.SUCCESS(f"OK: {issued} numbers, each issued once, none missing.")
        )
        return ""

    def check_field(self, created, field, before):
        """Duplicates and missing numbers in every counter the run took numbers from.

        A counter's numbers must be exactly last-value-before-the-run + 1 ..
        its value now, each held by one invoice.
        """
        counter_col = f"{field}_counter"
        counter_ids = set(created.values_list(counter_col, flat=True).distinct())
        rows = Invoice.objects.filter(**{f"{counter_col}__in": counter_ids})
        dup = [
            f"{row[f'{field}_display']} x{row['n']}"
            for row in rows.values(f"{field}_display")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .order_by(f"{field}_display")
        ]
        missing = []
        start_at = Invoice._meta.get_field(field).start_at
        for counter in Counter.objects.filter(pk__in=counter_ids).order_by("pk"):
            held = set(rows.filter(**{counter_col: counter.pk}).values_list(field, flat=True))
            first = before.get(counter.pk, start_at - 1) + 1
            missing += [n for n in range(first, counter.value + 1) if n not in held]
        return dup, missing
