"""core.revisions: tokens read once per request, copies reloaded only after a change."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.test.utils import CaptureQueriesContext

from shequ.core.models import Revision
from shequ.core.revisions import (
    LookupCache,
    RevisionCache,
    RevisionsMiddleware,
    revision_bump,
    revision_token,
    revision_tokens,
    revisions_pinned,
)
from shequ.places.lookups import ROWS_REVISION
from shequ.places.models import Division

pytestmark = pytest.mark.django_db

KEY = "test.thing"


class Loads:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        self.count += 1
        return self.count


def _bump_then_fail(before: str) -> None:
    with transaction.atomic():
        revision_bump(KEY)
        assert revision_token(KEY) != before
        raise RuntimeError


def test_a_bump_replaces_the_token_and_a_rolled_back_bump_leaves_the_old_one():
    assert revision_token(KEY) == ""
    revision_bump(KEY)
    first = revision_token(KEY)
    assert len(first) == 32
    revision_bump(KEY)
    assert revision_token(KEY) not in {"", first}
    second = revision_token(KEY)
    with pytest.raises(RuntimeError):
        _bump_then_fail(second)
    assert revision_token(KEY) == second
    assert Revision.objects.filter(key=KEY).count() == 1


def test_a_cache_loads_once_per_token():
    loads = Loads()
    cache = RevisionCache((KEY,), loads)
    assert cache.get() == 1
    assert cache.get() == 1
    revision_bump(KEY)
    assert cache.get() == 2
    assert cache.get() == 2
    revision_bump("test.other")  # another key: nothing to reload
    assert cache.get() == 2
    assert loads.count == 2


def test_a_cache_of_two_keys_reloads_when_either_changes():
    loads = Loads()
    cache = RevisionCache((KEY, "test.other"), loads)
    cache.get()
    revision_bump("test.other")
    cache.get()
    revision_bump(KEY)
    cache.get()
    assert loads.count == 3


def test_a_lookup_cache_keeps_found_values_not_misses_and_empties_on_a_change():
    calls: list[str] = []
    values = {"a": 1}

    def load(key: str) -> int | None:
        calls.append(key)
        return values.get(key)

    cache: LookupCache[str, int] = LookupCache((KEY,))
    assert cache.get("a", load) == 1
    assert cache.get("a", load) == 1
    assert cache.get("b", load) is None
    values["b"] = 2  # a row created later is found: misses are not kept
    assert cache.get("b", load) == 2
    assert calls == ["a", "b", "b"]
    values["a"] = 10
    revision_bump(KEY)
    assert cache.get("a", load) == 10


def test_a_lookup_cache_holds_at_most_its_size():
    cache: LookupCache[int, int] = LookupCache((KEY,), max_size=3)
    calls: list[int] = []

    def load(key: int) -> int:
        calls.append(key)
        return key

    for key in range(5):
        cache.get(key, load)
    cache.get(4, load)
    assert calls == [0, 1, 2, 3, 4]  # 4 was kept after the cache emptied itself at 3 entries
    cache.get(0, load)
    assert calls[-1] == 0


def test_pinned_tokens_are_read_once_and_a_bump_in_the_block_is_seen():
    revision_bump(KEY)
    loads = Loads()
    cache = RevisionCache((KEY,), loads)
    with revisions_pinned():
        with CaptureQueriesContext(connection) as captured:
            for _ in range(5):
                cache.get()
                revision_tokens()
        assert len(captured) == 1  # the tokens (the loader here reads nothing)
        assert loads.count == 1
        revision_bump(KEY)
        assert cache.get() == 2  # the block sees its own change
    outside = Loads()
    other = RevisionCache((KEY,), outside)
    with CaptureQueriesContext(connection) as captured:
        other.get()
        other.get()
    assert len(captured) == 2  # outside a block every call reads the tokens


def test_after_a_rolled_back_bump_the_block_reads_the_committed_token_again():
    revision_bump(KEY)
    committed = revision_token(KEY)
    cache = RevisionCache((KEY,), Loads())
    with revisions_pinned():
        assert cache.get() == 1
        with pytest.raises(RuntimeError):
            _bump_then_fail(committed)
        # The rolled-back token is not kept for the rest of the block: the copy loaded under the
        # committed token is what the block reads again.
        assert revision_token(KEY) == committed
        assert cache.get() == 1


def test_the_middleware_reads_the_tokens_at_most_once_per_request():
    seen: list[int] = []

    def view(request: HttpRequest) -> HttpResponse:
        with CaptureQueriesContext(connection) as captured:
            revision_tokens()
            revision_tokens()
        seen.append(len(captured))
        return HttpResponse("ok")

    middleware = RevisionsMiddleware(view)
    middleware(HttpRequest())
    middleware(HttpRequest())
    assert seen == [1, 1]  # once per request, again for the next one


def test_a_watched_model_bumps_on_save_and_delete():
    # Divisions are watched by the places app (``revision_watch`` in its ready()).
    before = revision_token(ROWS_REVISION)
    division = Division.objects.create(code="990000000000", name="测试", level="city", path="990000000000/")
    saved = revision_token(ROWS_REVISION)
    assert saved != before
    division.delete()
    assert revision_token(ROWS_REVISION) not in {before, saved}


def test_a_sign_in_does_not_bump_the_token_cache_but_a_deactivation_does():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import update_last_login

    from shequ.accounts.reference import TOKENS_REVISION

    user = get_user_model().objects.create_user(username="watched", password=None)
    before = revision_token(TOKENS_REVISION)
    update_last_login(None, user)  # what every sign-in does
    assert revision_token(TOKENS_REVISION) == before
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert revision_token(TOKENS_REVISION) != before
