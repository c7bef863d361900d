"""Data quality: Great Expectations suites as blocking Dagster asset checks.

Every raw table and staging model gets two checks, both blocking (an ERROR stops everything
downstream; a WARN does not):

- ``gx_expectations``: keys unique and not null, timestamps after the earliest date and not
  in the future, enumerations, text not blank where required, links to other tables found;
- ``row_count_delta``: the row count against the last accepted night's.

The suites are declared in ``suites``; ``runner`` validates them. One multi-asset check per
layer and source, so a source's checks run as soon as that source is loaded. Great
Expectations is imported only when a check runs: definitions load without it.
"""

from collections.abc import Iterator, Sequence

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSpec,
    AssetKey,
    multi_asset_check,
)

from orchestration.assets.ingestion import DUCKDB_POOL
from orchestration.checks.suites import (
    RAW_SUITES,
    ROW_COUNT_CHECK,
    STAGING_SUITES,
    SUITE_CHECK,
    TableSuite,
)


def check_specs(suite: TableSuite) -> list[AssetCheckSpec]:
    """The two blocking checks of one table; linked tables are declared as extra inputs."""
    linked = dict.fromkeys(AssetKey(list(link.to)) for link in suite.links
                           if AssetKey(list(link.to)) != suite.asset_key)
    return [
        AssetCheckSpec(
            SUITE_CHECK, asset=suite.asset_key, blocking=True, additional_deps=list(linked),
            description="Great Expectations suite: keys unique and not null, timestamps in "
                        "range and not in the future, enumerations, required text, links."),
        AssetCheckSpec(
            ROW_COUNT_CHECK, asset=suite.asset_key, blocking=True,
            description="Row count within the WARN and ERROR ratios of the last accepted "
                        "night's count (kept in audit.row_counts)."),
    ]


def quality_check(name: str, suites: Sequence[TableSuite]) -> AssetChecksDefinition:
    """One multi-asset check running the suites of several tables in one step."""

    @multi_asset_check(
        specs=[spec for suite in suites for spec in check_specs(suite)],
        name=name,
        can_subset=True,
        # it reads the warehouse and writes audit.row_counts: one DuckDB writer at a time
        pool=DUCKDB_POOL,
        description=f"Quality checks of {', '.join(s.asset_key.to_user_string() for s in suites)}",
    )
    def _check(context: AssetCheckExecutionContext) -> Iterator[AssetCheckResult]:
        import duckdb

        from ingestion.settings import warehouse_path
        from orchestration.checks.runner import run_checks

        # A normal (not read-only) connection: DuckDB refuses two connections to one file
        # with different settings in one process, and this step also writes audit rows.
        con = duckdb.connect(str(warehouse_path()))
        try:
            results = list(run_checks(context.selected_asset_check_keys, suites, con,
                                      run_id=context.run.run_id))
        finally:
            con.close()
        yield from results

    return _check


def _by_source(suites: Sequence[TableSuite]) -> dict[str, list[TableSuite]]:
    grouped: dict[str, list[TableSuite]] = {}
    for suite in suites:
        grouped.setdefault(suite.source, []).append(suite)
    return grouped


quality_checks: list[AssetChecksDefinition] = [
    quality_check(f"{layer}_{source}_quality", suites)
    for layer, layer_suites in (("raw", RAW_SUITES), ("staging", STAGING_SUITES))
    for source, suites in _by_source(layer_suites).items()
]
