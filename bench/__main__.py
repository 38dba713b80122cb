"""``python -m bench [NAME …]``: run the benchmarks (all by default) and update docs/performance.md."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shequ.config.settings.test")

    from bench import MODULES, REGISTRY
    from bench.runner import write

    for module in MODULES:
        importlib.import_module(module)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default all: {', '.join(sorted(REGISTRY))})"
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print the figures without updating the document"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(sorted(REGISTRY))}")
    names = args.names or sorted(REGISTRY)
    results = {}
    for name in names:
        print(f"== {name}", flush=True)
        figures = REGISTRY[name].func()
        for label, value in figures.rows:
            print(f"  {label}: {value}")
        results[name] = figures
    if not args.no_write:
        print(f"wrote {write(results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
