"""Hypothesis, stateful: saves, rollbacks, retries, copies (pk cleared, copy.copy, deepcopy),
deferred loads saved again, edits before COMMIT, refused key edits, format edits and
bulk_create, mixed at random. After every step:

- every stored text is the rendering of its own number and key (customer, year), with
  the prefix in force when it was issued;
- in each sequence (customer, year) the numbers are exactly 1..n: no duplicate, no gap;
- no two documents of a customer share a text.
"""

import copy as copying
import datetime as dt
import os
from collections import defaultdict

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

import docnumbers
from docnumbers import NumberFrozen
from docnumbers.keys import parse_scope
from docnumbers.models import Counter, GapExplanation, NumberFormat
from tests.testapp.models import Customer, CustomerDocument, DraftInvoice, LateDraft, LateInvoice

pytestmark = pytest.mark.django_db(transaction=True)

YEARS = [2025, 2026]


class Rollback(Exception):
    pass


class Documents(RuleBasedStateMachine):
    """Per-customer numbers taken at save time."""

    model = CustomerDocument
    code = "customer-doc"
    padding = 3
    scoped = True
    prefixes = ["C-{YYYY}-", "K-{YYYY}-"]

    def __init__(self):
        super().__init__()
        self.customers = [Customer.objects.create(name=n) for n in ("ACME", "Globex")]
        self.format = NumberFormat.objects.get(code=self.code)
        self.pending = []  # objects whose save rolled back, to be saved again
        self.saved = []
        #: pk -> the text expected for it (prefix in force at issue time)
        self.expected = {}

    def new(self, customer, day):
        if self.scoped:
            return self.model(customer=self.customers[customer], issued_on=day)
        return self.model(issued_on=day)

    def _remember(self, doc):
        prefix = self.format.prefix.replace("{YYYY}", f"{doc.issued_on.year:04d}")
        self.expected[doc.pk] = f"{prefix}{doc.number:0{self.padding}d}"
        self.saved.append(doc)

    @rule(customer=st.integers(0, 1), year=st.sampled_from(YEARS), rollback=st.booleans())
    def save_new(self, customer, year, rollback):
        doc = self.new(customer, dt.date(year, 6, 1))
        try:
            with transaction.atomic():
                doc.save()
                if rollback:
                    raise Rollback
        except Rollback:
            self.pending.append(doc)
        else:
            self._remember(doc)

    @rule(data=st.data(), move=st.booleans(), clear=st.booleans())
    def retry(self, data, move, clear):
        if not self.pending:
            return
        doc = self.pending.pop(data.draw(st.integers(0, len(self.pending) - 1)))
        if move:  # the user corrects the date before trying again
            doc.issued_on = dt.date(2025 if doc.issued_on.year == 2026 else 2026, 6, 1)
        if clear:
            doc.number = None
        with transaction.atomic():
            doc.save()
        self._remember(doc)

    @rule(data=st.data())
    def copy(self, data):
        if not self.saved:
            return
        doc = self.saved[data.draw(st.integers(0, len(self.saved) - 1))]
        clone = self.model.objects.get(pk=doc.pk)
        clone.pk = None
        clone.save()
        self._remember(clone)

    @rule(data=st.data(), how=st.sampled_from(["copy", "deepcopy"]))
    def copy_in_memory(self, data, how):
        """A copy made in memory is a new document; the original still saves as itself."""
        if not self.saved:
            return
        doc = self.model.objects.get(
            pk=self.saved[data.draw(st.integers(0, len(self.saved) - 1))].pk
        )
        clone = getattr(copying, how)(doc)
        clone.pk = None
        with transaction.atomic():
            clone.save()
        self._remember(self.model.objects.get(pk=clone.pk))
        doc.save()  # the original is untouched by its copy's save

    @rule(data=st.data(), load=st.sampled_from(["defer", "only"]))
    def deferred_load_saved_again(self, data, load):
        """A document loaded without its number and saved again keeps number and text."""
        if not self.saved:
            return
        pk = self.saved[data.draw(st.integers(0, len(self.saved) - 1))].pk
        rows = (
            self.model.objects.defer("number") if load == "defer" else self.model.objects.only("pk")
        )
        doc = rows.get(pk=pk)
        with transaction.atomic():
            doc.save()

    @rule(customer=st.integers(0, 1), year=st.sampled_from(YEARS))
    def edit_before_commit(self, customer, year):
        """Saved, then its key changed and saved again before COMMIT: refused when the number
        was taken at save time, numbered with the final key when COMMIT takes it."""
        with transaction.atomic():
            doc = self.new(customer, dt.date(year, 6, 1))
            doc.save()
            if self.scoped:
                doc.customer = self.customers[1 - customer]
            else:
                doc.issued_on = dt.date(2025 if year == 2026 else 2026, 6, 1)
            try:
                with transaction.atomic():
                    doc.save()
            except NumberFrozen:
                pass
        self._remember(self.model.objects.get(pk=doc.pk))

    @rule(data=st.data())
    def edit_key_is_refused(self, data):
        if not self.saved:
            return
        doc = self.model.objects.get(
            pk=self.saved[data.draw(st.integers(0, len(self.saved) - 1))].pk
        )
        if self.scoped:
            doc.customer = next(c for c in self.customers if c.pk != doc.customer_id)
        else:
            doc.issued_on = doc.issued_on.replace(year=2025 if doc.issued_on.year == 2026 else 2026)
        with pytest.raises(NumberFrozen):
            doc.save()

    @rule(which=st.integers(0, 1))
    def edit_format(self, which):
        self.format.prefix = self.prefixes[which]
        self.format.full_clean()
        self.format.save()

    @rule(customer=st.integers(0, 1), year=st.sampled_from(YEARS), count=st.integers(1, 4))
    def bulk(self, customer, year, count):
        docs = [self.new(customer, dt.date(year, 2, 1)) for _ in range(count)]
        with transaction.atomic():
            created = self.model.objects.bulk_create(docs)
        for doc in created:
            self._remember(self.model.objects.get(pk=doc.pk))

    @invariant()
    def numbers_and_texts_are_true(self):
        sequences = defaultdict(list)
        for doc in self.issued().select_related("number_counter"):
            counter = doc.number_counter
            scope = getattr(doc, "customer_id", None)
            assert parse_scope(counter.scope) == ({"customer": str(scope)} if self.scoped else {})
            assert counter.period == f"{doc.issued_on.year:04d}"
            assert doc.number_display == self.expected[doc.pk]
            sequences[scope, doc.issued_on.year].append(doc.number)
        for numbers in sequences.values():
            assert sorted(numbers) == list(range(1, len(numbers) + 1))
        fields = ["customer_id", "number_display"] if self.scoped else ["number_display"]
        texts = list(self.issued().values_list(*fields))
        assert len(texts) == len(set(texts))

    def issued(self):
        return self.model.objects.all()

    def teardown(self):
        self.model.objects.all().delete()
        GapExplanation.objects.all().delete()
        Counter.objects.all().delete()
        Customer.objects.all().delete()
        NumberFormat.objects.filter(code=self.code).update(prefix=self.prefixes[0])


class LateDocuments(Documents):
    """Numbers taken inside COMMIT on PostgreSQL (at save time elsewhere)."""

    model = LateInvoice
    code = "late-invoice"
    padding = 4
    scoped = False
    prefixes = ["L-{YYYY}-", "M-{YYYY}-"]


class DraftDocuments(Documents):
    """Drafts (#21): created without a number, posted one by one (a save, perhaps rolled
    back and saved again) or together (``docnumbers.issue``), deleted while drafts; every
    rule of ``Documents`` runs on documents created posted."""

    model = DraftInvoice
    code = "draft-invoice"
    padding = 4
    scoped = False
    prefixes = ["D-{YYYY}-", "E-{YYYY}-"]

    def __init__(self):
        super().__init__()
        self.drafts = []  # draft objects, as the user holds them

    def new(self, customer, day):
        return self.model(issued_on=day, status="posted")

    def issued(self):
        return self.model.objects.filter(number__isnull=False)

    @rule(year=st.sampled_from(YEARS))
    def draft(self, year):
        self.drafts.append(self.model.objects.create(issued_on=dt.date(year, 6, 1)))

    @rule(data=st.data(), rollback=st.booleans())
    def post(self, data, rollback):
        if not self.drafts:
            return
        doc = self.drafts[data.draw(st.integers(0, len(self.drafts) - 1))]
        doc.status = "posted"
        try:
            with transaction.atomic():
                doc.save()
                if rollback:
                    raise Rollback
        except Rollback:
            assert self.model.objects.get(pk=doc.pk).number is None  # still a draft
            return  # the same object is posted again later
        self.drafts.remove(doc)
        self._remember(doc)

    @rule(data=st.data())
    def post_together(self, data):
        if not self.drafts:
            return
        chosen = data.draw(st.lists(st.sampled_from(self.drafts), min_size=1, unique_by=id))
        with transaction.atomic():
            count = docnumbers.issue(
                self.model.objects.filter(pk__in=[d.pk for d in chosen]), status="posted"
            )
        assert count == len(chosen)
        for doc in chosen:
            self.drafts.remove(doc)
            self._remember(self.model.objects.get(pk=doc.pk))

    @rule(data=st.data())
    def delete_draft(self, data):
        if not self.drafts:
            return
        self.drafts.pop(data.draw(st.integers(0, len(self.drafts) - 1))).delete()

    @invariant()
    def drafts_hold_no_number(self):
        rows = self.model.objects.filter(status="draft")
        assert set(rows.values_list("number", "number_display", "number_counter")) <= {
            (None, None, None)
        }
        assert rows.count() == len(self.drafts)


class LateDraftDocuments(DraftDocuments):
    """Drafts numbered inside COMMIT once posted (PostgreSQL; at save time elsewhere)."""

    model = LateDraft
    code = "late-draft"
    prefixes = ["LD-{YYYY}-", "LE-{YYYY}-"]


@pytest.mark.parametrize(
    "machine",
    [Documents, LateDocuments, DraftDocuments, LateDraftDocuments],
    ids=["save-time", "late", "drafts", "late-drafts"],
)
def test_random_lifecycles_keep_every_number_and_text_true(machine):
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=int(os.environ.get("DOCNUMBERS_EXAMPLES", 25)),
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
