from django.db import models

from docnumbers import AutoSequenceField


class Ledger(models.Model):
    """Numbered per book: the audit partitions by book, as it does for unique_with."""

    book = models.PositiveSmallIntegerField()
    number = AutoSequenceField(unique_with="book")

    class Meta:
        app_label = "audit_bench"
