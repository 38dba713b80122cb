"""Checks of the project's own invariants (STYLE.md rule 15), run with the suite.

- State changes only in services: no ``.status =`` / ``.state =`` assignment outside ``services*.py``
  and migrations.
- Views never fetch protected objects with raw ``objects.get`` or ``get_object_or_404``: they go through
  the visibility module's access functions.
- No naive datetimes: ``datetime.now()``/``datetime.utcnow()`` without a timezone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2]

STATE_ASSIGNMENT = re.compile(r"\.\s*(status|state)\s*=(?!=)")
RAW_FETCH = re.compile(r"\b(get_object_or_404|\.objects\.get\()")
NAIVE_NOW = re.compile(r"datetime\.(utcnow\(\)|now\(\))")


def _python_files(*, exclude_tests: bool = True):
    for path in SRC.rglob("*.py"):
        parts = set(path.parts)
        if "migrations" in parts or (exclude_tests and ("tests" in parts or "tests_browser" in parts)):
            continue
        yield path


def _offending_lines(paths, pattern):
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if pattern.search(code):
                found.append(f"{path.name}:{number}: {line.strip()}")
    return found


def test_state_is_assigned_only_in_services():
    paths = [p for p in _python_files() if not p.name.startswith("services")]
    assert _offending_lines(paths, STATE_ASSIGNMENT) == []


def test_views_fetch_protected_objects_only_through_access_functions():
    paths = [p for p in _python_files() if p.name == "views.py" or p.parent.name == "views"]
    assert _offending_lines(paths, RAW_FETCH) == []


def test_no_naive_datetime_now():
    paths = [p for p in _python_files(exclude_tests=False) if p.name != Path(__file__).name]
    assert _offending_lines(paths, NAIVE_NOW) == []


@pytest.mark.parametrize("pattern", [STATE_ASSIGNMENT, RAW_FETCH, NAIVE_NOW])
def test_the_checks_themselves_catch_violations(tmp_path, pattern):
    sample = tmp_path / "views.py"
    sample.write_text(
        "case.status = 'closed'\nobj = Case.objects.get(pk=1)\nnow = datetime.now()\n", encoding="utf-8"
    )
    assert _offending_lines([sample], pattern)
