"""Hypothesis, stateful: saves, rollbacks, retries, copies, refused key edits, format edits
and bulk_create, mixed at random. After every step:

- every stored text is the rendering of its own number and key (customer, year), with
  the prefix in force when it was issued;
- in each sequence (customer, year) the numbers are exactly 1..n: no duplicate, no gap;
- no two documents of a customer share a text.
"""

import datetime as dt
from collections import defaultdict

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from docnumbers import NumberFrozen
from docnumbers.keys import parse_scope
from docnumbers.models import Counter, GapExplanation, NumberFormat
from tests.testapp.models import Customer, CustomerDocument

pytestmark = pytest.mark.django_db(transaction=True)

YEARS = [2025, 2026]
PREFIXES = ["C-{YYYY}-", "K-{YYYY}-"]


class Rollback(Exception):
    pass


class Documents(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.customers = [Customer.objects.create(name=n) for n in ("ACME", "Globex")]
        self.format = NumberFormat.objects.get(code="customer-doc")
        self.pending = []  # objects whose save rolled back, to be saved again
        self.saved = []
        #: pk -> the text expected for it (prefix in force at issue time)
        self.expected = {}

    def _remember(self, doc):
        prefix = self.format.prefix.replace("{YYYY}", f"{doc.issued_on.year:04d}")
        self.expected[doc.pk] = f"{prefix}{doc.number:03d}"
        self.saved.append(doc)

    @rule(customer=st.integers(0, 1), year=st.sampled_from(YEARS), rollback=st.booleans())
    def save_new(self, customer, year, rollback):
        doc = CustomerDocument(customer=self.customers[customer], issued_on=dt.date(year, 6, 1))
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
        clone = CustomerDocument.objects.get(pk=doc.pk)
        clone.pk = None
        clone.save()
        self._remember(clone)

    @rule(data=st.data())
    def edit_customer_is_refused(self, data):
        if not self.saved:
            return
        doc = CustomerDocument.objects.get(
            pk=self.saved[data.draw(st.integers(0, len(self.saved) - 1))].pk
        )
        doc.customer = next(c for c in self.customers if c.pk != doc.customer_id)
        with pytest.raises(NumberFrozen):
            doc.save()

    @rule(prefix=st.sampled_from(PREFIXES))
    def edit_format(self, prefix):
        self.format.prefix = prefix
        self.format.full_clean()
        self.format.save()

    @rule(customer=st.integers(0, 1), year=st.sampled_from(YEARS), count=st.integers(1, 4))
    def bulk(self, customer, year, count):
        docs = [
            CustomerDocument(customer=self.customers[customer], issued_on=dt.date(year, 2, 1))
            for _ in range(count)
        ]
        for doc in CustomerDocument.objects.bulk_create(docs):
            self._remember(doc)

    @invariant()
    def numbers_and_texts_are_true(self):
        sequences = defaultdict(list)
        for doc in CustomerDocument.objects.select_related("number_counter"):
            counter = doc.number_counter
            assert parse_scope(counter.scope) == {"customer": str(doc.customer_id)}
            assert counter.period == f"{doc.issued_on.year:04d}"
            assert doc.number_display == self.expected[doc.pk]
            sequences[doc.customer_id, doc.issued_on.year].append(doc.number)
        for numbers in sequences.values():
            assert sorted(numbers) == list(range(1, len(numbers) + 1))
        texts = list(CustomerDocument.objects.values_list("customer_id", "number_display"))
        assert len(texts) == len(set(texts))

    def teardown(self):
        CustomerDocument.objects.all().delete()
        GapExplanation.objects.all().delete()
        Counter.objects.all().delete()
        Customer.objects.all().delete()
        NumberFormat.objects.filter(code="customer-doc").update(prefix=PREFIXES[0])


def test_random_lifecycles_keep_every_number_and_text_true():
    run_state_machine_as_test(
        Documents,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
