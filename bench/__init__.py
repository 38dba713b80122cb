"""shequ benchmarks: ``python -m bench`` runs them all, ``python -m bench NAME …`` runs some.

Each benchmark module registers a function returning a ``Figures`` object (a description, a table of
measured figures and notes); the runner writes each benchmark's section of docs/performance.md,
keeping the sections of benchmarks that were not run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Figures:
    title: str
    description: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, label: str, value: str) -> None:
        self.rows.append((label, value))


@dataclass(frozen=True)
class Benchmark:
    name: str
    func: Callable[[], Figures]


REGISTRY: dict[str, Benchmark] = {}
MODULES = (
    "bench.cases_dashboards",
    "bench.cases_duplicates",
    "bench.cases_intake",
    "bench.locate",
    "bench.registry_import",
    "bench.registry_search",
    "bench.seed",
)


def register(name: str) -> Callable[[Callable[[], Figures]], Callable[[], Figures]]:
    def decorate(func: Callable[[], Figures]) -> Callable[[], Figures]:
        REGISTRY[name] = Benchmark(name=name, func=func)
        return func

    return decorate
