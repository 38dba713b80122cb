from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shequ.core"
    label = "core"
    verbose_name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from datetime import datetime, timedelta
        from typing import Any

        from django.utils.translation import gettext_lazy as _

        from .idempotency import idempotency_keys_purge
        from .navigation import nav_entry_register
        from .notifications import notifications_retry
        from .ticks import periodic_job_register

        def signed_in(user: Any) -> bool:
            return bool(getattr(user, "is_authenticated", False))

        def retry(now: datetime) -> int:
            return notifications_retry(now=now)

        def purge(now: datetime) -> int:
            return idempotency_keys_purge(now=now)

        # The inbox, for everyone signed in (base.html loads its unread badge after the page).
        nav_entry_register(order=90, label=_("消息"), url_name="core:inbox", shown_to=signed_in)
        # Pending and failed notifications are handed to the delivery task again (up to the limit).
        periodic_job_register(name="core.notifications_retry", every=timedelta(minutes=5), run=retry)
        # Idempotency keys older than SHEQU_IDEMPOTENCY_TTL_HOURS.
        periodic_job_register(name="core.idempotency_purge", every=timedelta(days=1), run=purge)
