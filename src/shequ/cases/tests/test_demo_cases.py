"""`shequ demo_cases`: demo cases walked through the real services into every stage, idempotent."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from shequ.accounts.demo import demo_accounts_ensure
from shequ.accounts.tests.factories import SmallTree, small_tree
from shequ.cases.demo import demo_cases_ensure
from shequ.cases.models import Case, CaseMetricDay, CaseState

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree() -> SmallTree:
    return small_tree()


def test_demo_cases_reach_every_stage_and_a_second_run_changes_nothing(tree: SmallTree) -> None:
    demo_accounts_ensure(seed=None)
    report = demo_cases_ensure(count=16)
    assert report.created == 16
    states = set(Case.objects.values_list("state", flat=True))
    assert {CaseState.REPORTED, CaseState.REGISTERED, CaseState.HANDLING, CaseState.CLOSED} <= states
    # Every demo case lies in the demo street (南京东路街道, street (1, 2) of the small tree).
    assert set(Case.objects.values_list("street_code", flat=True)) == {"310101002000"}
    again = demo_cases_ensure(count=16)
    assert (again.created, again.existing) == (0, 16)


def test_the_command_fills_the_dashboards(tree: SmallTree) -> None:
    demo_accounts_ensure(seed=None)
    out = StringIO()
    call_command("demo_cases", "--count", "8", stdout=out)
    assert "demo cases created: 8" in out.getvalue()
    assert CaseMetricDay.objects.filter(level="street", node="310101002000", category_code="").exists()


def test_what_the_demo_stores_is_in_the_site_language_whoever_runs_it(tree: SmallTree) -> None:
    from django.utils import translation

    demo_accounts_ensure(seed=None)
    with translation.override("en"):
        demo_cases_ensure(count=16)
    results = set(Case.objects.exclude(result="").values_list("result", flat=True))
    assert results
    assert results <= {"已到场处置", "已清理完毕"}
