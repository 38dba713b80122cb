"""Daily metric counters named by their cohort (see ``shequ.cases.metrics``): one ``due`` cohort for
handling, closing and response (one handling deadline per case), and the ``due_*`` counts within it.
The (level, day) index goes: every dashboard read is served by the unique (level, node, category, day)
index, and the fill job writes one index fewer. The same counters summed per month
(``CaseMetricMonth``) serve long periods."""

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
        migrations.CreateModel(
            name="CaseMetricMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "level",
                    models.CharField(
                        choices=[
                            ("city", "全市"),
                            ("district", "区"),
                            ("street", "街镇"),
                            ("committee", "居村委"),
                            ("department", "责任单位"),
                        ],
                        max_length=12,
                    ),
                ),
                ("node", models.CharField(max_length=24)),
                ("category_code", models.CharField(blank=True, default="", max_length=8)),
                ("reported", models.IntegerField(default=0)),
                ("merged", models.IntegerField(default=0)),
                ("registered", models.IntegerField(default=0)),
                ("extended", models.IntegerField(default=0)),
                ("dispatched", models.IntegerField(default=0)),
                ("returned", models.IntegerField(default=0)),
                ("signed", models.IntegerField(default=0)),
                ("signed_in_time", models.IntegerField(default=0)),
                ("handled", models.IntegerField(default=0)),
                ("reworked", models.IntegerField(default=0)),
                ("due", models.IntegerField(default=0)),
                ("due_handled", models.IntegerField(default=0)),
                ("due_handled_on_time", models.IntegerField(default=0)),
                ("due_closed", models.IntegerField(default=0)),
                ("due_closed_on_time", models.IntegerField(default=0)),
                ("due_redone", models.IntegerField(default=0)),
                ("responded_in_time", models.IntegerField(default=0)),
                ("solved", models.IntegerField(default=0)),
                ("not_solved", models.IntegerField(default=0)),
                ("no_response", models.IntegerField(default=0)),
                ("explained", models.IntegerField(default=0)),
                ("satisfied", models.IntegerField(default=0)),
                ("basically", models.IntegerField(default=0)),
                ("unsatisfied", models.IntegerField(default=0)),
                ("month", models.DateField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("level", "node", "category_code", "month"), name="cases_metricmonth_unique"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("level__in", ["city", "district", "street", "committee", "department"])
                        ),
                        name="cases_metricmonth_level_valid",
                    ),
                ],
            },
        ),
    ]
