"""Daily metric counters named by their cohort (see ``shequ.cases.metrics``): one ``due`` cohort for
handling, closing and response (one handling deadline per case), and the ``due_*`` counts within it.
The (level, day) index goes: every dashboard read is served by the unique (level, node, category, day)
index, and the fill job writes one index fewer."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_seed_catalogue"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="casemetricday", name="cases_metricday_level_day_idx"),
        migrations.RenameField(model_name="casemetricday", old_name="close_due", new_name="due"),
        migrations.RemoveField(model_name="casemetricday", name="handle_due"),
        migrations.RemoveField(model_name="casemetricday", name="response_due"),
        migrations.RenameField(model_name="casemetricday", old_name="closed", new_name="due_closed"),
        migrations.RenameField(
            model_name="casemetricday", old_name="closed_on_time", new_name="due_closed_on_time"
        ),
        migrations.RenameField(
            model_name="casemetricday", old_name="handled_on_time", new_name="due_handled_on_time"
        ),
        migrations.RenameField(model_name="casemetricday", old_name="redone", new_name="due_redone"),
        migrations.AddField(
            model_name="casemetricday", name="due_handled", field=models.IntegerField(default=0)
        ),
    ]
