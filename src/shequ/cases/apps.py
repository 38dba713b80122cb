from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "shequ.cases"
    label = "cases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from shequ.accounts.models import CompoundService, Organisation
        from shequ.core.revisions import revision_watch

        from .models import Category, RoutingRule
        from .reference import CATALOGUE_REVISION, ROUTING_REVISION
        from .registration import register_cases

        register_cases()
        revision_watch(Category, CATALOGUE_REVISION)
        for model in (RoutingRule, Organisation, CompoundService):
            revision_watch(model, ROUTING_REVISION)
