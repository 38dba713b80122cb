from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from .visibility import scope_of

router = Router(tags=["accounts"])


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[str]


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(
        id=user.pk,
        username=user.get_username(),
        display_name=getattr(user, "display_name", ""),
        roles=sorted(scope_of(user).roles),
    )
