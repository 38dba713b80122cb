from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shequ.core"
    label = "core"
    verbose_name = "core"
    default_auto_field = "django.db.models.BigAutoField"
