"""Hypothesis: random programs of saves, rollbacks, deletes, bulk_creates and imports."""

import datetime as dt
import itertools

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.testapp.models import PerNameModel

pytestmark = pytest.mark.django_db

GROUPS = ["a", "b", "c"]
_run = itertools.count()

operation = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(GROUPS)),
    st.tuples(st.just("rollback"), st.sampled_from(GROUPS)),
    st.tuples(st.just("delete"), st.sampled_from(GROUPS), st.integers(0, 50)),
    st.tuples(st.just("bulk"), st.sampled_from(GROUPS), st.integers(1, 5)),
    st.tuples(st.just("explicit"), st.sampled_from(GROUPS), st.integers(1, 40)),
)


class Rollback(Exception):
    pass


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=st.lists(operation, max_size=25))
def test_random_programs_keep_numbers_unique_and_predictable(program):
    run = next(_run)
    names = {g: f"{run}-{g}" for g in GROUPS}  # fresh sequences for every example
    counter = dict.fromkeys(GROUPS, 0)
    stored = {g: set() for g in GROUPS}
    disturbed = set()

    for op in program:
        kind, group = op[0], op[1]
        name = names[group]
        if kind == "create":
            obj = PerNameModel.objects.create(name=name)
            counter[group] += 1
            assert obj.number == counter[group]
            stored[group].add(obj.number)
        elif kind == "rollback":
            try:
                with transaction.atomic():
                    PerNameModel.objects.create(name=name)
                    raise Rollback
            except Rollback:
                pass
        elif kind == "delete":
            if stored[group]:
                number = sorted(stored[group])[op[2] % len(stored[group])]
                PerNameModel.objects.filter(name=name, number=number).delete()
                stored[group].discard(number)
                disturbed.add(group)
        elif kind == "bulk":
            objs = PerNameModel.objects.bulk_create([PerNameModel(name=name) for _ in range(op[2])])
            expected = list(range(counter[group] + 1, counter[group] + op[2] + 1))
            assert [o.number for o in objs] == expected
            counter[group] += op[2]
            stored[group].update(expected)
        elif kind == "explicit":
            value = op[2]
            if value in stored[group] or value <= counter[group]:
                # Taken, or issued and deleted: the database or the caller's
                # care decides; a taken number is always refused.
                if value in stored[group]:
                    with pytest.raises(IntegrityError), transaction.atomic():
                        PerNameModel.objects.create(name=name, number=value)
                continue
            PerNameModel.objects.create(name=name, number=value)
            stored[group].add(value)
            counter[group] = max(counter[group], value)
            disturbed.add(group)

    for group in GROUPS:
        numbers = list(
            PerNameModel.objects.filter(name=names[group])
            .order_by("number")
            .values_list("number", flat=True)
        )
        assert len(numbers) == len(set(numbers)), "duplicate number"
        assert set(numbers) == stored[group]
        if group not in disturbed:
            assert numbers == list(range(1, len(numbers) + 1)), "gap without delete or import"


LITERALS = st.text(st.sampled_from("ABCXYZ-/_.#É"), max_size=6)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    before=LITERALS,
    after=LITERALS,
    suffix=LITERALS,
    padding=st.integers(0, 8),
    day=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)),
)
def test_rendered_number_finds_its_own_document(before, after, suffix, padding, day):
    from docnumbers.models import NumberFormat
    from tests.testapp.models import Invoice

    fmt = NumberFormat.objects.get(code="invoice")
    fmt.prefix, fmt.suffix, fmt.padding = f"{before}{{YYYY}}{after}", suffix, padding
    fmt.full_clean()
    fmt.save()
    doc = Invoice.objects.create(issued_on=day)
    found = Invoice.objects.get(invoice_number_display=doc.invoice_number_display)
    assert found.pk == doc.pk
    assert found.invoice_number_display.startswith(f"{before}{day.year:04d}{after}")
