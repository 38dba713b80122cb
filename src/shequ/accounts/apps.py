from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shequ.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import scopes

        scopes.register_place_scopes()
        scopes.register_account_scopes()
