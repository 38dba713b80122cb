from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from shequ.core import ticks
from shequ.core.models import PeriodicJobRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs(monkeypatch):
    registry: dict = {}
    monkeypatch.setattr(ticks, "_JOBS", registry)
    calls: list[str] = []

    def hourly(now):
        calls.append("hourly")
        return "ok"

    def broken(now):
        calls.append("broken")
        raise RuntimeError("disk full")

    ticks.periodic_job_register(name="a.hourly", every=timedelta(hours=1), run=hourly)
    ticks.periodic_job_register(name="b.broken", every=timedelta(hours=1), run=broken)
    return calls


def test_a_due_job_runs_once_per_period(jobs):
    with time_machine.travel("2026-11-29 10:00 +0800", tick=False):
        first = ticks.periodic_jobs_run()
        second = ticks.periodic_jobs_run()
    assert first.ran == {"a.hourly": "ok"}
    assert "a.hourly" in second.skipped
    assert jobs.count("hourly") == 1
    with time_machine.travel("2026-11-29 11:00 +0800", tick=False):
        third = ticks.periodic_jobs_run()
    assert third.ran == {"a.hourly": "ok"}
    assert jobs.count("hourly") == 2


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(jobs):
    report = ticks.periodic_jobs_run(now=timezone.now())
    assert "a.hourly" in report.ran
    assert report.failed["b.broken"].startswith("RuntimeError")
    assert PeriodicJobRun.objects.get(name="b.broken").last_error.startswith("RuntimeError")
    assert PeriodicJobRun.objects.get(name="a.hourly").last_error == ""


def test_tick_command_runs_registered_jobs(jobs, capsys):
    call_command("tick")
    out = capsys.readouterr().out
    assert "ran a.hourly" in out
    assert "reminded=0 overdue=0" in out


def test_registry_registers_its_jobs_at_app_load():
    names = {job.name for job in ticks.periodic_jobs()}
    assert {"registry.computed_tags", "registry.backflow_expiry", "registry.retention"} <= names
