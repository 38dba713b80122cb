"""Background tasks of the ledger import: thin wrappers over the services (STYLE.md rule 14)."""

from __future__ import annotations

from django_tasks import task

from shequ.accounts.models import User

from .services_import import import_job_apply, import_job_validate


@task()
def import_validate_task(job_id: int) -> str:
    """Validate a large ledger; the job's ``processed_rows`` drives the progress bar."""
    return str(import_job_validate(job_id=job_id).status)


@task()
def import_apply_task(job_id: int, actor_id: int) -> str:
    """Apply a confirmed ledger, all or nothing."""
    actor = User.objects.get(pk=actor_id)
    return str(import_job_apply(job_id=job_id, actor=actor).status)
