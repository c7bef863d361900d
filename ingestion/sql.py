"""SQL text for the few DuckDB statements that take no prepared parameters."""


def sql_string(value: object) -> str:
    """``value`` as an SQL string literal (single quotes doubled). ATTACH, COPY, COMMENT ON and
    Parquet metadata take no prepared parameters; a path with an apostrophe ("O'Brien's
    data") or a description with one must still work and never end the literal."""
    return "'" + str(value).replace("'", "''") + "'"
