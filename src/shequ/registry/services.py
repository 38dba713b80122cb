"""Writes to the registry.

Seeding the synthetic population: one committee per transaction, rows written with ``bulk_create``
in batches, generation one committee at a time (see ``synthetic``). A committee that already has
compounds is skipped (synthetic ones: seeded before; real ones: never mixed with invented data), so a
run can be repeated or resumed. ``reset`` removes synthetic rows only: every delete filters on
``is_synthetic=True``.
"""

from __future__ import annotations

import random
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import reset_queries, transaction
from django.utils import timezone

from shequ.core.events import event_record
from shequ.places.models import Building, Compound, Division, House
from shequ.places.services import geo_revision_bump

from .models import Household, HouseholdMember, Person
from .selectors import (
    SeedScale,
    committee_contexts,
    committees_with_compounds,
    district_boundaries,
    existing_document_numbers,
    seed_committees,
    synthetic_households_under,
    synthetic_members_under,
    synthetic_persons_under,
)
from .synthetic import (
    CommitteeContext,
    CommitteePopulation,
    Locator,
    committee_population,
    committee_rng,
    id_number_reissue,
)

BATCH_SIZE = 2000

SYNTHETIC_POPULATION_SEEDED = "SYNTHETIC_POPULATION_SEEDED"
SYNTHETIC_POPULATION_RESET = "SYNTHETIC_POPULATION_RESET"


class CommitteeOutcome:
    SEEDED = "seeded"
    ALREADY_SEEDED = "already_seeded"
    HAS_REAL_DATA = "has_real_data"


@dataclass
class CommitteeSeedResult:
    committee_code: str
    outcome: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class SeedReport:
    scale: str
    seed: int
    committees: int = 0
    seeded: int = 0
    skipped: int = 0
    deleted: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    peak_rss_mb: float = 0.0

    def add(self, result: CommitteeSeedResult) -> None:
        if result.outcome == CommitteeOutcome.SEEDED:
            self.seeded += 1
        else:
            self.skipped += 1
        for key, value in result.counts.items():
            self.counts[key] = self.counts.get(key, 0) + value


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _unique_document_numbers(population: CommitteePopulation, rng: random.Random) -> None:
    """Re-number the few generated IDs that another committee's residents already hold."""
    by_type: dict[str, dict[str, Person]] = {}
    for person in population.persons:
        by_type.setdefault(person.document_type, {})[person.id_number] = person
    for document_type, persons in by_type.items():
        taken = existing_document_numbers(document_type=document_type, numbers=persons)
        while taken:
            reissued: dict[str, Person] = {}
            for number in taken:
                person = persons.pop(number)
                while person.id_number in taken or person.id_number in persons:
                    id_number_reissue(person, rng)
                reissued[person.id_number] = person
            persons.update(reissued)
            taken = existing_document_numbers(document_type=document_type, numbers=reissued)


def synthetic_committee_seed(
    *, committee: CommitteeContext, seed: int, as_of: date, locator: Locator, actor: Any | None = None
) -> CommitteeSeedResult:
    """Generate and store the synthetic population of one committee, in one transaction."""
    with transaction.atomic():
        # Serialise concurrent runs on the same committee, then re-check under the lock.
        Division.objects.select_for_update().only("pk").get(pk=committee.committee_id)
        existing = committees_with_compounds([committee.committee_id])
        if committee.committee_id in existing:
            outcome = (
                CommitteeOutcome.HAS_REAL_DATA
                if existing[committee.committee_id]
                else CommitteeOutcome.ALREADY_SEEDED
            )
            return CommitteeSeedResult(committee_code=committee.code, outcome=outcome)
        population = committee_population(committee, seed=seed, as_of=as_of, locator=locator)
        _unique_document_numbers(population, committee_rng(seed, committee.code, "reissue"))
        Compound.objects.bulk_create(population.compounds, batch_size=BATCH_SIZE)
        Building.objects.bulk_create(population.buildings, batch_size=BATCH_SIZE)
        House.objects.bulk_create(population.houses, batch_size=BATCH_SIZE)
        Person.objects.bulk_create(population.persons, batch_size=BATCH_SIZE)
        Household.objects.bulk_create(population.households, batch_size=BATCH_SIZE)
        HouseholdMember.objects.bulk_create(population.members, batch_size=BATCH_SIZE)
        geo_revision_bump()  # new compounds with locations: locate and the kept rows see them
        counts = population.counts()
        event_record(
            subject=Division(pk=committee.committee_id),
            type=SYNTHETIC_POPULATION_SEEDED,
            actor=actor,
            data={"seed": seed, "as_of": as_of.isoformat(), **counts},
            scope_path=committee.path,
        )
    return CommitteeSeedResult(committee_code=committee.code, outcome=CommitteeOutcome.SEEDED, counts=counts)


def synthetic_committee_reset(*, committee: CommitteeContext, actor: Any | None = None) -> int:
    """Delete the synthetic rows of one committee (never a real one). Returns the rows deleted."""
    path = committee.path
    with transaction.atomic():
        Division.objects.select_for_update().only("pk").get(pk=committee.committee_id)
        deleted = synthetic_members_under(path).delete()[0]
        deleted += synthetic_households_under(path).delete()[0]
        deleted += synthetic_persons_under(path).delete()[0]
        compounds = Compound.objects.filter(committee_id=committee.committee_id, is_synthetic=True)
        deleted += House.objects.filter(building__compound__in=compounds, is_synthetic=True).delete()[0]
        deleted += Building.objects.filter(compound__in=compounds, is_synthetic=True).delete()[0]
        removed = compounds.delete()[0]
        if removed:
            geo_revision_bump()  # located compounds gone: locate and the kept rows forget them
        deleted += removed
        if deleted:
            event_record(
                subject=Division(pk=committee.committee_id),
                type=SYNTHETIC_POPULATION_RESET,
                actor=actor,
                data={"rows": deleted},
                scope_path=path,
            )
    return deleted


def synthetic_population_seed(
    *,
    scale: SeedScale,
    seed: int = 1,
    street_code: str | None = None,
    district_code: str | None = None,
    reset: bool = False,
    as_of: date | None = None,
    actor: Any | None = None,
    on_start: Callable[[int], None] | None = None,
    on_committee: Callable[[CommitteeSeedResult], None] | None = None,
) -> SeedReport:
    """Seed every committee of ``scale`` that has no compounds yet, one committee per transaction.

    ``reset`` first deletes the synthetic rows of each committee of the run. Committees are generated
    and written one at a time, so memory does not grow with the scale.
    """
    started = time.monotonic()
    as_of = as_of or timezone.localdate()
    contexts = committee_contexts(
        seed_committees(scale=scale, street_code=street_code, district_code=district_code)
    )
    report = SeedReport(scale=str(scale), seed=seed, committees=len(contexts))
    if on_start is not None:
        on_start(len(contexts))
    locator = Locator(seed=seed, boundaries=district_boundaries())
    already = {} if reset else committees_with_compounds(ctx.committee_id for ctx in contexts)
    for ctx in contexts:
        if ctx.committee_id in already:
            outcome = (
                CommitteeOutcome.HAS_REAL_DATA
                if already[ctx.committee_id]
                else CommitteeOutcome.ALREADY_SEEDED
            )
            result = CommitteeSeedResult(committee_code=ctx.code, outcome=outcome)
        else:
            if reset:
                report.deleted += synthetic_committee_reset(committee=ctx, actor=actor)
            result = synthetic_committee_seed(
                committee=ctx, seed=seed, as_of=as_of, locator=locator, actor=actor
            )
        report.add(result)
        # With DEBUG on, Django keeps every statement of the connection: drop them per committee so
        # that a long run does not accumulate them.
        reset_queries()
        if on_committee is not None:
            on_committee(result)
    report.seconds = time.monotonic() - started
    report.peak_rss_mb = peak_rss_mb()
    return report
