"""Seed the dispatch catalogue (派单目录, DOMAIN.md §5) from ``shequ.cases.catalogue``.

Idempotent: a category whose code exists already is left as it is (an administrator may have edited
it).
"""

from django.db import migrations


def seed(apps, schema_editor):
    from shequ.cases.catalogue import catalogue_seed

    catalogue_seed(apps.get_model("cases", "Category"))


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
