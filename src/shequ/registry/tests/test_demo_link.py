import pytest

from shequ.accounts.models import Role
from shequ.accounts.tests.factories import small_tree, user_with_role
from shequ.registry.demo import demo_resident_link
from shequ.registry.models import ResidentLink

from .test_resident_pages import make_id, person_in

pytestmark = pytest.mark.django_db


def test_the_demo_resident_is_linked_once_to_a_synthetic_person_of_their_committee():
    tree = small_tree()
    committee = tree.committee(1, 1, 1)
    compound = tree.compound(1, 1, 1)
    other = tree.compound(1, 1, 2)
    person_in(other, name="外居委", id_number=make_id(seq="002"), is_synthetic=True, birth_date="1930-01-01")
    person_in(compound, name="真实居民", id_number=make_id(seq="003"), birth_date="1930-01-01")
    mine = person_in(
        compound, name="合成居民", id_number=make_id(seq="004"), is_synthetic=True, birth_date="1940-05-05"
    )
    user_with_role(Role.RESIDENT, division=committee, username="demo_resident")
    user_with_role(Role.COMMITTEE_WORKER, division=committee, username="demo_committee_worker")

    link = demo_resident_link()
    assert link is not None
    assert link.person == mine
    assert demo_resident_link() == link
    assert ResidentLink.objects.count() == 1


def test_nothing_happens_without_the_demo_accounts():
    assert demo_resident_link() is None
