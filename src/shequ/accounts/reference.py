"""API tokens and their owners, kept per process (``core.revisions``).

Every API request authenticates a bearer token. The token, its owner and whether both are usable are
kept per process by the token's digest, and forgotten when the ``accounts.tokens`` revision changes:
a token created or revoked, a user saved (deactivated, renamed …) — each through the model signals
registered in ``apps.py`` — so a revoked token or a deactivated user is refused by every process at
once. Seats (memberships) have their own revision, ``accounts.seats``, for the apps that keep them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from shequ.core.revisions import LookupCache

from .models import ApiToken, User

TOKENS_REVISION: Final = "accounts.tokens"
SEATS_REVISION: Final = "accounts.seats"


@dataclass
class TokenEntry:
    token_id: int
    owner: User  # never handed out: each request gets its own copy (``user()``)
    last_used_at: datetime | None

    def user(self) -> User:
        return copy.copy(self.owner)


def _load(digest: str) -> TokenEntry | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    return TokenEntry(token_id=token.pk, owner=token.user, last_used_at=token.last_used_at)


_tokens: LookupCache[str, TokenEntry] = LookupCache((TOKENS_REVISION,), max_size=20_000)


def token_entry(digest: str) -> TokenEntry | None:
    """The usable token with this digest (not revoked, its owner active), or None."""
    return _tokens.get(digest, _load)
