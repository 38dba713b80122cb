"""Machine description and the docs/performance.md writer."""

from __future__ import annotations

import os
import platform
import re
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import Figures

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
HEADER = """# Performance

Figures measured by the benchmark suite (`make bench`, i.e. `.venv/bin/python -m bench`; one benchmark:
`.venv/bin/python -m bench locate`). Each section is rewritten when its benchmark runs and records the
machine it ran on; the other sections are kept.
"""
_SECTION = re.compile(r"<!-- bench:(?P<name>[a-z0-9_-]+) -->\n.*?<!-- /bench:(?P=name) -->\n", re.DOTALL)


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        load = "unknown"
    return {
        "CPU": cpu,
        "Cores": f"{os.cpu_count()} logical ({usable} usable by this process)",
        "RAM": ram,
        "Python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "OS": f"{platform.system()} {platform.release()} ({platform.platform(terse=True)})",
        "Load average at start (1/5/15 min)": load,
    }


def section(name: str, figures: Figures, info: dict[str, str], when: datetime) -> str:
    lines = [f"<!-- bench:{name} -->", f"## {figures.title} (`{name}`)", "", figures.description, ""]
    lines += [f"Run {when:%Y-%m-%d %H:%M %Z} on:", ""]
    lines += [f"- {key}: {value}" for key, value in info.items()]
    lines += ["", "| figure | value |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in figures.rows]
    for note in figures.notes:  # one paragraph each
        lines += ["", note]
    lines.append(f"<!-- /bench:{name} -->")
    return "\n".join(lines) + "\n"


def write(results: dict[str, Figures], path: Path = DOC) -> Path:
    """Replace (or append) the sections of the benchmarks in ``results``; keep every other section."""
    info = machine()
    when = datetime.now(ZoneInfo("Asia/Shanghai"))
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    sections = {m.group("name"): m.group(0) for m in _SECTION.finditer(existing)}
    for name, figures in results.items():
        sections[name] = section(name, figures, info, when)
    body = HEADER + "\n" + "\n".join(sections[name] for name in sorted(sections))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path
