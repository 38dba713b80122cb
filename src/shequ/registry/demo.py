"""Demo set-up of the registry: link the demo resident's account to a synthetic person of their
committee, so that the residents' self-service and access-transparency pages have something to show.
Runs after ``shequ seed`` and ``shequ demo_accounts``; idempotent."""

from __future__ import annotations

from shequ.accounts.models import Membership, Role, User

from .models import Person, PersonStatus, ResidentLink
from .services_resident import resident_link_create

DEMO_RESIDENT = "demo_resident"
DEMO_WORKER = "demo_committee_worker"


def demo_resident_link() -> ResidentLink | None:
    """The demo resident's link (created when missing); ``None`` when the demo accounts or a synthetic
    person of their committee do not exist."""
    resident = User.objects.filter(username=DEMO_RESIDENT).first()
    worker = User.objects.filter(username=DEMO_WORKER).first()
    if resident is None or worker is None:
        return None
    existing = ResidentLink.objects.filter(user=resident).select_related("person").first()
    if existing is not None:
        return existing
    membership = (
        Membership.objects.filter(user=resident, role=Role.RESIDENT, is_active=True, division__isnull=False)
        .select_related("division")
        .first()
    )
    if membership is None or membership.division is None:
        return None
    person = (
        Person.objects.filter(
            path__startswith=membership.division.path,
            status=PersonStatus.LIVING_HERE,
            archived_at__isnull=True,
            is_synthetic=True,
            resident_link__isnull=True,
            birth_date__isnull=False,
        )
        .order_by("birth_date", "pk")
        .first()
    )
    if person is None:
        return None
    return resident_link_create(user=resident, person=person, actor=worker)
