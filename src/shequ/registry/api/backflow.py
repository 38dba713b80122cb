"""Data back-flow over the API: departments publish datasets (JSON rows); committees read the rows of
their area, masked, while the dataset is live."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from shequ.accounts.models import Organisation
from shequ.accounts.visibility import access_by_id
from shequ.core.privacy import masked_value
from shequ.registry import selectors_backflow, services_backflow
from shequ.registry.models import BackflowDataset

router = Router(tags=["registry"])

MAX_PAGE_SIZE = 200
MAX_ROWS = 200_000


class DatasetOut(Schema):
    id: int
    name: str
    purpose: str
    publisher_id: int
    publisher_name: str
    published_at: datetime
    expires_at: datetime
    status: str
    is_publisher: bool
    # The publisher sees the totals; a committee sees the rows in its own area.
    row_count: int | None
    matched_count: int | None
    area_rows: int | None

    @staticmethod
    def of(entry: selectors_backflow.DatasetEntry) -> DatasetOut:
        dataset: BackflowDataset = entry.dataset
        return DatasetOut(
            id=dataset.pk,
            name=dataset.name,
            purpose=dataset.purpose,
            publisher_id=dataset.publisher_id,
            publisher_name=dataset.publisher.name,
            published_at=dataset.published_at,
            expires_at=dataset.expires_at,
            status=dataset.status,
            is_publisher=entry.is_publisher,
            row_count=dataset.row_count if entry.is_publisher else None,
            matched_count=dataset.matched_count if entry.is_publisher else None,
            area_rows=entry.area_rows,
        )


class RowOut(Schema):
    id: int
    name: str  # masked
    id_number: str  # masked
    committee_code: str | None
    committee_name: str | None
    person_id: int | None
    data: dict[str, Any]


class RowPage(Schema):
    dataset: DatasetOut
    count: int
    page: int
    page_size: int
    items: list[RowOut]


class PageQuery(Schema):
    page: int = Field(1, ge=1)
    page_size: int = Field(100, ge=1, le=MAX_PAGE_SIZE)


class PublishIn(Schema):
    publisher_id: int
    name: str = Field(..., max_length=200)
    purpose: str = Field(..., max_length=255)
    expires_at: datetime
    rows: list[dict[str, Any]] = Field(..., max_length=MAX_ROWS)


class RejectedOut(Schema):
    number: int
    committee: str
    reason: str


class PublishOut(Schema):
    dataset: DatasetOut
    rejected: list[RejectedOut]


@router.get("/backflow", response=list[DatasetOut])
def backflow_list(request: HttpRequest) -> list[DatasetOut]:
    entries = selectors_backflow.backflow_datasets_for(user=request.user, now=timezone.now())
    return [DatasetOut.of(entry) for entry in entries]


@router.get("/backflow/{dataset_id}", response=RowPage)
def backflow_rows(request: HttpRequest, dataset_id: int, query: Query[PageQuery]) -> RowPage:
    now = timezone.now()
    entry = selectors_backflow.access_backflow_dataset(user=request.user, dataset_id=dataset_id, now=now)
    queryset = selectors_backflow.backflow_dataset_rows(dataset=entry.dataset, user=request.user, now=now)
    start = (query.page - 1) * query.page_size
    rows = list(queryset[start : start + query.page_size])
    return RowPage(
        dataset=DatasetOut.of(entry),
        count=queryset.count(),
        page=query.page,
        page_size=query.page_size,
        items=[
            RowOut(
                id=row.pk,
                name=masked_value(row, "name"),
                id_number=masked_value(row, "id_number"),
                committee_code=row.committee.code if row.committee else None,
                committee_name=row.committee.name if row.committee else None,
                person_id=row.person_id,
                data=row.data,
            )
            for row in rows
        ],
    )


@router.post("/backflow", response={201: PublishOut})
def backflow_publish(request: HttpRequest, payload: PublishIn) -> tuple[int, PublishOut]:
    """Publish a dataset for ``publisher_id`` (an organisation the caller handles or heads). Rows:
    ``id_number``, ``name``, ``committee`` (12-digit code) and any other keys, kept as the row's data.
    Rows that fail validation are returned in ``rejected`` (their position and reason) and not stored."""
    publisher = access_by_id(Organisation.objects.all(), payload.publisher_id, request.user)
    result = services_backflow.backflow_publish(
        publisher=publisher,
        name=payload.name,
        purpose=payload.purpose,
        expires_at=payload.expires_at,
        rows=payload.rows,
        actor=request.user,
    )
    entry = selectors_backflow.DatasetEntry(dataset=result.dataset, area_rows=None, is_publisher=True)
    return 201, PublishOut(
        dataset=DatasetOut.of(entry),
        rejected=[
            RejectedOut(number=r.number, committee=r.committee, reason=r.reason) for r in result.rejected
        ],
    )
