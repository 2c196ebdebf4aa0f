import django.db.models.deletion
from django.db import migrations, models

import docnumbers.late


class Migration(migrations.Migration):
    dependencies = [
        ("docnumbers", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="PendingNumber",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("table_name", models.CharField(max_length=128)),
                ("pk_column", models.CharField(max_length=128)),
                ("pk_type", models.CharField(max_length=64)),
                ("pk_value", models.TextField()),
                ("number_column", models.CharField(max_length=128)),
                ("display_column", models.CharField(blank=True, max_length=128)),
                ("counter_column", models.CharField(blank=True, max_length=128)),
                ("prefix_text", models.CharField(blank=True, max_length=50)),
                ("suffix_text", models.CharField(blank=True, max_length=50)),
                ("padding", models.PositiveSmallIntegerField(default=0)),
                ("counter", models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="docnumbers.counter")),
            ],
            options={
                "verbose_name": "pending number",
                "verbose_name_plural": "pending numbers",
            },
        ),
        # The deferred constraint trigger that issues pending numbers at COMMIT (PostgreSQL only).
        migrations.RunPython(docnumbers.late.install, docnumbers.late.uninstall, elidable=False),
    ]
