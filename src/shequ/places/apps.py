from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "shequ.places"
    label = "places"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from shequ.core.revisions import revision_watch

        from .lookups import ROWS_REVISION
        from .models import Compound, Division, Grid

        for model in (Division, Compound, Grid):
            revision_watch(model, ROWS_REVISION)
