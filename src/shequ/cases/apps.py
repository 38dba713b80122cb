from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "shequ.cases"
    label = "cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .registration import register_cases

        register_cases()
