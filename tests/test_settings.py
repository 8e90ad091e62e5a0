"""Every setting is parsed by type and range before it reaches SQL, a path or a shell.

dbt vars are validated in macros/settings/ (for anyone who runs dbt), environment variables
and Dagster run config in orchestration/lib/settings.py; the raw export dialect is validated in
both, and the same catalogue of bad values is refused by both. A bad dbt var stops dbt before
any SQL runs: the DuckDB file it was pointed at holds no table afterwards.
"""

from __future__ import annotations

import re

import duckdb
import pytest
from conftest import REPO, run_dbt

from orchestration.lib.settings import RawDialect, SettingError, Settings

pytestmark = pytest.mark.unit

# (vars, the sentence dbt must print). Each is malicious or malformed in its own way.
BAD_DBT_VARS: dict[str, tuple[dict, str]] = {
    "injection in a number": (
        {"incremental_lookback_days": "3 or 1=1"},
        "Setting incremental_lookback_days (dbt var) is '3 or 1=1': it must be a whole number "
        "from 0 to 3650.",
    ),
    "subquery as a number": (
        {"churn_window_days": "(select 180)"},
        "Setting churn_window_days (dbt var) is '(select 180)': it must be a whole number from "
        "1 to 3650.",
    ),
    "negative days": (
        {"engagement_window_days": -5},
        "Setting engagement_window_days (dbt var) is '-5': it must be a whole number from 1 to "
        "3650.",
    ),
    "boolean as a number": (
        {"engagement_click_weight": True},
        "Setting engagement_click_weight (dbt var) is 'True': it must be a whole number",
    ),
    "impossible date": (
        {"as_of_date": "2024-02-30"},
        "Setting as_of_date (dbt var) is '2024-02-30': give a real date as YYYY-MM-DD",
    ),
    "earliest date in German notation": (
        {"earliest_valid_date": "01.01.2000"},
        "Setting earliest_valid_date (dbt var) is '01.01.2000': give a real date as YYYY-MM-DD",
    ),
    "share above one": (
        {"rejection_alarm_share": 2},
        "Setting rejection_alarm_share (dbt var) is '2': it must be a number above 0 and at most 1",
    ),
    "line break in a path": (
        {"raw_data_path": "/tmp/raw\n; rm -rf /"},
        "Setting raw_data_path (dbt var) is '/tmp/raw?; rm -rf /': a directory path must be at "
        "most 1024 characters with no control characters",
    ),
    "decimal separator": (
        {"raw_format": {"decimal_separator": ";"}},
        "Setting raw_format.decimal_separator (dbt var) is ';': use '.' or ','.",
    ),
    "quote in a timestamp format": (
        {"raw_format": {"timestamp_format": "%d.%m.%Y %H:%M'); drop table x; --"}},
        "Setting raw_format.timestamp_format (dbt var) is '%d.%m.%Y %H:%M'); drop table x; --':"
        " use '' for ISO 8601",
    ),
    "unknown time zone": (
        {"raw_format": {"timezone": "Mars/Olympus"}},
        "Setting raw_format.timezone (dbt var) is 'Mars/Olympus': use an IANA time zone name",
    ),
    "unknown encoding": (
        {"raw_format": {"encoding": "ebcdic"}},
        "Setting raw_format.encoding (dbt var) is 'ebcdic': use utf-8 (a BOM is accepted), cp1252",
    ),
    "same separator twice": (
        {"raw_format": {"decimal_separator": ",", "thousands_separator": ","}},
        "Setting raw_format.thousands_separator (dbt var) is ',': it must differ from "
        "decimal_separator (',').",
    ),
    "unknown table": (
        {"raw_format_overrides": {"invoices": {"delimiter": ";"}}},
        "Setting raw_format_overrides (dbt var) names table 'invoices': the raw tables are "
        "customers, orders, sessions, survey_responses, email_events.",
    ),
    "separators clash in one table's effective dialect": (
        {
            "raw_format": {"decimal_separator": ",", "thousands_separator": "."},
            "raw_format_overrides": {"sessions": {"decimal_separator": "."}},
        },
        "Setting raw_format_overrides.sessions.thousands_separator (dbt var) is '.': it must "
        "differ from decimal_separator ('.').",
    ),
    "mapping to a column outside the contract": (
        {"raw_column_mapping": {"orders": {"Bestellnummer": "order_idd"}}},
        "Setting raw_column_mapping.orders (dbt var) maps 'Bestellnummer' to 'order_idd', which "
        "is not a column of the raw data contract",
    ),
    "a list as the dialect": (
        {"raw_format": []},
        "Setting raw_format (dbt var) is '[]': it must be a mapping",
    ),
    "time zone pytz does not know": (
        {"raw_format": {"timezone": "localtime"}},
        "Setting raw_format.timezone (dbt var) is 'localtime': use an IANA time zone name",
    ),
    "line break after a format": (
        {"raw_format": {"timestamp_format": "%d.%m.%Y %H:%M\n"}},
        "Setting raw_format.timestamp_format (dbt var) is '%d.%m.%Y %H:%M?': it must not contain "
        "control characters.",
    ),
    "backslash in a path": (
        {"raw_data_path": "/tmp/raw\\[1]"},
        "Setting raw_data_path (dbt var) is '/tmp/raw\\[1]': a directory path must be at most "
        "1024 characters with no control characters (tabs, line breaks, NUL) and no backslash.",
    ),
    "a scope of data tests that is not one of the choices": (
        {"data_tests_scope": "new rows"},
        "Setting data_tests_scope (dbt var) is 'new rows': it must be one of changed, all.",
    ),
    "SQL as a column name": (
        {"raw_column_mapping": {"orders": {"Bestellnummer": "order_id; drop table x"}}},
        "Setting raw_column_mapping.orders (dbt var) maps 'Bestellnummer' to 'order_id; drop "
        "table x': map a file header",
    ),
}


def _tables(database) -> list[tuple]:
    if not database.exists():
        return []
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            "select schema_name, table_name from duckdb_tables()"
            " union all select schema_name, view_name from duckdb_views() where not internal"
        ).fetchall()


@pytest.mark.parametrize("case", sorted(BAD_DBT_VARS))
def test_a_bad_dbt_var_is_refused_by_name_before_any_sql_runs(case: str, tmp_path) -> None:
    vars_, sentence = BAD_DBT_VARS[case]
    database = tmp_path / "warehouse.duckdb"
    result = run_dbt(["build"], database, vars_, tmp_path)
    assert result.returncode != 0
    assert sentence in result.output, result.output[-3000:]
    assert _tables(database) == []  # nothing was built, not even the raw tables


BAD_PROFILE_SETTINGS = {
    "no thread": ("CUSTOMER_ANALYTICS_THREADS", "0", "give a whole number from 1 to 64"),
    "threads as text": (
        "CUSTOMER_ANALYTICS_THREADS",
        "4 threads",
        "give a whole number from 1 to 64",
    ),
    "memory as a word": (
        "CUSTOMER_ANALYTICS_MEMORY_LIMIT",
        "lots",
        "give a size such as 4GB or 512MB.",
    ),
    "spill size as a word": (
        "CUSTOMER_ANALYTICS_MAX_TEMP_SIZE",
        "huge",
        "give a size such as 20GB, or '90% of available disk space'.",
    ),
}
"""Environment settings the profile hands to dbt and DuckDB: dbt itself failed on each with a
Python traceback ("max_workers must be greater than 0", "Memory must have a number")."""


@pytest.mark.parametrize("case", sorted(BAD_PROFILE_SETTINGS))
def test_a_bad_profile_setting_stops_plain_dbt_by_name_before_any_sql_runs(
    case: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, value, form = BAD_PROFILE_SETTINGS[case]
    monkeypatch.setenv(name, value)
    database = tmp_path / "warehouse.duckdb"
    result = run_dbt(["build"], database, None, tmp_path)
    assert result.returncode != 0
    assert f"Setting {name} is '{value}': {form}" in result.output, result.output[-3000:]
    assert "Traceback" not in result.output
    assert _tables(database) == []


def test_blank_profile_settings_mean_their_defaults(tmp_path, monkeypatch) -> None:
    """As in the Python settings, a blank value is the default (DuckDB refused a blank size)."""
    for name in ("CUSTOMER_ANALYTICS_THREADS", "CUSTOMER_ANALYTICS_MEMORY_LIMIT"):
        monkeypatch.setenv(name, " ")
    monkeypatch.setenv("CUSTOMER_ANALYTICS_MAX_TEMP_SIZE", "")
    query = (
        "select current_setting('memory_limit') as memory, current_setting("
        "'max_temp_directory_size') = '90% of available disk space' as spill_default"
    )
    result = run_dbt(["show", "--inline", query], tmp_path / "w.duckdb", None, tmp_path)
    assert result.returncode == 0, result.output[-3000:]
    assert "Concurrency: 1 threads" in result.output
    # DuckDB shows 4GB (10^9 bytes each) in GiB
    assert re.search(rf"\| {4e9 / 2**30:.1f} GiB +\| +True \|", result.output), result.output


def test_plain_dbt_makes_the_folder_of_a_new_warehouse_file(tmp_path) -> None:
    """A fresh checkout has no warehouse/ folder: plain dbt makes it (DuckDB stopped with an
    IOException traceback), as `make build` does."""
    database = tmp_path / "fresh" / "warehouse" / "customer_analytics.duckdb"
    result = run_dbt(["show", "--inline", "select 41 + 1 as answer"], database, None, tmp_path)
    assert result.returncode == 0, result.output[-3000:]
    assert re.search(r"\| +42 \|", result.output), result.output[-3000:]
    assert database.is_file()


def test_a_cross_setting_rule_is_checked_before_any_model(tmp_path) -> None:
    database = tmp_path / "warehouse.duckdb"
    vars_ = {"nps_passive_min_score": 9, "nps_promoter_min_score": 9}
    result = run_dbt(["build"], database, vars_, tmp_path)
    assert result.returncode != 0
    assert (
        "Setting nps_passive_min_score (dbt var) is '9': it must be below nps_promoter_min_score"
        in result.output
    )
    assert [table for table in _tables(database) if table[0] != "staging"] == []


# The same dialect values through the Python settings (environment, Dagster run config).
@pytest.mark.parametrize(
    "case",
    sorted(
        case
        for case, (vars_, _) in BAD_DBT_VARS.items()
        if set(vars_) & {"raw_format", "raw_format_overrides", "raw_column_mapping"}
    ),
)
def test_python_refuses_the_same_dialect_values_as_dbt(case: str) -> None:
    vars_, sentence = BAD_DBT_VARS[case]
    with pytest.raises(SettingError) as refused:
        RawDialect.parse(
            vars_.get("raw_format"),
            vars_.get("raw_format_overrides"),
            vars_.get("raw_column_mapping"),
        )
    # the same sentence, without dbt's "(dbt var)"
    assert sentence.replace(" (dbt var)", "") in str(refused.value)


BAD_ENVIRONMENT = {
    "CUSTOMER_ANALYTICS_THREADS": ("2; rm -rf /", "whole number from 1 to 64"),
    "CUSTOMER_ANALYTICS_MEMORY_LIMIT": ("4GB'; attach 'x", "give a size such as 4GB"),
    "CUSTOMER_ANALYTICS_MAX_TEMP_SIZE": ("lots", "give a size such as 20GB"),
    "CUSTOMER_ANALYTICS_SCHEDULE_CRON": ("0 6 * * * rm", "give five cron fields"),
    "CUSTOMER_ANALYTICS_SCHEDULE_TIMEZONE": ("Europe/Atlantis", "IANA time zone name"),
    "CUSTOMER_ANALYTICS_AUTOMATION": ("maybe", "use on or off"),
    "CUSTOMER_ANALYTICS_FULL_DATA_TESTS_DAY": ("sonntag", "use a weekday (monday, tuesday"),
    "CUSTOMER_ANALYTICS_SENSOR_INTERVAL_SECONDS": ("1", "whole number from 5 to 86400"),
    "CUSTOMER_ANALYTICS_CLV_DISCOUNT_RATE": ("10%", "decimal number from 0 to 1, e.g. 0.1"),
    "CUSTOMER_ANALYTICS_LANDING_DIR": ("/srv/raw\x00/etc", "no control characters"),
    "CUSTOMER_ANALYTICS_RAW_FORMAT": ('{"delimiter": "::"}', "use auto (detected from"),
    "CUSTOMER_ANALYTICS_RAW_COLUMN_MAPPING": ("{not json", "it must be a JSON object"),
    "CUSTOMER_ANALYTICS_RAW_FORMAT_OVERRIDES": ("null", "it must be a JSON object"),
    "CUSTOMER_ANALYTICS_CSV_ENCODING": ("klingon", "use utf-8 (a BOM is accepted)"),
    "CUSTOMER_ANALYTICS_ENGINE": ("spark; rm -rf /", "use duckdb or spark"),
    "CUSTOMER_ANALYTICS_SPARK_CORES": ("0", "whole number from 1 to 64"),
    "CUSTOMER_ANALYTICS_SPARK_MEMORY": ("4g -Dx=y", "give a JVM size"),
    "CUSTOMER_ANALYTICS_SPARK_DIR": ("/srv/spark\n/etc", "no control characters"),
    "CUSTOMER_ANALYTICS_SPARK_REMOTE": ("http://spark:15002", "not a Spark Connect address"),
}


@pytest.mark.parametrize("name", sorted(BAD_ENVIRONMENT))
def test_a_bad_environment_setting_is_refused_by_name(name: str) -> None:
    value, allowed = BAD_ENVIRONMENT[name]
    with pytest.raises(SettingError) as refused:
        Settings.from_env({name: value})
    message = str(refused.value)
    assert allowed in message
    assert message.startswith(f"Setting {name}")  # names the variable the value came from


def test_good_settings_are_normalised() -> None:
    settings = Settings.from_env(
        {
            "CUSTOMER_ANALYTICS_THREADS": "2",
            "CUSTOMER_ANALYTICS_RAW_FORMAT": '{"delimiter": "tab", "encoding": "Windows-1252"}',
            "CUSTOMER_ANALYTICS_RAW_COLUMN_MAPPING": '{"orders": {"Bestellnummer": "order_id"}}',
            "CUSTOMER_ANALYTICS_LANDING_DIR": "relative/landing",
            "CUSTOMER_ANALYTICS_SENSOR_INTERVAL_SECONDS": " 5 ",
            "CUSTOMER_ANALYTICS_CLV_DISCOUNT_RATE": "0.08",
        }
    )
    assert settings.clv_discount_rate == 0.08
    assert Settings.from_env({}).clv_discount_rate == 0.1
    with pytest.raises(SettingError, match="from 0 to 1"):
        Settings.from_env({"CUSTOMER_ANALYTICS_CLV_DISCOUNT_RATE": "1.5"})
    assert settings.threads == 2
    assert settings.sensor_interval_s == 5
    assert Settings.from_env({}).sensor_interval_s == 30
    assert settings.raw_dialect.raw_format == {"delimiter": "\t", "encoding": "cp1252"}
    assert settings.landing_dir.is_absolute()
    # the engine names its dbt target; a relative Spark folder is the project's, as for dbt
    assert (Settings.from_env({}).engine, Settings.from_env({}).dbt_target) == ("duckdb", "dev")
    spark = Settings.from_env(
        {"CUSTOMER_ANALYTICS_ENGINE": " Spark ", "CUSTOMER_ANALYTICS_SPARK_DIR": "sp"}
    )
    assert (spark.engine, spark.dbt_target) == ("spark", "spark")
    assert spark.spark_dir == REPO / "sp"
    assert settings.raw_dialect.as_vars()["raw_column_mapping"] == {
        "orders": {"Bestellnummer": "order_id"}
    }


@pytest.mark.parametrize(
    "remote",
    [
        "sc://lake-gw.example:15002/;token=hunter2-secret;user_id=x y",  # a space
        "sc://lake-gw.example:99999/;token=hunter2-secret",  # no such port
        "sc://lake-gw.example:15002/;token=hunter2-secret\n;x=1",  # a line break
        "sc://lake-gw.example:15002;token=hunter2-secret",  # no slash before the parameters
        "grpc://lake-gw.example:15002/;token=hunter2-secret",
    ],
)
def test_a_bad_spark_connect_address_is_refused_without_showing_it(remote: str) -> None:
    """The address may hold a token: the error names the setting and the form, never the
    value, whatever part of it is wrong."""
    with pytest.raises(SettingError) as refused:
        Settings.from_env({"CUSTOMER_ANALYTICS_SPARK_REMOTE": remote})
    message = str(refused.value)
    assert message.startswith("Setting CUSTOMER_ANALYTICS_SPARK_REMOTE is not a Spark Connect")
    assert "hunter2" not in message and "lake-gw.example" not in message


def test_a_spark_connect_address_is_kept_whole_and_shown_by_host_only() -> None:
    from orchestration.lib.settings import spark_remote_host

    for remote, host in [
        ("sc://lake-gw.example:15002/;token=hunter2-secret;x-databricks-cluster-id=0123",
         "lake-gw.example:15002"),
        (" sc://10.0.0.7 ", "10.0.0.7:15002"),  # Spark Connect's default port
        ("sc://[::1]:443/;use_ssl=true", "[::1]:443"),
    ]:  # fmt: skip
        settings = Settings.from_env({"CUSTOMER_ANALYTICS_SPARK_REMOTE": remote})
        assert settings.spark_remote == remote.strip()
        assert spark_remote_host(settings.spark_remote) == host
        assert "hunter2" not in repr(settings)  # e.g. in a traceback's locals
    assert Settings.from_env({}).spark_remote == ""


def test_the_cli_refuses_a_bad_environment_setting_in_one_sentence(tmp_path) -> None:
    import os
    import subprocess

    from conftest import BIN

    done = subprocess.run(
        [str(BIN / "customer-analytics"), "validate"],
        env={**os.environ, "CUSTOMER_ANALYTICS_MEMORY_LIMIT": "4GB; drop"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "customer-analytics validate: error: Setting CUSTOMER_ANALYTICS_MEMORY_LIMIT is "
        "'4GB; drop': give a size such as 4GB or 512MB."
    )


def test_the_engine_command_names_the_dbt_target_and_prepares_spark(tmp_path) -> None:
    """`customer-analytics engine` (make build's first step): the engine's dbt target on
    stdout; on Spark the key and Spark's folder (owner only) exist afterwards; a bad engine
    is refused in one sentence, exit 2."""
    import os
    import subprocess

    from conftest import BIN

    def engine(value: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "customer-analytics"), "engine"],
            env={
                **os.environ,
                "CUSTOMER_ANALYTICS_ENGINE": value,
                "CUSTOMER_ANALYTICS_SPARK_DIR": str(tmp_path / "spark"),
                "CUSTOMER_ANALYTICS_PSEUDONYM_KEY_FILE": str(tmp_path / "key" / "pseudonym.key"),
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    duckdb_engine = engine("")
    assert (duckdb_engine.returncode, duckdb_engine.stdout) == (0, "dev\n")
    assert not (tmp_path / "spark").exists() and not (tmp_path / "key").exists()
    spark = engine("spark")
    assert (spark.returncode, spark.stdout) == (0, "spark\n")
    assert (tmp_path / "spark").stat().st_mode & 0o777 == 0o700
    assert len((tmp_path / "key" / "pseudonym.key").read_text().strip()) >= 32
    bad = engine("hadoop")
    assert (bad.returncode, bad.stdout) == (2, "")
    assert "CUSTOMER_ANALYTICS_ENGINE is 'hadoop': use duckdb or spark" in bad.stderr


def test_a_dialect_split_over_project_and_table_is_accepted_by_both(tmp_path) -> None:
    """The German recipe with the thousands separator given per table: valid for dbt and
    Python alike (each table's effective dialect is what is checked)."""
    vars_ = {
        "raw_format": {"decimal_separator": ","},
        "raw_format_overrides": {"orders": {"thousands_separator": "."}},
    }
    RawDialect.parse(vars_["raw_format"], vars_["raw_format_overrides"])
    result = run_dbt(["compile", "--select", "raw_orders"], tmp_path / "w.duckdb", vars_, tmp_path)
    assert result.returncode == 0, result.output[-3000:]
