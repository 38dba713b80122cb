from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "shequ.registry"
    label = "registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .jobs import register_registry_jobs
        from .navigation import register_registry_navigation
        from .scopes import register_registry_scopes

        register_registry_scopes()
        register_registry_jobs()
        register_registry_navigation()
