import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """A gap explanation made untrue by a move of its counter back is withdrawn, not deleted."""

    dependencies = [
        ("docnumbers", "0009_next_value_function"),
    ]

    operations = [
        migrations.AddField(
            model_name="gapexplanation",
            name="withdrawn_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="withdrawn at"
            ),
        ),
        migrations.AddField(
            model_name="gapexplanation",
            name="withdrawn_by_change",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="withdrawn_explanations",
                to="docnumbers.counterchange",
                verbose_name="withdrawn by the counter change",
            ),
        ),
    ]
