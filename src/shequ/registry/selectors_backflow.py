"""Reads of back-flow datasets.

Committees see the datasets that have rows in their area, and only those rows; the moment a dataset
expires it is gone for them, whether or not the purge job has run yet (every committee read filters
``expires_at > now``). Publishing departments see their own datasets with counts — never the rows
placed in committees, nor which persons matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from shequ.accounts.models import Organisation
from shequ.accounts.visibility import scope_of, visible

from . import permissions
from .models import BackflowDataset, BackflowRow, DatasetStatus


@dataclass(frozen=True)
class DatasetEntry:
    dataset: BackflowDataset
    # Rows in the user's own area (committees); None for the publisher's view.
    area_rows: int | None
    is_publisher: bool


def _live(queryset: QuerySet[BackflowDataset], now: datetime) -> QuerySet[BackflowDataset]:
    return queryset.filter(status=DatasetStatus.ACTIVE, expires_at__gt=now)


def _publisher_ids(user: Any) -> tuple[int, ...]:
    return scope_of(user).organisation_ids


def backflow_rows_visible(*, user: Any, now: datetime) -> QuerySet[BackflowRow]:
    """The rows of live datasets in the user's area."""
    return visible(
        BackflowRow.objects.filter(dataset__status=DatasetStatus.ACTIVE, dataset__expires_at__gt=now), user
    )


def backflow_datasets_for(*, user: Any, now: datetime) -> list[DatasetEntry]:
    """The user's datasets: those published by their organisations (any status, with the stored counts)
    and the live ones with rows in their area (with the count of those rows). Three queries."""
    area_counts = dict(
        backflow_rows_visible(user=user, now=now)
        .order_by()
        .values("dataset_id")
        .annotate(n=Count("pk"))
        .values_list("dataset_id", "n")
    )
    publisher_ids = _publisher_ids(user)
    own = BackflowDataset.objects.filter(publisher_id__in=publisher_ids) if publisher_ids else None
    queryset = BackflowDataset.objects.filter(pk__in=list(area_counts))
    if own is not None:
        queryset = queryset | own
    entries = []
    for dataset in queryset.select_related("publisher").order_by("-published_at", "-pk"):
        is_publisher = dataset.publisher_id in publisher_ids
        entries.append(
            DatasetEntry(dataset=dataset, area_rows=area_counts.get(dataset.pk), is_publisher=is_publisher)
        )
    return entries


def access_backflow_dataset(*, user: Any, dataset_id: int, now: datetime) -> DatasetEntry:
    """One dataset: for its publisher in any state; for a committee only while live and only if it
    has rows in the committee's area. 404 otherwise."""
    try:
        dataset = visible(BackflowDataset.objects.select_related("publisher"), user).get(pk=dataset_id)
    except (BackflowDataset.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if dataset.publisher_id in _publisher_ids(user):
        return DatasetEntry(dataset=dataset, area_rows=None, is_publisher=True)
    if not _live(BackflowDataset.objects.filter(pk=dataset.pk), now).exists():
        raise Http404
    area_rows = backflow_rows_visible(user=user, now=now).filter(dataset=dataset).count()
    if not area_rows:
        raise Http404
    return DatasetEntry(dataset=dataset, area_rows=area_rows, is_publisher=False)


def backflow_dataset_rows(*, dataset: BackflowDataset, user: Any, now: datetime) -> QuerySet[BackflowRow]:
    """The dataset's rows in the user's area (none for a department), matched person attached."""
    return (
        backflow_rows_visible(user=user, now=now)
        .filter(dataset=dataset)
        .select_related("committee", "person")
        .order_by("committee__code", "pk")
    )


def publishable_organisations(*, user: Any) -> list[Organisation]:
    """The organisations the user may publish back-flow datasets for."""
    ids = [pk for pk in _publisher_ids(user) if permissions.can_publish_backflow(user, pk)]
    return list(Organisation.objects.filter(pk__in=ids, is_active=True).order_by("name"))
