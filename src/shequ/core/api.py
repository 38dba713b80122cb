from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

router = Router(tags=["core"])


class HealthOut(Schema):
    status: str


@router.get("/health", response=HealthOut, auth=None)
def health(request: HttpRequest) -> HealthOut:
    return HealthOut(status="ok")
