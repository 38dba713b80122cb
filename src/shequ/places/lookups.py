"""Divisions, compounds and grids by code, from the process's copy (``core.revisions``).

Intake turns what ``locate`` answers (codes) into the rows a case points at, on every report. The rows
are kept per process, filled on first use, and forgotten when the ``places.rows`` revision changes:
every service that changes the tree, names, activity or locations bumps it with the locate revision
(``services.geo_revision_bump``), and a division, compound or grid saved or deleted one by one anywhere
bumps it through the model signals registered in ``apps.py``.

The instances are shared by the requests of a process: read them, never change them.
"""

from __future__ import annotations

from typing import Final

from shequ.core.revisions import LookupCache

from .models import Compound, Division, Grid

ROWS_REVISION: Final = "places.rows"

_divisions: LookupCache[str, Division] = LookupCache((ROWS_REVISION,), max_size=20_000)
_compounds: LookupCache[str, Compound] = LookupCache((ROWS_REVISION,), max_size=50_000)
_grids: LookupCache[str, Grid] = LookupCache((ROWS_REVISION,), max_size=50_000)


def _division(code: str) -> Division | None:
    return Division.objects.filter(code=code).first()


def _compound(code: str) -> Compound | None:
    return Compound.objects.select_related("committee", "grid").filter(code=code).first()


def _grid(code: str) -> Grid | None:
    return Grid.objects.filter(code=code).first()


def division_by_code(code: str) -> Division | None:
    return _divisions.get(code, _division)


def compound_by_code(code: str) -> Compound | None:
    """The compound with its committee and grid (neither costs a query)."""
    return _compounds.get(code, _compound)


def grid_by_code(code: str) -> Grid | None:
    return _grids.get(code, _grid)
