"""What must hold before a night starts: usable settings, a real salt, a free warehouse.

:func:`preflight` is what ``rapport check`` prints, what ``rapport run`` / ``backfill`` refuse to
start without, and what the schedule asks before it launches a night. Inside a run, the ingest
and dbt assets check their own part again (:func:`source_or_fail`, :func:`dbt_config_or_fail`),
so a run launched from the Dagster UI stops at once with the same message. Configuration errors
are raised by :func:`configuration_failure`: never retried, and never recorded as a failed
night of the data (the published status stays as it is).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dagster import DagsterEvent, Failure, MetadataValue

from ingestion.configuration import INVALID, SourceConfig, check_source, check_sources
from orchestration.days import window_problem

SALT_ENV = "RAPPORT_CONTACT_KEY_SALT"
DEMO_SALT = "rapport-demo"  # the dbt macro's fallback; public, so only the demo may use it
DEMO_ENV = "RAPPORT_DEMO"
NO_SOURCE = ("no source is configured: set at least one (README 'Configuration'; `rapport "
             "check` lists each source's first setting), or try the demo data with "
             "`rapport run --demo`")
# Marks a Failure as a configuration problem (read by the failure sensor and the CLI).
CONFIGURATION_ERROR = "configuration_error"


@dataclass
class Report:
    """The outcome of the checks: per-source states and the problems that block a night."""

    sources: dict[str, SourceConfig]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """What to print: a line per source, then every problem."""
        out = [f"  {c.summary()}" for c in self.sources.values()]
        return out + [f"  ERROR {p}" for p in self.problems]


def is_demo() -> bool:
    """A demo night (``rapport demo``, ``--demo``, or ``make replay``'s settings)."""
    return os.environ.get(DEMO_ENV) == "1"


def salt_problem() -> str | None:
    """Why the pseudonymisation salt cannot be used for this night, or None."""
    salt = os.environ.get(SALT_ENV, "")
    if is_demo():
        return None
    if not salt or salt == DEMO_SALT:
        which = "is not set" if not salt else "is the demo's public salt"
        return (f"{SALT_ENV} {which}: set it to a long secret of your own (it pseudonymises "
                f"every person in the marts; anyone who knows it can recompute the keys), e.g. "
                f"`export {SALT_ENV}=$(openssl rand -hex 32)`, and keep it: changing it "
                f"changes every contact_key")
    if len(salt) < 16:
        return f"{SALT_ENV} is shorter than 16 characters: use a long random secret"
    return None


SEEDS_ENV = "RAPPORT_SEEDS_DIR"
# Seeds every night reads: a team's folder is a copy of dbt_project/seeds with its own values.
REQUIRED_SEEDS = ("owned_accounts.csv", "teams.csv", "sla_policies.csv", "mrm_tag_rules.csv")


def seeds_problem() -> str | None:
    """Why ``$RAPPORT_SEEDS_DIR`` (a team's business config) cannot be used, or None.

    dbt writes every seed it loads to ``target/run/rapport/<seed path>``; for an absolute path
    or one more than two levels above ``dbt_project/`` that is outside ``target/``, over the
    team's own CSVs, so dbt_project.yml refuses such a value and so does this check."""
    from ingestion.settings import REPO_ROOT

    value = os.environ.get(SEEDS_ENV)
    if not value:
        return None
    if Path(value).is_absolute() or Path(value).parts[:3] == ("..", "..", ".."):
        return (f"{SEEDS_ENV}={value} must be relative to dbt_project/ and at most two levels "
                f"above it (e.g. ../../my-team/seeds for a folder beside the repository): dbt "
                f"writes each seed it loads to target/run/rapport/<that path>")
    folder = (REPO_ROOT / "dbt_project" / value).resolve()
    if not folder.is_dir():
        return f"{SEEDS_ENV}={value}: no folder {folder} (copy dbt_project/seeds there)"
    missing = [name for name in REQUIRED_SEEDS if not (folder / name).is_file()]
    if missing:
        return (f"{SEEDS_ENV}={value}: {folder} lacks {', '.join(missing)} (start from a copy "
                f"of dbt_project/seeds)")
    return None


def preflight(start: str | None = None, end: str | None = None) -> Report:
    """Every check a night needs before it starts (see the module docstring)."""
    report = Report(check_sources())
    for config in report.sources.values():
        if config.state == INVALID:
            report.problems += [f"{config.source}: {p}" for p in config.problems]
    if not any(c.configured for c in report.sources.values()) and not [
            c for c in report.sources.values() if c.state == INVALID]:
        report.problems.append(NO_SOURCE)
    for problem in (salt_problem(), seeds_problem(), window_problem(start, end)):
        if problem:
            report.problems.append(problem)
    return report


def configuration_failure(message: str) -> Failure:
    """A run failure that is a configuration problem: not retried, not a failed night."""
    return Failure(description=f"configuration: {message}", allow_retries=False,
                   metadata={CONFIGURATION_ERROR: MetadataValue.bool(True)})


def source_or_fail(source: str) -> SourceConfig:
    """The source's configuration state, checked as the first thing an ingest step does.

    Raises a configuration failure when the source's settings are invalid, when the salt or
    the seeds cannot be used (no work is done for a night that cannot finish), or when no
    source at all is configured (a night would replace the published marts with empty ones).
    """
    config = check_source(source)
    if config.state == INVALID:
        raise configuration_failure(f"{source}: " + "; ".join(config.problems))
    dbt_config_or_fail()
    if not config.configured and not any(c.configured for c in check_sources().values()):
        raise configuration_failure(NO_SOURCE)
    return config


def dbt_config_or_fail() -> None:
    """Raise a configuration failure when the salt or the team's seeds cannot be used."""
    for problem in (salt_problem(), seeds_problem()):
        if problem:
            raise configuration_failure(problem)


def configuration_problems(failures: Iterable[DagsterEvent]) -> list[str]:
    """What the configuration failures among ``failures`` say (empty if there are none)."""
    out = []
    for event in failures:
        data = event.step_failure_data.user_failure_data if event.step_failure_data else None
        if data is not None and CONFIGURATION_ERROR in (data.metadata or {}):
            out.append(data.description or "configuration error")
    return out
