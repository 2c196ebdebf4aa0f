"""NumberFormat (the admin-edited format of a series), Counter (one row per sequence)
and the audit records."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from . import clock, collisions, formatting, keys, labels, registry
from .columns import ExactCharField
from .exceptions import FormatMissing


class NumberFormatQuerySet(models.QuerySet):
    """The series of format codes: which one numbers a new document, and seeding."""

    def series_of(self, code: str):
        """The active series of ``code``, in the admin's order (the first is the default)."""
        return self.filter(code=code, active=True).order_by("position", "pk")

    def default_series(self, code: str, defaults: formatting.Format | None = None):
        """The first active series of ``code``, created from ``defaults`` if none exists.

        Raises FormatMissing, naming what to do, when every series is inactive or
        there is none and no defaults are declared.
        """
        series = self.series_of(code).first()
        if series is not None:
            return series
        if self.filter(code=code).exists():
            raise FormatMissing(
                f"Every series of the number format {code!r} is inactive; "
                "activate one in the admin (Number formats)."
            )
        if defaults is None:
            raise FormatMissing(
                f"There is no number format with the code {code!r}. Add one in the admin "
                f'(Number formats), or declare its defaults: format=Format("{code}", prefix=...).'
            )
        return self.seed(defaults)

    def seed(self, defaults: formatting.Format):
        """Create the NumberFormat declared in code, once, even with concurrent callers."""
        try:
            with transaction.atomic(using=self.db):
                return self.create(seeded_for=defaults.code, active=True, **defaults.as_dict())
        except IntegrityError:
            series = self.filter(seeded_for=defaults.code).first()
            if series is None or series.code != defaults.code or not series.active:
                raise FormatMissing(
                    f"The number format {defaults.code!r} was changed or deactivated in the "
                    "admin; activate a series of that code."
                ) from None
            return series

    def get_by_natural_key(self, code, prefix="", suffix="", seeded_for=""):
        """The format a fixture names (see ``NumberFormat.natural_key``).

        A seeded format is found by ``seeded_for`` even where its text was edited,
        so loading a dump updates the one ``migrate`` created instead of adding one.
        """
        if seeded_for:
            seeded = self.filter(seeded_for=seeded_for).first()
            if seeded is not None:
                return seeded
        return self.get(code=code, prefix=prefix, suffix=suffix)


class NumberFormat(models.Model):
    """How the numbers of one series are rendered: prefix, padding, suffix and reset.

    Several formats may share a ``code``: each one is a series with its own
    counter, and the first active one by ``position`` is the default.
    """

    code = models.SlugField(
        _("code"),
        max_length=50,
        help_text=_("The name a field refers to with format=..., for example 'invoice'."),
    )
    name = models.CharField(
        _("series name"),
        max_length=100,
        blank=True,
        help_text=_("Shown when a document picks its series, for example 'Export'."),
    )
    prefix = models.CharField(_("prefix"), max_length=formatting.MAX_TEMPLATE_LENGTH, blank=True)
    suffix = models.CharField(_("suffix"), max_length=formatting.MAX_TEMPLATE_LENGTH, blank=True)
    padding = models.PositiveSmallIntegerField(
        _("padding"),
        default=4,
        validators=[MinValueValidator(0), MaxValueValidator(formatting.MAX_PADDING)],
        help_text=_("Minimum number of digits; the number is filled with zeros."),
    )
    reset = models.CharField(
        _("reset"),
        max_length=10,
        choices=formatting.Reset.CHOICES,
        default=formatting.Reset.NEVER,
        help_text=_("When the number starts again at its first value."),
    )
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        _("first month of the fiscal year"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0, db_index=True)
    #: Set on the row created from a field's declared defaults, so that two
    #: processes seeding the same code at once cannot create two series.
    seeded_for = models.CharField(max_length=50, null=True, blank=True, unique=True, editable=False)

    objects = NumberFormatQuerySet.as_manager()

    class Meta:
        # django-admin-sortable2 orders by the first field of Meta.ordering.
        ordering = ["position", "pk"]
        verbose_name = _("number format")
        verbose_name_plural = _("number formats")

    def __str__(self):
        # No sample number here: the next number depends on the counter (see the admin).
        return f"{self.code}: {self.name}" if self.name else self.code

    def natural_key(self):
        """How fixtures name a format, the same in every database: ``(code, prefix,
        suffix, seeded_for)``. A seeded format is the one with its ``seeded_for``;
        any other is known by its code, prefix and suffix, which no other series of
        the code may share (they would read the same)."""
        return (self.code, self.prefix, self.suffix, self.seeded_for or "")

    def as_format(self) -> formatting.Format:
        return formatting.Format(
            code=self.code,
            prefix=self.prefix,
            suffix=self.suffix,
            padding=self.padding,
            reset=self.reset,
            fiscal_year_start_month=self.fiscal_year_start_month,
        )

    def example(self, day=None, number: int = 1) -> str:
        """The text number ``number`` would get on ``day`` (today by default)."""
        try:
            return self.as_format().render(day or clock.today(), number)
        except formatting.TemplateError:
            return "?"

    def clean_fields(self, exclude=None):
        # Django's IntegerField would quietly turn 4.5 into 4 and True into 1 here.
        # Left as given, they are refused by clean(), with Format.validate's message.
        not_ints = {
            name
            for name in ("padding", "fiscal_year_start_month")
            if isinstance(getattr(self, name), (bool, float))
        }
        super().clean_fields(exclude=set(exclude or ()) | not_ints)

    def clean(self):
        errors = {}
        for name in ("prefix", "suffix"):
            try:
                formatting.parse(getattr(self, name))
            except formatting.TemplateError as exc:
                errors[name] = ValidationError(exc.message, code=exc.code)
        if not errors:
            try:
                self.as_format().validate()
            except formatting.TemplateError as exc:
                field = {"padding": "padding", "reset": "reset"}.get(exc.code, "prefix")
                if exc.code == "fiscal_month":
                    field = "fiscal_year_start_month"
                errors[field] = ValidationError(exc.message, code=exc.code)
        codes = registry.codes()
        if self.code and self.code not in codes:
            known = ", ".join(sorted(codes)) or _("none yet")
            errors["code"] = ValidationError(
                _(
                    "No document type uses the code %(code)s, so this format would never "
                    "number anything. Codes you can use: %(known)s. A new code is added "
                    "by a developer, in a model field (AutoSequenceField(format=...))."
                ),
                code="unused_code",
                params={"code": self.code, "known": known},
            )
        if self.code and not errors:
            same_text = NumberFormat.objects.filter(
                code=self.code, prefix=self.prefix, suffix=self.suffix
            ).exclude(pk=self.pk)
            if same_text.exists():
                errors["prefix"] = ValidationError(
                    _(
                        "Another series of %(code)s already uses this prefix and suffix; "
                        "its numbers would read the same. Give this series its own prefix."
                    ),
                    code="same_as_series",
                    params={"code": self.code},
                )
        if self.code and not errors:
            # A changed prefix, suffix, padding, reset or fiscal month must not make the
            # next numbers read like issued ones (issue #11).
            errors.update(collisions.validation_errors(self))
        if errors:
            raise ValidationError(errors)


class CounterManager(models.Manager):
    def get_by_natural_key(self, sequence, scope="", period="", *series):
        """The counter a fixture names (see ``Counter.natural_key``), found by the key
        this database computes: its own id of the series."""
        series_id = None
        if series:
            formats = NumberFormat.objects.db_manager(self.db)
            try:
                series_id = formats.get_by_natural_key(*series).pk
            except NumberFormat.DoesNotExist:
                raise self.model.DoesNotExist(f"No number format {list(series)!r}.") from None
        return self.get(key=keys.key_text(sequence, series_id, scope, period))


class Counter(models.Model):
    """The last value issued for one sequence key. Only ``allocation`` writes it."""

    # Byte for byte on every backend: "Order" and "order" are two sequences.
    key = ExactCharField(_("key"), max_length=255, unique=True)
    value = models.BigIntegerField(_("last issued value"))
    sequence = models.CharField(_("sequence"), max_length=255, blank=True)
    scope = models.TextField(_("scope"), blank=True)
    period = models.CharField(_("period"), max_length=32, blank=True)
    number_format = models.ForeignKey(
        NumberFormat,
        verbose_name=_("number format"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="counters",
    )

    objects = CounterManager()

    class Meta:
        ordering = ["sequence", "key"]
        verbose_name = _("counter")
        verbose_name_plural = _("counters")
        permissions = [("set_next_value", _("Can set the next value of a counter"))]

    def __str__(self):
        """``Invoice: number · Export · ACME Ltd · 2026``: what the key means, for people."""
        return labels.counter_label(self, with_sequence=True)

    def natural_key(self):
        """``(sequence, scope, period, *the series' natural key)``: what ``key`` is made
        of, but the series by its natural key, since its id differs between databases."""
        series = self.number_format.natural_key() if self.number_format_id is not None else ()
        return (self.sequence, self.scope, self.period, *series)

    natural_key.dependencies = ["docnumbers.numberformat"]

    @property
    def next_value(self) -> int:
        return self.value + 1


class CounterChange(models.Model):
    """A by-hand change of a counter: who moved it, when, from what, to what and why."""

    counter = models.ForeignKey(
        Counter, verbose_name=_("sequence"), on_delete=models.PROTECT, related_name="changes"
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)
    # PROTECT: the trail outlives its authors; deactivate a user instead of deleting them.
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    #: The user's name as it was at the time of the change.
    changed_by_name = models.CharField(_("changed by (name)"), max_length=150, blank=True)
    source = models.CharField(
        _("source"),
        max_length=16,
        choices=[("admin", _("Admin")), ("sync", _("docnumbers sync")), ("code", _("Code"))],
        default="code",
    )
    old_value = models.BigIntegerField(_("old last value"))
    new_value = models.BigIntegerField(_("new last value"))
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("counter change")
        verbose_name_plural = _("counter changes")

    def __str__(self):
        return f"{self.counter}: {self.old_value} -> {self.new_value}"


class GapExplanationQuerySet(models.QuerySet):
    def in_force(self):
        """The explanations not withdrawn: what the audit and the checks rely on."""
        return self.filter(withdrawn_at__isnull=True)

    def covering(self, counter, first: int, last: int):
        """The explanations in force of ``counter`` that cover a number of ``first``..``last``."""
        return self.in_force().filter(counter=counter, first__lte=last, last__gte=first)


class GapExplanation(models.Model):
    """Why the numbers ``first``..``last`` of a counter's sequence are missing."""

    class Kind(models.TextChoices):
        VOIDED = "voided", _("Voided")
        CANCELLED = "cancelled", _("Cancelled with a credit note")
        SKIPPED = "skipped", _("Skipped on purpose")
        RENUMBERED = "renumbered", _("Renumbered (moved to another sequence)")
        OTHER = "other", _("Other")

    counter = models.ForeignKey(
        Counter,
        verbose_name=_("sequence"),
        on_delete=models.PROTECT,
        related_name="gap_explanations",
    )
    first = models.BigIntegerField(_("first missing number"))
    last = models.BigIntegerField(_("last missing number"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.VOIDED)
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    #: The user's name as it was when the explanation was recorded.
    created_by_name = models.CharField(_("recorded by (name)"), max_length=150, blank=True)
    #: Set when a move of the counter back over these numbers made the explanation
    #: untrue (they will be issued after all). Kept, never deleted: the history shows it.
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)
    withdrawn_by_change = models.ForeignKey(
        CounterChange,
        verbose_name=_("withdrawn by the counter change"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="withdrawn_explanations",
    )

    objects = GapExplanationQuerySet.as_manager()

    class Meta:
        ordering = ["counter", "first"]
        verbose_name = _("gap explanation")
        verbose_name_plural = _("gap explanations")

    def __str__(self):
        span = str(self.first) if self.first == self.last else f"{self.first}-{self.last}"
        withdrawn = " (withdrawn)" if self.withdrawn else ""
        return f"{self.counter} {span}: {self.get_kind_display()}{withdrawn}"

    def save(self, *args, **kwargs):
        if self.created_by is not None and not self.created_by_name:
            self.created_by_name = self.created_by.get_username()
        super().save(*args, **kwargs)

    def clean(self):
        if self.first is not None and self.last is not None and self.first > self.last:
            raise ValidationError(
                {"last": _("The last missing number must not be below the first.")}
            )

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def span(self) -> str:
        """``6–9``, or ``6`` for one number."""
        return str(self.first) if self.first == self.last else f"{self.first}–{self.last}"
