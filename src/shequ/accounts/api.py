"""The accounts API: who am I, the registry of organisations, personal API tokens."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from . import selectors, services
from .api_auth import VerifiedSessionAuth
from .models import ApiToken, Organisation
from .visibility import scope_of

router = Router(tags=["accounts"])

MAX_PAGE_SIZE = 200


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[str]


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(
        id=int(user.pk or 0),
        username=user.get_username(),
        display_name=getattr(user, "display_name", ""),
        roles=sorted(scope_of(user).roles),
    )


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    code: str
    sector: str
    is_active: bool
    division_code: str | None
    division_name: str | None
    parent_id: int | None

    @staticmethod
    def of(organisation: Organisation) -> OrganisationOut:
        division = organisation.division
        return OrganisationOut(
            id=organisation.pk,
            name=organisation.name,
            kind=organisation.kind,
            kind_label=str(organisation.get_kind_display()),
            code=organisation.code,
            sector=organisation.sector,
            is_active=organisation.is_active,
            division_code=division.code if division is not None else None,
            division_name=division.name if division is not None else None,
            parent_id=organisation.parent_id,
        )


class OrganisationFilter(Schema):
    kind: str = ""
    q: str = Field("", max_length=100)
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(0, ge=0)


class OrganisationPage(Schema):
    count: int
    results: list[OrganisationOut]


@router.get("/organisations", response=OrganisationPage)
def organisation_list(request: HttpRequest, filters: Query[OrganisationFilter]) -> OrganisationPage:
    qs = selectors.organisations_visible(user=request.user, kind=filters.kind, query=filters.q)
    rows = qs[filters.offset : filters.offset + filters.limit]
    return OrganisationPage(count=qs.count(), results=[OrganisationOut.of(o) for o in rows])


@router.get("/organisations/{organisation_id}", response=OrganisationOut)
def organisation_detail(request: HttpRequest, organisation_id: int) -> OrganisationOut:
    organisation = selectors.access_organisation_by_id(organisation_id=organisation_id, user=request.user)
    return OrganisationOut.of(organisation)


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @staticmethod
    def of(token: ApiToken) -> TokenOut:
        return TokenOut(
            id=token.pk,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="The raw token. Shown once; only its SHA-256 digest is stored.")


# Creating a token needs the signed-in, second-factor-verified browser session (with its CSRF token):
# a token can never mint further tokens.
@router.post("/tokens", response={201: TokenCreatedOut}, auth=VerifiedSessionAuth())
def token_create(request: HttpRequest, payload: TokenIn) -> tuple[int, TokenCreatedOut]:
    token, raw = services.api_token_create(user=request.user, name=payload.name)  # type: ignore[arg-type]
    return 201, TokenCreatedOut(**TokenOut.of(token).dict(), token=raw)


@router.get("/tokens", response=list[TokenOut])
def token_list(request: HttpRequest) -> list[TokenOut]:
    return [TokenOut.of(t) for t in selectors.api_tokens_of(user=request.user)[:MAX_PAGE_SIZE]]


@router.delete("/tokens/{token_id}", response={204: None})
def token_revoke(request: HttpRequest, token_id: int) -> tuple[int, None]:
    token = selectors.access_api_token_by_id(token_id=token_id, user=request.user)
    services.api_token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
    return 204, None
