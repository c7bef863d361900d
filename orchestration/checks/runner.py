"""Run a table's suite with Great Expectations and turn the result into asset check results.

GX's SQL datasource gives wrong answers on DuckDB, so each table is read into a pandas
DataFrame (only the columns its suite needs) and validated through GX's pandas datasource.
An expectation that raised inside GX counts as failed, whatever ``success`` says. Metadata
shows ids only: never message text, handles or other content.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from dagster import (
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
)

from orchestration.checks import history
from orchestration.checks.settings import QualitySettings
from orchestration.checks.suites import (
    ERROR,
    ROW_COUNT_CHECK,
    SUITE_CHECK,
    Link,
    TableSuite,
    relation_of,
)

if TYPE_CHECKING:
    import duckdb
    import pandas as pd
    from great_expectations.core import ExpectationValidationResult
    from great_expectations.data_context import AbstractDataContext
    from great_expectations.expectations import Expectation

SAMPLE_SIZE = 5


@dataclass
class Rule:
    """One expectation and why it exists: the check it belongs to and a short rule name."""

    check: str
    rule: str
    severity: AssetCheckSeverity
    expectation: Expectation


@dataclass
class Failure:
    """A failed (or errored) expectation, as shown in the check's metadata."""

    label: str
    severity: AssetCheckSeverity
    unexpected_count: int | None = None
    sample: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def run_checks(selected: Iterable[AssetCheckKey], suites: Sequence[TableSuite],
               con: duckdb.DuckDBPyConnection, run_id: str | None = None,
               settings: QualitySettings | None = None,
               now: datetime | None = None) -> Iterator[AssetCheckResult]:
    """Validate every suite with a selected check and yield one result per selected check."""
    settings = settings or QualitySettings.from_env()
    now = now or datetime.now(UTC)
    selected = set(selected)
    context = gx_context()
    for suite in suites:
        wanted = [name for name in (SUITE_CHECK, ROW_COUNT_CHECK)
                  if AssetCheckKey(suite.asset_key, name) in selected]
        if wanted:
            yield from check_table(context, con, suite, wanted, settings, now, run_id)


def gx_context() -> AbstractDataContext:
    """An ephemeral GX context (nothing written to disk) without progress bars."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def check_table(context: AbstractDataContext, con: duckdb.DuckDBPyConnection,
                suite: TableSuite, checks: Sequence[str], settings: QualitySettings,
                now: datetime, run_id: str | None) -> list[AssetCheckResult]:
    """Results of ``checks`` for one table; an error anywhere fails all of them."""
    key = suite.asset_key.to_user_string()
    try:
        frame = read_frame(con, suite)
        baseline = history.baseline(con, key) if ROW_COUNT_CHECK in checks else None
        if baseline is not None and baseline.row_count == 0:
            baseline = None  # a night without data sets no bound: the first rows are the baseline
        if frame.empty:
            return _without_data(con, context, suite, checks, frame, settings, now, run_id,
                                 baseline)
        rules = [r for r in expectations_for(suite, frame, settings, now, baseline)
                 if r.check in checks]
        results = validate(context, suite, frame, rules)
    except Exception as error:  # noqa: BLE001 - any error is a failed check, never a crash
        return [_errored(suite, name, error) for name in checks]
    out = [_result(suite, name, results, len(frame), baseline) for name in checks]
    for result in out:
        if result.check_name == ROW_COUNT_CHECK:
            history.record(con, key, len(frame), _outcome(result), now, run_id)
    return out


NO_DATA = "no data: the table is empty, so its expectations have nothing to check"


def _without_data(con: duckdb.DuckDBPyConnection, context: AbstractDataContext,
                  suite: TableSuite, checks: Sequence[str], frame: pd.DataFrame,
                  settings: QualitySettings, now: datetime, run_id: str | None,
                  baseline: history.Baseline | None) -> list[AssetCheckResult]:
    """Results for a table that exists and holds no rows (a source not configured, an
    endpoint that returned nothing): the expectations pass with a "no data" note. Only the
    row count can fail: a table that held rows on an earlier night and is empty now is
    compared with that night as ever (raw tables are merged, so they do not shrink)."""
    out = []
    for check in checks:
        rules = [r for r in expectations_for(suite, frame, settings, now, baseline)
                 if r.check == check == ROW_COUNT_CHECK]
        result = _result(suite, check, validate(context, suite, frame, rules), 0, baseline)
        if not rules:
            result = AssetCheckResult(
                asset_key=suite.asset_key, check_name=check, passed=True,
                severity=result.severity, description=NO_DATA,
                metadata={**result.metadata, "no_data": MetadataValue.bool(True),
                          "note": MetadataValue.text(NO_DATA)})
        if check == ROW_COUNT_CHECK:
            history.record(con, suite.asset_key.to_user_string(), 0, _outcome(result), now,
                           run_id)
        out.append(result)
    return out


def read_frame(con: duckdb.DuckDBPyConnection, suite: TableSuite) -> pd.DataFrame:
    """The columns the suite needs (those that exist), plus one flag column per link:
    True when the value is found in the linked table, null when the value is null.

    A needed column that does not exist is left out, so GX reports the expectations on it
    as errors instead of the whole read failing."""
    existing = columns_of(con, suite.relation)
    if not existing:
        raise LookupError(f"{suite.relation} does not exist in the warehouse")
    wanted = dict.fromkeys([*suite.id_columns, *suite.not_null, *suite.timestamps,
                            *suite.enums, *(t.column for t in suite.text),
                            *(t.when[0] for t in suite.text if t.when)])
    select = [_quote(c) for c in wanted if c in existing]
    for link in suite.links:
        target = relation_of_link(link)
        if link.column in existing and link.to_column in columns_of(con, target):
            found = (f"exists (select 1 from {target} as p "
                     f"where p.{_quote(link.to_column)} = t.{_quote(link.column)})")
            select.append(f"case when t.{_quote(link.column)} is null then null "
                          f"else {found} end as {_quote(link_flag(link))}")
    return con.execute(f"select {', '.join(select)} from {suite.relation} as t").df()


def columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    """Column names of a table or view; empty when it does not exist."""
    schema, table = relation.split(".", 1)
    rows = con.execute("select column_name from information_schema.columns "
                       "where table_schema = ? and table_name = ?", [schema, table]).fetchall()
    return {name for (name,) in rows}


def relation_of_link(link: Link) -> str:
    """The relation a link points to."""
    return relation_of(AssetKey(list(link.to)))


def link_flag(link: Link) -> str:
    """Name of the flag column computed for a link."""
    return f"{link.column}__found_in__{link.to[-1]}__{link.to_column}"


def expectations_for(suite: TableSuite, frame: pd.DataFrame, settings: QualitySettings,
                     now: datetime, baseline: history.Baseline | None) -> list[Rule]:
    """The GX expectations declared by ``suite`` (row-count bounds only with a baseline)."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    def rule(check: str, name: str, severity: AssetCheckSeverity, expectation_cls, **kwargs):
        return Rule(check, name, severity,
                    expectation_cls(severity=_gx_severity(severity), meta={"rule": name},
                                    **kwargs))

    rules: list[Rule] = []
    add = rules.append
    if len(suite.key) > 1:
        add(rule(SUITE_CHECK, "unique", ERROR, gxe.ExpectCompoundColumnsToBeUnique,
                 column_list=list(suite.key)))
    else:
        add(rule(SUITE_CHECK, "unique", ERROR, gxe.ExpectColumnValuesToBeUnique,
                 column=suite.key[0]))
    for column in dict.fromkeys([*suite.key, *suite.not_null]):
        add(rule(SUITE_CHECK, "not_null", ERROR, gxe.ExpectColumnValuesToNotBeNull,
                 column=column))
    for column in suite.timestamps:
        earliest, latest = settings.earliest, settings.latest_allowed(now)
        if column in frame and _is_naive(frame[column]):
            # staging stores UTC as naive timestamps: compare like with like
            earliest, latest = _naive_utc(earliest), _naive_utc(latest)
        add(rule(SUITE_CHECK, "after_earliest", ERROR, gxe.ExpectColumnValuesToBeBetween,
                 column=column, min_value=earliest))
        add(rule(SUITE_CHECK, "not_in_future", ERROR, gxe.ExpectColumnValuesToBeBetween,
                 column=column, max_value=latest))
    for column, values in suite.enums.items():
        add(rule(SUITE_CHECK, "in_set", ERROR, gxe.ExpectColumnValuesToBeInSet,
                 column=column, value_set=list(values)))
    for text in suite.text:
        condition = {}
        if text.when:
            condition = {"row_condition": Column(text.when[0]).is_in(list(text.when[1]))}
        add(rule(SUITE_CHECK, "not_blank", text.severity, gxe.ExpectColumnValuesToNotBeNull,
                 column=text.column, **condition))
        add(rule(SUITE_CHECK, "not_blank", text.severity, gxe.ExpectColumnValuesToNotMatchRegex,
                 column=text.column, regex=r"^\s*$", **condition))
    for link in suite.links:
        add(rule(SUITE_CHECK, "link", link.severity, gxe.ExpectColumnValuesToBeInSet,
                 column=link_flag(link), value_set=[True]))
    if baseline is not None:
        previous = baseline.row_count
        for name, severity, shrink, growth in (
                ("row_count_warn", AssetCheckSeverity.WARN, settings.warn_shrink,
                 settings.warn_growth),
                ("row_count_error", ERROR, settings.error_shrink, settings.error_growth)):
            add(rule(ROW_COUNT_CHECK, name, severity, gxe.ExpectTableRowCountToBeBetween,
                     min_value=math.ceil(previous * (1 - shrink)),
                     max_value=math.floor(previous * growth)))
    return rules


def validate(context: AbstractDataContext, suite: TableSuite, frame: pd.DataFrame,
             rules: Sequence[Rule]) -> list[tuple[Rule, ExpectationValidationResult | None]]:
    """Each rule with its GX result (None if GX returned none for it)."""
    import great_expectations as gx

    if not rules:
        return []
    name = suite.asset_key.to_user_string()
    batch_definition = (context.data_sources.add_pandas(f"{name} datasource")
                        .add_dataframe_asset(name)
                        .add_batch_definition_whole_dataframe("whole table"))
    for index, rule in enumerate(rules):
        rule.expectation.meta = {**(rule.expectation.meta or {}), "index": index}
    gx_suite = context.suites.add(
        gx.ExpectationSuite(name=name, expectations=[r.expectation for r in rules]))
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    index_columns = [c for c in suite.id_columns if c in frame.columns]
    validation = batch.validate(gx_suite, result_format={
        "result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE,
        "unexpected_index_column_names": index_columns})
    # Pair results with rules by the index put in each expectation's meta, never by position.
    by_index = {(r.expectation_config.meta or {}).get("index"): r for r in validation.results}
    return [(rule, by_index.get(index)) for index, rule in enumerate(rules)]


def _result(suite: TableSuite, check: str, results, row_count: int,
            baseline: history.Baseline | None) -> AssetCheckResult:
    evaluated = [(rule, res) for rule, res in results if rule.check == check]
    failures = [f for rule, res in evaluated if (f := _failure(suite, rule, res))]
    metadata: dict[str, Any] = {
        "row_count": MetadataValue.int(row_count),
        "expectations_evaluated": MetadataValue.int(len(evaluated)),
        "failing_expectations": MetadataValue.json([f.label for f in failures]),
        "unexpected_counts": MetadataValue.json(
            {f.label: f.unexpected_count for f in failures if f.unexpected_count is not None}),
        "sample_rows": MetadataValue.json({f.label: f.sample for f in failures if f.sample}),
    }
    errors = {f.label: f.error for f in failures if f.error}
    if errors:
        metadata["errors"] = MetadataValue.json(errors)
    if check == ROW_COUNT_CHECK:
        metadata["previous_row_count"] = MetadataValue.int(baseline.row_count) if baseline \
            else MetadataValue.text("none yet: this count becomes the baseline")
        if baseline:
            metadata["previous_checked_at"] = MetadataValue.text(baseline.checked_at.isoformat())
        for rule, _ in evaluated:
            metadata[f"allowed_{rule.rule}"] = MetadataValue.json(
                [rule.expectation.min_value, rule.expectation.max_value])
    # Only WARN failures make a WARN result; a pass keeps ERROR, the severity it would block at
    warn_only = failures and all(f.severity != ERROR for f in failures)
    severity = AssetCheckSeverity.WARN if warn_only else ERROR
    return AssetCheckResult(asset_key=suite.asset_key, check_name=check, passed=not failures,
                            severity=severity, metadata=metadata,
                            description=_describe(failures))


def _failure(suite: TableSuite, rule: Rule, result) -> Failure | None:
    config = rule.expectation
    target = getattr(config, "column", None) or ",".join(getattr(config, "column_list", []) or [])
    label = f"{config.expectation_type}({target}) [{rule.rule}]" if target \
        else f"{config.expectation_type} [{rule.rule}]"
    if result is None:
        return Failure(label, ERROR, error="GX returned no result for this expectation")
    error = _exception_message(result.exception_info)
    if error:
        # GX reports internal errors as an unsuccessful result with exception_info and
        # raises nothing: an expectation that could not be evaluated is a failure.
        return Failure(label, ERROR, error=error)
    if result.success:
        return None
    details = result.result or {}
    sample = [{c: _jsonable(row.get(c)) for c in suite.id_columns if c in row}
              for row in details.get("partial_unexpected_index_list") or []][:SAMPLE_SIZE]
    count = details.get("unexpected_count")
    if count is None and "observed_value" in details:
        count = details["observed_value"]
    return Failure(label, rule.severity, unexpected_count=count, sample=sample)


def _exception_message(info: Any) -> str | None:
    """The message of an exception GX caught, whichever of its two shapes it reports."""
    if not info:
        return None
    if "raised_exception" in info:
        return (info.get("exception_message") or "GX raised an exception") \
            if info["raised_exception"] else None
    messages = [_exception_message(v) for v in info.values() if isinstance(v, dict)]
    return "; ".join(m for m in messages if m) or None


def _errored(suite: TableSuite, check: str, error: Exception) -> AssetCheckResult:
    message = f"{type(error).__name__}: {error}"
    return AssetCheckResult(
        asset_key=suite.asset_key, check_name=check, passed=False, severity=ERROR,
        metadata={"errors": MetadataValue.json({"validation": message}),
                  "failing_expectations": MetadataValue.json(["validation"])},
        description=f"the validation could not run: {message}")


def _describe(failures: Sequence[Failure]) -> str:
    if not failures:
        return "all expectations met"
    return "failed: " + "; ".join(f.label for f in failures)


def _outcome(result: AssetCheckResult) -> str:
    if result.passed:
        return history.PASSED
    return history.FAILED if result.severity == ERROR else history.WARNED


def _gx_severity(severity: AssetCheckSeverity) -> str:
    return "critical" if severity == ERROR else "warning"


def _is_naive(column: pd.Series) -> bool:
    import pandas as pd

    return pd.api.types.is_datetime64_dtype(column) and getattr(column.dtype, "tz", None) is None


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
