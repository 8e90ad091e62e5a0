"""Every setting the orchestration reads (environment variables, Dagster run config), parsed by
type and range in one place before it reaches SQL, a path or a shell.

Pure and cheap to import. All paths are absolute; defaults stay inside the repository. A bad
value raises SettingError with one sentence naming the setting, the value given and the form
allowed. The dbt vars this module hands to dbt (raw_data_path, raw_format, …) are validated
again, by the same rules, in macros/settings/ for users who run dbt themselves; a test keeps
the two in step.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RAW_DIR = REPO_ROOT / "data" / "raw"

RAW_TABLES: tuple[str, ...] = (
    "customers",
    "orders",
    "sessions",
    "survey_responses",
    "email_events",
)
"""The raw data contract's tables, in load order."""

RAW_FORMAT_DEFAULTS: dict[str, str] = {
    "delimiter": "auto",
    "decimal_separator": ".",
    "thousands_separator": "",
    "timestamp_format": "",
    "date_format": "",
    "timezone": "UTC",
    "encoding": "utf-8",
}
"""The export dialect's keys and defaults (dbt var raw_format; macros/settings/raw_format.sql)."""

_DELIMITERS = {"auto": "auto", ",": ",", ";": ";", "\t": "\t", "tab": "\t", "|": "|"}
_ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "utf-16": "utf-16",
    "utf16": "utf-16",
}
_TIMESTAMP_FORMAT = re.compile(r"^(%[dmYHMS]|[ .:/T-])+$")
_DATE_FORMAT = re.compile(r"^(%[dmY]|[./-])+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COLUMN = re.compile(r"^[a-z_]+$")
_MEMORY = re.compile(
    r"^[0-9]{1,6}(\.[0-9]{1,3})?\s?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE
)
_TEMP_SIZE = re.compile(
    r"^([0-9]{1,6}(\.[0-9]{1,3})?\s?(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)"
    r"|[0-9]{1,3}% of available disk space)$",
    re.IGNORECASE,
)
_CRON_FIELD = re.compile(r"^[0-9*/,-]{1,40}$")
_SPARK_MEMORY = re.compile(r"^[1-9][0-9]{0,5}[kmgt]$", re.IGNORECASE)

ENGINE_ENV = "CUSTOMER_ANALYTICS_ENGINE"
"""The engine dbt builds on (docs/spark.md): duckdb (the default) or spark."""

ENGINE_TARGETS = {"duckdb": "dev", "spark": "spark"}
"""Engine -> the dbt target (profiles.yml) that builds on it."""

SPARK_REMOTE_ENV = "CUSTOMER_ANALYTICS_SPARK_REMOTE"
"""A Spark Connect server (sc://host:port[/;param=value...]) the Python side reads a Spark
build through, e.g. a cluster's (docs/spark.md); empty: the local session's folder."""

_SPARK_REMOTE = re.compile(
    r"^sc://(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])"
    r"(?::(?P<port>[0-9]{1,5}))?(?:/(?:;[A-Za-z0-9_.-]{1,64}=[^;\s\x00-\x1f\x7f]{0,1024})*)?$"
)


def parse_spark_remote(value: str) -> str:
    """CUSTOMER_ANALYTICS_SPARK_REMOTE, validated ('' when unset). Its parameters may hold a
    token, so an error shows the host at most, never the value."""
    text = value.strip()
    if not text:
        return ""
    match = _SPARK_REMOTE.fullmatch(text) if len(text) <= 4096 else None
    if match is None or (match["port"] is not None and not 0 < int(match["port"]) < 65536):
        raise SettingError(
            f"Setting {SPARK_REMOTE_ENV} is not a Spark Connect address (the value is not "
            "shown: it may hold a token): give sc://host:port, optionally followed by "
            "/;name=value parameters, e.g. sc://spark.internal:15002 (docs/spark.md)."
        )
    return text


def spark_remote_host(remote: str) -> str:
    """host:port of a Spark Connect address, for messages (its parameters may hold a token)."""
    match = _SPARK_REMOTE.fullmatch(remote)
    return f"{match['host']}:{match['port'] or 15002}" if match else "(not shown)"


RAW_SOURCES: dict[str, str] = {
    "customers": "crm",
    "orders": "shop",
    "sessions": "web_analytics",
    "survey_responses": "nps",
    "email_events": "email",
}
"""Raw table -> the dbt source whose YAML (models/staging/<source>/) holds its contract."""


@cache
def contract_columns(table: str) -> tuple[str, ...]:
    """The raw data contract's columns of `table`, in order (models/staging/<source>/)."""
    import yaml

    source = RAW_SOURCES[table]
    path = REPO_ROOT / "models" / "staging" / source / f"_{source}__sources.yml"
    for declared in yaml.safe_load(path.read_text())["sources"]:
        for declared_table in declared["tables"]:
            if declared_table["name"] == table:
                return tuple(column["name"] for column in declared_table["columns"])
    raise KeyError(f"{table} is not in {path}")


@cache
def _time_zones() -> frozenset[str]:
    """The IANA names dbt's validation knows (pytz, as in macros/settings/raw_format.sql)."""
    import pytz

    return frozenset(pytz.all_timezones)


class SettingError(ValueError):
    """A setting with a value outside its type or range; the message says which and why."""


KEY_ENV = "CUSTOMER_ANALYTICS_PSEUDONYM_KEY_FILE"
ERASURE_ENV = "CUSTOMER_ANALYTICS_ERASURE_FILE"


class PrivacySettingError(SettingError):
    """A privacy setting or record that cannot be used; the message says which and what to do
    (never a key, never a customer id)."""


def config_dir(environ: dict[str, str] | os._Environ[str] | None = None) -> Path:
    """Where the key and the erasure requests live by default: outside the repository, so that
    neither is ever committed, copied with the project or removed by `make clean`."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME", "").strip() or str(Path.home() / ".config")
    return Path(base) / "customer-analytics"


def _path_setting(env: dict[str, str] | os._Environ[str], name: str, default: Path) -> Path:
    value = env.get(name, "").strip()
    if not value:
        return default.resolve()
    if _CONTROL.search(value) or len(value) > 4096:
        raise PrivacySettingError(
            f"Setting {name} holds a control character or is too long: give a file path."
        )
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise PrivacySettingError(f"Setting {name} is '{value[:60]}': give an absolute file path.")
    if path.is_dir():
        raise PrivacySettingError(f"Setting {name} is '{value[:60]}', a folder: give a file path.")
    return path


def key_file(environ: dict[str, str] | os._Environ[str] | None = None) -> Path:
    """The pseudonymisation key's file (validated setting)."""
    env = os.environ if environ is None else environ
    return _path_setting(env, KEY_ENV, config_dir(env) / "pseudonym.key")


def erasure_file(environ: dict[str, str] | os._Environ[str] | None = None) -> Path:
    """The erasure requests' file (validated setting)."""
    env = os.environ if environ is None else environ
    return _path_setting(env, ERASURE_ENV, config_dir(env) / "erasure-requests.csv")


def _shown(value: object) -> str:
    """The value as given, cut to 60 characters, control characters shown as '?'."""
    return _CONTROL.sub("?", str(value)[:60])


def _fail(name: str, value: object, allowed: str) -> SettingError:
    return SettingError(f"Setting {name} is '{_shown(value)}': {allowed}")


def parse_raw_format(value: object, name: str = "raw_format") -> dict[str, str]:
    """Validate one raw_format mapping (some or all keys); return it normalised."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(
            name, value, "it must be a mapping, e.g. {delimiter: ';', decimal_separator: ','}."
        )
    result: dict[str, str] = {}
    for key, given in value.items():
        where = f"{name}.{key}"
        if key not in RAW_FORMAT_DEFAULTS:
            raise _fail(name, key, f"unknown key; the keys are {', '.join(RAW_FORMAT_DEFAULTS)}.")
        if not isinstance(given, str):
            raise _fail(where, given, "it must be text.")
        if key in ("timestamp_format", "date_format", "timezone", "encoding") and _CONTROL.search(
            given
        ):
            raise _fail(where, given, "it must not contain control characters.")
        if key == "delimiter":
            if given not in _DELIMITERS:
                raise _fail(
                    where, given, "use auto (detected from the header), ',', ';', tab or '|'."
                )
            given = _DELIMITERS[given]
        elif key == "decimal_separator" and given not in (".", ","):
            raise _fail(where, given, "use '.' or ','.")
        elif key == "thousands_separator" and given not in ("", ".", ",", " ", "'"):
            raise _fail(where, given, "use '' (none), '.', ',', ' ' or \"'\".")
        elif (
            key == "timestamp_format"
            and given
            and not (
                _TIMESTAMP_FORMAT.match(given)
                and all(given.count(d) == 1 for d in ("%d", "%m", "%Y", "%H", "%M"))
                and given.count("%S") <= 1
            )
        ):
            raise _fail(
                where,
                given,
                "use '' for ISO 8601, or a format with %d, %m, %Y, %H, %M (and optionally %S) "
                "once each, separated by ' ', '.', ':', '/', '-' or 'T', e.g. '%d.%m.%Y %H:%M'.",
            )
        elif (
            key == "date_format"
            and given
            and not (
                _DATE_FORMAT.match(given) and all(given.count(d) == 1 for d in ("%d", "%m", "%Y"))
            )
        ):
            raise _fail(
                where,
                given,
                "use '' for YYYY-MM-DD, or a format with %d, %m and %Y once each, separated by "
                "'.', '/' or '-', e.g. '%d.%m.%Y'.",
            )
        elif key == "timezone" and given != "UTC" and given not in _time_zones():
            raise _fail(where, given, "use an IANA time zone name such as Europe/Berlin, or UTC.")
        elif key == "encoding":
            if given.lower() not in _ENCODINGS:
                raise _fail(
                    where,
                    given,
                    "use utf-8 (a BOM is accepted), cp1252 (Excel on Windows), latin-1 or "
                    "utf-16 (with a BOM).",
                )
            given = _ENCODINGS[given.lower()]
        result[key] = given
    return result


def _check_separators(merged: dict[str, str], name: str) -> None:
    """The effective dialect of one table: its two separators must differ."""
    if merged["thousands_separator"] == merged["decimal_separator"]:
        raise _fail(
            f"{name}.thousands_separator",
            merged["thousands_separator"],
            f"it must differ from decimal_separator ('{merged['decimal_separator']}').",
        )


def parse_per_table(value: object, name: str) -> dict[str, dict]:
    """Validate a {table: mapping} setting (raw_format_overrides, raw_column_mapping)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(name, value, "it must be a mapping, e.g. {orders: {...}}.")
    result: dict[str, dict] = {}
    for table, inner in value.items():
        if table not in RAW_TABLES:
            raise SettingError(
                f"Setting {name} names table '{_shown(table)}': the raw tables are "
                f"{', '.join(RAW_TABLES)}."
            )
        if not isinstance(inner, dict):
            raise _fail(f"{name}.{table}", inner, "it must be a mapping.")
        if name == "raw_format_overrides":
            result[table] = parse_raw_format(inner, f"{name}.{table}")
        else:
            for header, column in inner.items():
                if (
                    not isinstance(header, str)
                    or not isinstance(column, str)
                    or _CONTROL.search(header)
                    or _CONTROL.search(column)
                    or not _COLUMN.match(column)
                ):
                    raise SettingError(
                        f"Setting {name}.{table} maps '{_shown(header)}' to '{_shown(column)}': "
                        "map a file header (text without control characters) to a contract "
                        "column name, e.g. {Bestellnummer: order_id}."
                    )
                if column not in contract_columns(table):
                    raise SettingError(
                        f"Setting {name}.{table} maps '{_shown(header)}' to '{column}', which is "
                        "not a column of the raw data contract; its columns are "
                        f"{', '.join(contract_columns(table))}."
                    )
            result[table] = dict(inner)
    return result


def parse_path(value: str, name: str) -> Path:
    """A file or directory path, taken literally (blanks around it trimmed, as dbt does): no
    control characters or backslash, at most 1024 characters."""
    value = value.strip()
    if _CONTROL.search(value) or "\\" in value or len(value) > 1024 or not value:
        raise _fail(
            name,
            value,
            "a path must be 1 to 1024 characters with no control characters "
            "(tabs, line breaks, NUL) and no backslash.",
        )
    return Path(value).resolve()


def _json_setting(env: dict[str, str], name: str) -> object:
    text = env.get(name, "").strip()
    if not text:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise _fail(name, text, 'it must be a JSON object, e.g. \'{"delimiter": ";"}\'.')
    return value


def parse_day(text: str, name: str) -> dt.date:
    """A calendar day given as YYYY-MM-DD, from 2000-01-01 on (SettingError otherwise)."""
    try:
        day = (
            dt.date.fromisoformat(text)
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text)
            else None
        )
    except ValueError:
        day = None
    if day is None or day < dt.date(2000, 1, 1):
        raise _fail(name, text, "give a day as YYYY-MM-DD, from 2000-01-01 on.")
    return day


DATA_TESTS_TAG = "customer_analytics/data_tests"
"""A run tag: 'all' runs every data test over every row (dbt var data_tests_scope), 'changed'
(the default) lets the scoped tests of incremental models check the keys the run wrote
(docs/incremental.md, "Data tests on daily runs")."""
DATA_TESTS_SCOPES = ("changed", "all")
FULL_DATA_TESTS_DAY_ENV = "CUSTOMER_ANALYTICS_FULL_DATA_TESTS_DAY"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def data_tests_scope(tags: dict[str, str]) -> str:
    """The dbt var data_tests_scope of a run, from its tag DATA_TESTS_TAG (default 'changed');
    SettingError on any other value."""
    scope = tags.get(DATA_TESTS_TAG, "changed").strip().lower()
    if scope not in DATA_TESTS_SCOPES:
        raise _fail(f"the run tag {DATA_TESTS_TAG}", scope, "use changed or all.")
    return scope


LANDING_DAYS_ENV = "CUSTOMER_ANALYTICS_LANDING_DAYS"
"""The days a dbt run lands again ('YYYY-MM-DD..YYYY-MM-DD'; empty: every changed file), set
for the dbt subprocess of a Dagster partition or backfill run (docs/incremental.md)."""


def landing_days(first: str | None, last: str | None) -> str:
    """The value of LANDING_DAYS_ENV for the days first..last (partition keys YYYY-MM-DD);
    empty when either is missing. SettingError on anything else."""
    if not first or not last:
        return ""
    start = parse_day(first, "the run's first partition")
    end = parse_day(last, "the run's last partition")
    if start > end:
        raise _fail(
            "the run's partitions", f"{first}..{last}", "the first must not follow the last."
        )
    return f"{start.isoformat()}..{end.isoformat()}"


def _int_setting(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", text) or not low <= int(text) <= high:
        raise _fail(name, text, f"it must be a whole number from {low} to {high}.")
    return int(text)


def duckdb_sizes(env: dict[str, str] | os._Environ[str]) -> tuple[str, str]:
    """CUSTOMER_ANALYTICS_MEMORY_LIMIT and CUSTOMER_ANALYTICS_MAX_TEMP_SIZE, as the profile
    hands them to DuckDB: checked here for the Python entry points, and by the project's dbt
    plugin before dbt opens the file (DuckDB's own error was a traceback naming neither)."""
    memory_limit = env.get("CUSTOMER_ANALYTICS_MEMORY_LIMIT", "").strip() or "4GB"
    if not _MEMORY.match(memory_limit):
        raise _fail(
            "CUSTOMER_ANALYTICS_MEMORY_LIMIT", memory_limit, "give a size such as 4GB or 512MB."
        )
    max_temp = env.get("CUSTOMER_ANALYTICS_MAX_TEMP_SIZE", "").strip()
    max_temp = max_temp or "90% of available disk space"
    if not _TEMP_SIZE.match(max_temp):
        raise _fail(
            "CUSTOMER_ANALYTICS_MAX_TEMP_SIZE",
            max_temp,
            "give a size such as 20GB, or '90% of available disk space'.",
        )
    return memory_limit, max_temp


def _rate_setting(env: dict[str, str], name: str, default: float, high: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,6})?", text) or not 0 <= float(text) <= high:
        raise _fail(
            name,
            text,
            f"it must be a decimal number from 0 to {high:g}, e.g. {default:g} for {default:.0%}.",
        )
    return float(text)


@dataclass(frozen=True)
class RawDialect:
    """The export dialect handed to dbt as vars (docs/bring-your-own-data.md, "Export dialects")."""

    raw_format: dict[str, str] = field(default_factory=dict)
    raw_format_overrides: dict[str, dict] = field(default_factory=dict)
    raw_column_mapping: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def parse(
        cls,
        raw_format: object = None,
        raw_format_overrides: object = None,
        raw_column_mapping: object = None,
    ) -> RawDialect:
        """Validate the three dialect settings (each a mapping, or None for none), and each
        table's effective dialect (defaults, then raw_format, then its override)."""
        dialect = cls(
            parse_raw_format(raw_format),
            parse_per_table(raw_format_overrides, "raw_format_overrides"),
            parse_per_table(raw_column_mapping, "raw_column_mapping"),
        )
        dialect.check()
        return dialect

    def check(self) -> None:
        """Each table's effective dialect is consistent (SettingError otherwise)."""
        for table in RAW_TABLES:
            override = self.raw_format_overrides.get(table, {})
            _check_separators(
                {**RAW_FORMAT_DEFAULTS, **self.raw_format, **override},
                f"raw_format_overrides.{table}" if override else "raw_format",
            )

    def merged_with(self, other: RawDialect) -> RawDialect:
        """`other`'s settings over these (run config over the environment)."""
        overrides = {**self.raw_format_overrides}
        for table, values in other.raw_format_overrides.items():
            overrides[table] = {**overrides.get(table, {}), **values}
        merged = RawDialect(
            {**self.raw_format, **other.raw_format},
            overrides,
            {**self.raw_column_mapping, **other.raw_column_mapping},
        )
        merged.check()
        return merged

    def as_vars(self) -> dict[str, Any]:
        """The dbt vars of this dialect (only those set)."""
        result: dict[str, Any] = {}
        if self.raw_format:
            result["raw_format"] = self.raw_format
        if self.raw_format_overrides:
            result["raw_format_overrides"] = self.raw_format_overrides
        if self.raw_column_mapping:
            result["raw_column_mapping"] = self.raw_column_mapping
        return result


@dataclass(frozen=True)
class Settings:
    """The orchestration's settings, read from environment variables (docs/configuration.md)."""

    database: Path
    serving_database: Path
    exports_dir: Path
    quality_dir: Path
    audiences_dir: Path
    landing_dir: Path
    raw_dialect: RawDialect
    threads: int
    memory_limit: str
    max_temp_size: str
    schedule_cron: str
    schedule_timezone: str
    dagster_home: Path
    automation_on: bool
    sensor_interval_s: int
    clv_discount_rate: float
    pseudonym_key_file: Path
    erasure_file: Path
    partitions_start: dt.date = dt.date(2023, 1, 1)
    full_data_tests_day: str = "sunday"
    engine: str = "duckdb"
    spark_dir: Path = REPO_ROOT / "warehouse" / "spark"
    spark_remote: str = field(default="", repr=False)

    @property
    def dbt_target(self) -> str:
        """The dbt target of the engine (profiles.yml)."""
        return ENGINE_TARGETS[self.engine]

    @property
    def csv_encoding(self) -> str:
        """The raw files' encoding (raw_format.encoding)."""
        return self.raw_dialect.raw_format.get("encoding", RAW_FORMAT_DEFAULTS["encoding"])

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read and validate the settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ

        def directory(name: str, default: Path) -> Path:
            return parse_path(env.get(name) or str(default), name)

        raw_format = parse_raw_format(
            _json_setting(env, "CUSTOMER_ANALYTICS_RAW_FORMAT"), "CUSTOMER_ANALYTICS_RAW_FORMAT"
        )
        if env.get("CUSTOMER_ANALYTICS_CSV_ENCODING", "").strip() and "encoding" not in raw_format:
            raw_format.update(
                parse_raw_format(
                    {"encoding": env["CUSTOMER_ANALYTICS_CSV_ENCODING"].strip()},
                    "CUSTOMER_ANALYTICS_CSV_ENCODING (raw_format)",
                )
            )
        dialect = RawDialect(
            raw_format,
            parse_per_table(
                _json_setting(env, "CUSTOMER_ANALYTICS_RAW_FORMAT_OVERRIDES"),
                "raw_format_overrides",
            ),
            parse_per_table(
                _json_setting(env, "CUSTOMER_ANALYTICS_RAW_COLUMN_MAPPING"), "raw_column_mapping"
            ),
        )
        dialect.check()
        memory_limit, max_temp = duckdb_sizes(env)
        cron = env.get("CUSTOMER_ANALYTICS_SCHEDULE_CRON", "").strip() or "0 6 * * *"
        if len(cron.split()) != 5 or not all(_CRON_FIELD.match(part) for part in cron.split()):
            raise _fail(
                "CUSTOMER_ANALYTICS_SCHEDULE_CRON",
                cron,
                "give five cron fields of digits, '*', '/', ',' and '-', e.g. '0 6 * * *'.",
            )
        timezone = env.get("CUSTOMER_ANALYTICS_SCHEDULE_TIMEZONE", "").strip() or "Europe/Berlin"
        if timezone != "UTC" and timezone not in available_timezones():
            raise _fail(
                "CUSTOMER_ANALYTICS_SCHEDULE_TIMEZONE",
                timezone,
                "use an IANA time zone name such as Europe/Berlin, or UTC.",
            )
        automation = env.get("CUSTOMER_ANALYTICS_AUTOMATION", "").strip().lower() or "on"
        if automation not in ("on", "off"):
            raise _fail("CUSTOMER_ANALYTICS_AUTOMATION", automation, "use on or off.")
        full_tests_day = env.get(FULL_DATA_TESTS_DAY_ENV, "").strip().lower() or "sunday"
        if full_tests_day not in (*WEEKDAYS, "every"):
            raise _fail(
                FULL_DATA_TESTS_DAY_ENV,
                full_tests_day,
                f"use a weekday ({', '.join(WEEKDAYS)}) or every (the full suite every day).",
            )
        engine = env.get(ENGINE_ENV, "").strip().lower() or "duckdb"
        if engine not in ENGINE_TARGETS:
            raise _fail(ENGINE_ENV, engine, "use duckdb or spark (docs/spark.md).")
        # the Spark target's own settings (profiles.yml reads them; validate_spark_settings
        # checks them again in dbt): a relative directory is the project's, as for dbt
        spark_dir = env.get("CUSTOMER_ANALYTICS_SPARK_DIR", "").strip() or "warehouse/spark"
        _int_setting(env, "CUSTOMER_ANALYTICS_SPARK_CORES", 2, 1, 64)
        spark_memory = env.get("CUSTOMER_ANALYTICS_SPARK_MEMORY", "").strip() or "4g"
        if not _SPARK_MEMORY.match(spark_memory):
            raise _fail(
                "CUSTOMER_ANALYTICS_SPARK_MEMORY",
                spark_memory,
                "give a JVM size such as 4g or 512m.",
            )
        return cls(
            engine=engine,
            spark_remote=parse_spark_remote(env.get(SPARK_REMOTE_ENV, "")),
            spark_dir=parse_path(
                str(REPO_ROOT / spark_dir) if not spark_dir.startswith("/") else spark_dir,
                "CUSTOMER_ANALYTICS_SPARK_DIR",
            ),
            database=directory(
                "CUSTOMER_ANALYTICS_DB", REPO_ROOT / "warehouse" / "customer_analytics.duckdb"
            ),
            serving_database=directory(
                "CUSTOMER_ANALYTICS_SERVING_DB",
                REPO_ROOT / "warehouse" / "serving" / "customer_analytics.duckdb",
            ),
            exports_dir=directory(
                "CUSTOMER_ANALYTICS_EXPORTS_DIR", REPO_ROOT / "warehouse" / "exports"
            ),
            quality_dir=directory(
                "CUSTOMER_ANALYTICS_QUALITY_DIR", REPO_ROOT / "warehouse" / "quality"
            ),
            audiences_dir=directory(
                "CUSTOMER_ANALYTICS_AUDIENCES_DIR", REPO_ROOT / "warehouse" / "audiences"
            ),
            landing_dir=directory("CUSTOMER_ANALYTICS_LANDING_DIR", DEFAULT_RAW_DIR),
            raw_dialect=dialect,
            threads=_int_setting(env, "CUSTOMER_ANALYTICS_THREADS", 1, 1, 64),
            memory_limit=memory_limit,
            max_temp_size=max_temp,
            schedule_cron=cron,
            schedule_timezone=timezone,
            dagster_home=directory("DAGSTER_HOME", REPO_ROOT / ".dagster_home"),
            automation_on=automation == "on",
            sensor_interval_s=_int_setting(
                env, "CUSTOMER_ANALYTICS_SENSOR_INTERVAL_SECONDS", 30, 5, 86400
            ),
            clv_discount_rate=_rate_setting(env, "CUSTOMER_ANALYTICS_CLV_DISCOUNT_RATE", 0.1, 1.0),
            pseudonym_key_file=key_file(env),
            erasure_file=erasure_file(env),
            full_data_tests_day=full_tests_day,
            partitions_start=parse_day(
                env.get("CUSTOMER_ANALYTICS_PARTITIONS_START", "").strip() or "2023-01-01",
                "CUSTOMER_ANALYTICS_PARTITIONS_START",
            ),
        )
