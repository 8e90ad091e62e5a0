"""Staging on the hand-made defect fixture: every reason code, the row balance, UTC, EUR.

tests/fixtures/defects/ holds a few rows per raw table, each either clean or carrying one
defect. The expected outcome of every row is written out below by hand (not derived from the
models), so each assertion can fail.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal

import pytest
from conftest import FIXTURES, DbtResult

pytestmark = pytest.mark.build

AS_OF = "2024-06-30"

# (source_table, source_key, reason, column): one entry per distinct rejected raw row.
EXPECTED_QUARANTINE = [
    ("crm.customers", "3", "unparseable_value", "birth_date"),
    ("crm.customers", "4", "invalid_enum", "acquisition_channel"),
    ("crm.customers", "5", "future_timestamp", "signup_at"),
    ("crm.customers", "6", "duplicate_conflicting", "customer_id"),
    ("crm.customers", "6", "duplicate_conflicting", "customer_id"),
    ("crm.customers", None, "missing_key", "customer_id"),
    ("crm.customers", "7", "unparseable_value", "marketing_consent"),
    ("crm.customers", "8", "invalid_value", "email"),
    ("crm.customers", "11", "invalid_enum", "country_code"),
    ("crm.customers", "9", "out_of_range", "birth_date"),
    ("crm.customers", "10", "missing_value", "signup_at"),
    ("shop.orders", "103", "invalid_enum", "status"),
    ("shop.orders", "104", "negative_amount", "gross_amount"),
    ("shop.orders", "105", "unparseable_value", "gross_amount"),
    ("shop.orders", "106", "unknown_customer", "customer_id"),
    ("shop.orders", "107", "future_timestamp", "ordered_at"),
    ("shop.orders", "108", "duplicate_conflicting", "order_id"),
    ("shop.orders", "108", "duplicate_conflicting", "order_id"),
    ("shop.orders", "110", "invalid_enum", "currency"),
    ("shop.orders", "111", "out_of_range", "item_count"),
    # customer 3 is itself quarantined, so its order has no accepted customer
    ("shop.orders", "112", "unknown_customer", "customer_id"),
    ("shop.orders", None, "missing_key", "order_id"),
    ("shop.orders", "113", "unparseable_value", "ordered_at"),
    ("shop.orders", "115", "out_of_range", "discount_amount"),
    ("shop.orders", "116", "missing_value", "shipping_amount"),
    ("web_analytics.sessions", "202", "unknown_customer", "customer_id"),
    ("web_analytics.sessions", "203", "out_of_range", "duration_seconds"),
    ("web_analytics.sessions", "204", "invalid_enum", "device"),
    ("web_analytics.sessions", "205", "unknown_order", "order_id"),
    ("web_analytics.sessions", "206", "unparseable_value", "duration_seconds"),
    ("web_analytics.sessions", "207", "out_of_range", "pageviews"),
    ("nps.survey_responses", "302", "out_of_range", "score"),
    ("nps.survey_responses", "303", "out_of_range", "score"),
    ("nps.survey_responses", "304", "unparseable_value", "score"),
    ("nps.survey_responses", "305", "future_timestamp", "submitted_at"),
    ("nps.survey_responses", "306", "invalid_enum", "survey_channel"),
    ("nps.survey_responses", "307", "missing_value", "submitted_at"),
    ("email.email_events", "402", "invalid_enum", "event_type"),
    ("email.email_events", "403", "missing_value", "customer_id"),
    ("email.email_events", "404", "unknown_customer", "customer_id"),
]

EXPECTED_ACCEPTED = {
    "staging.stg_crm__customers": ("customer_id", {"1", "2"}),
    "staging.stg_shop__orders": ("order_id", {"100", "101", "102", "109", "114"}),
    "staging.stg_web_analytics__sessions": ("session_id", {"200", "201"}),
    "staging.stg_nps__survey_responses": ("response_id", {"300", "301"}),
    "staging.stg_email__email_events": ("event_id", {"400", "401"}),
}

# Data rows in each fixture file (counted by hand), and exact duplicate copies in them.
EXPECTED_READ = {
    "crm.customers": 14,
    "shop.orders": 20,
    "web_analytics.sessions": 8,
    "nps.survey_responses": 8,
    "email.email_events": 5,
}
EXPECTED_COLLAPSED = {"crm.customers": 1, "shop.orders": 1}

ALL_REASONS = {
    "missing_key",
    "missing_value",
    "unparseable_value",
    "invalid_enum",
    "invalid_value",
    "out_of_range",
    "negative_amount",
    "future_timestamp",
    "duplicate_conflicting",
    "unknown_customer",
    "unknown_order",
}


@pytest.fixture(scope="module")
def defects_build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    from conftest import run_dbt

    work_dir = tmp_path_factory.mktemp("defects")
    result = run_dbt(
        ["build"],
        work_dir / "defects.duckdb",
        {"raw_data_path": str(FIXTURES / "defects"), "as_of_date": AS_OF},
        work_dir,
    )
    assert result.returncode == 0, result.output[-5000:]
    return result


def test_fixture_covers_every_reason_code() -> None:
    assert {reason for _, _, reason, _ in EXPECTED_QUARANTINE} == ALL_REASONS


def test_each_bad_row_is_quarantined_with_its_reason(defects_build: DbtResult) -> None:
    rows = defects_build.query(
        "select source_table, source_key, rejection_reason, rejection_column"
        " from staging.stg_quarantine__rejected_rows"
    )
    assert Counter(rows) == Counter(EXPECTED_QUARANTINE)


def test_only_clean_rows_are_accepted(defects_build: DbtResult) -> None:
    for relation, (key, expected) in EXPECTED_ACCEPTED.items():
        keys = {row[0] for row in defects_build.query(f"select {key} from {relation}")}
        assert keys == expected, relation


def test_balance_read_equals_accepted_plus_quarantined_plus_collapsed(
    defects_build: DbtResult,
) -> None:
    report = {
        row[0]: row[1:]
        for row in defects_build.query(
            "select source_table, rows_read, rows_accepted, rows_quarantined,"
            " rows_collapsed_duplicates from marts.rpt_data_quality"
        )
    }
    quarantined = Counter(table for table, _, _, _ in EXPECTED_QUARANTINE)
    accepted = {
        "crm.customers": 2,
        "shop.orders": 5,
        "web_analytics.sessions": 2,
        "nps.survey_responses": 2,
        "email.email_events": 2,
    }
    for table, rows_read in EXPECTED_READ.items():
        collapsed = EXPECTED_COLLAPSED.get(table, 0)
        assert report[table] == (rows_read, accepted[table], quarantined[table], collapsed)
        assert rows_read == accepted[table] + quarantined[table] + collapsed


def test_reason_columns_in_report_match_quarantine(defects_build: DbtResult) -> None:
    (row,) = defects_build.query(
        "select quarantined_unknown_customer, quarantined_duplicate_conflicting,"
        " quarantined_out_of_range from marts.rpt_data_quality"
        " where source_table = 'shop.orders'"
    )
    assert row == (2, 2, 2)


def test_timestamps_are_normalised_to_utc(defects_build: DbtResult) -> None:
    orders = dict(defects_build.query("select order_id, ordered_at from staging.stg_shop__orders"))
    # 01:30 at +01:00 and 03:30 at +02:00 straddle the 2024 DST change: one hour apart in UTC.
    assert orders["100"] == datetime(2024, 3, 31, 0, 30)
    assert orders["101"] == datetime(2024, 3, 31, 1, 30)
    assert orders["102"] == datetime(2024, 4, 1, 10, 0)  # 'Z'
    assert orders["114"] == datetime(2024, 6, 30, 21, 0)  # 23:00 at +02:00
    (started_at,) = defects_build.query(
        "select started_at from staging.stg_web_analytics__sessions where session_id = '200'"
    )[0]
    assert started_at == datetime(2024, 3, 31, 0, 0)


def test_amounts_are_converted_to_eur_to_the_cent(defects_build: DbtResult) -> None:
    rows = dict(
        (row[0], row[1:])
        for row in defects_build.query(
            "select order_id, currency, gross_amount, gross_amount_eur, discount_amount_eur"
            " from staging.stg_shop__orders"
        )
    )
    assert rows["102"] == ("CHF", Decimal("100.00"), Decimal("105.00"), Decimal("0.00"))
    assert rows["100"] == ("EUR", Decimal("49.90"), Decimal("49.90"), Decimal("5.00"))


def test_text_survives_intact(defects_build: DbtResult) -> None:
    customers = dict(
        defects_build.query("select customer_id, last_name from staging.stg_crm__customers")
    )
    assert customers == {"1": "Müller", "2": "Weiß"}
    comments = dict(
        defects_build.query(
            "select response_id, comment_text from staging.stg_nps__survey_responses"
        )
    )
    assert comments["300"] == "Schnelle Lieferung, tolle Qualität – „sehr gut“"
    assert comments["301"] == 'Line one\nline two, with "quotes"'


def test_quarantine_keeps_the_raw_text(defects_build: DbtResult) -> None:
    (raw,) = defects_build.query(
        "select raw_values from staging.stg_quarantine__rejected_rows"
        " where source_table = 'shop.orders' and source_key = '105'"
    )[0]
    assert '"gross_amount":"12,50€"' in raw


def test_reference_date_comes_from_the_var(defects_build: DbtResult) -> None:
    assert defects_build.query(
        "select cast(reference_date as varchar), reference_date_source"
        " from staging.stg_shop__reference_date"
    ) == [(AS_OF, "var as_of_date")]
