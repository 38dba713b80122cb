from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shequ.accounts"
    label = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from shequ.core.revisions import revision_watch

        from . import scopes
        from .models import ApiToken, Membership, User
        from .reference import SEATS_REVISION, TOKENS_REVISION

        revision_watch(ApiToken, TOKENS_REVISION)
        revision_watch(User, TOKENS_REVISION, ignore=("last_login",))  # not on every sign-in
        revision_watch(Membership, SEATS_REVISION)

        scopes.register_place_scopes()
        scopes.register_account_scopes()
