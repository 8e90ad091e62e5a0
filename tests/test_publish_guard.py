"""Publish only what passed: a build whose dbt test failed, whose tables were rebuilt without
their tests, or that was not validated on its current state is refused by every way of
publishing (the CLI as make build runs it, the publish() API, Dagster's publish asset), with
one sentence naming what failed and what to do, and the served marts unchanged.

Each scenario works on a copy of the session's seed build (dbt build, then validated), made
bad the way a user would: a row planted in a mart and `dbt test`, or `dbt run` after the
build. The seeds' build itself passes every dbt test and every suite (conftest.seed_build).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, REPO, DbtResult, run_dbt, run_validate

from orchestration.lib.publish import UntestedBuildError, publish
from orchestration.lib.publish_guard import NAMED
from orchestration.lib.quality.suites import SUITES
from orchestration.lib.serving import read_served

pytestmark = pytest.mark.e2e

FCT_ORDERS_TESTS = ("unique_fct_orders_order_id", "not_null_fct_orders_order_id")
"""Two of the dbt data tests of marts.fct_orders (models/marts/orders/_orders__models.yml)."""


class Site:
    """A copy of the seed build beside a serving file that already serves a good build."""

    def __init__(self, root: Path, seed_build: DbtResult) -> None:
        self.root = root
        self.build = root / "warehouse.duckdb"
        self.serving = root / "serving" / "served.duckdb"
        self.exports = root / "exports"
        self.quality = root / "quality"
        shutil.copy2(seed_build.database, self.build)
        # the last good publication: the seeds' build itself (validated, every test passed)
        publish(seed_build.database, self.serving, self.exports, "good")

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CUSTOMER_ANALYTICS_DB": str(self.build),
            "CUSTOMER_ANALYTICS_SERVING_DB": str(self.serving),
            "CUSTOMER_ANALYTICS_EXPORTS_DIR": str(self.exports),
            "CUSTOMER_ANALYTICS_QUALITY_DIR": str(self.quality),
        }

    def validate(self) -> subprocess.CompletedProcess:
        return run_validate(self.build, self.quality, self.serving)

    def cli_publish(self, build_id: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "customer-analytics"), "publish", "--build-id", build_id],
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def served(self) -> tuple[str, str, str]:
        """What readers see: the served file's bytes, its build id, where current points."""
        digest = hashlib.sha256(self.serving.read_bytes()).hexdigest()
        return digest, read_served(self.serving).build_id, os.readlink(self.exports / "current")


@pytest.fixture
def site(seed_build: DbtResult, tmp_path: Path) -> Site:
    return Site(tmp_path, seed_build)


def plant_duplicate_order(database: Path) -> None:
    """A second row for an existing order id in marts.fct_orders."""
    with duckdb.connect(str(database)) as con:
        (order_id,) = con.execute("select min(order_id) from marts.fct_orders").fetchone()
        con.execute(
            "insert into marts.fct_orders select * from marts.fct_orders where order_id = ?",
            [order_id],
        )


def test_a_failed_dbt_test_is_refused_by_the_cli_the_api_and_dagster(site: Site) -> None:
    before = site.served()
    plant_duplicate_order(site.build)
    tested = run_dbt(["test", "--select", "fct_orders"], site.build)
    assert tested.returncode == 1, tested.output[-3000:]
    assert "Failure in test unique_fct_orders_order_id" in tested.output
    # the Great Expectations suites do not look for duplicate keys (dbt does): they pass, so
    # what refuses below is the build's dbt record alone
    validated = site.validate()
    assert validated.returncode == 0, validated.stdout[-3000:]

    refused = site.cli_publish("bad-cli")
    assert refused.returncode == 1, refused.stderr
    sentence = refused.stderr.strip().removeprefix("customer-analytics publish: error: ")
    assert sentence.startswith(f"{site.build} is not published (the served marts are unchanged)")
    assert "dbt tests failed: " in sentence and "unique_fct_orders_order_id (fail)" in sentence
    assert sentence.endswith(
        "; fix what failed and run make build (dbt build, customer-analytics clv, validate and"
        " publish)."
    )
    assert "quality suites" not in sentence  # validated on this state: only the test failed
    assert "\n" not in sentence
    assert site.served() == before
    assert not (site.exports / "bad-cli").exists()

    with pytest.raises(UntestedBuildError) as api:
        publish(site.build, site.serving, site.exports, "bad-api", quality_dir=site.quality)
    assert str(api.value) == sentence
    assert site.served() == before

    # under Dagster, with the mart suites checked (and passed) in the same run, as in
    # daily_refresh, and alone
    for with_mart_checks in (True, False):
        failure = run_dagster_publish(site, with_mart_checks)
        assert sentence in failure, failure
        assert site.served() == before
    assert not [p.name for p in site.exports.iterdir() if p.name.startswith("bad")]


def run_dagster_publish(site: Site, with_mart_checks: bool) -> str:
    """Dagster's publish asset on the site (with the mart suites' checks in the same run, as
    daily_refresh runs them, when asked); returns its one failure's message, after checking
    that it failed once, without retries, and that every check in the run passed."""
    import dagster as dg

    from orchestration.defs.quality.checks import MART_SUITES, build_layer_checks, check_key
    from orchestration.defs.resources import WarehouseResource
    from orchestration.defs.serving.assets import build_published_marts

    marts = [dg.AssetKey(["marts", name]) for name in MART_SUITES]
    published = build_published_marts(marts, ["analytics-engineering@example.com"])
    checks = build_layer_checks("gx_mart_suites", MART_SUITES, "the mart suites")
    selection = dg.AssetSelection.assets(published)
    if with_mart_checks:
        selection |= dg.AssetSelection.checks(*(check_key(name) for name in MART_SUITES))
    result = dg.materialize(
        [published, checks],
        selection=selection,
        resources={
            "warehouse": WarehouseResource(
                database=str(site.build),
                landing_dir=str(site.root),
                serving_database=str(site.serving),
                exports_dir=str(site.exports),
                quality_dir=str(site.quality),
            )
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success and not result.get_asset_materialization_events()
    evaluations = [
        event.event_specific_data
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert len(evaluations) == (len(MART_SUITES) if with_mart_checks else 0)
    assert all(evaluation.passed for evaluation in evaluations)
    events = [event.event_type_value for event in result.all_events]
    assert events.count("STEP_FAILURE") == 1 and "STEP_UP_FOR_RETRY" not in events, events
    (message,) = [e.step_failure_data.error.message for e in result.all_events if e.is_step_failure]
    return message


def test_dbt_run_after_the_build_is_refused_until_the_tests_run_again(site: Site) -> None:
    before = site.served()
    ran = run_dbt(["run", "--select", "fct_orders"], site.build)
    assert ran.returncode == 0, ran.output[-3000:]
    assert site.validate().returncode == 0

    refused = site.cli_publish("untested")
    assert refused.returncode == 1, refused.stderr
    assert "dbt tests not run since their table was last built (e.g. by dbt run): " in (
        refused.stderr
    )
    assert all(test in refused.stderr for test in FCT_ORDERS_TESTS)
    assert "dbt tests failed" not in refused.stderr and "run make build" in refused.stderr
    assert site.served() == before

    # the same tables, tested again (dbt test writes the file: validate again), are published
    tested = run_dbt(["test", "--select", "fct_orders"], site.build)
    assert tested.returncode == 0, tested.output[-3000:]
    assert site.validate().returncode == 0
    published = site.cli_publish("tested")
    assert published.returncode == 0, published.stderr
    assert site.served()[1:] == ("tested", "tested")


def test_a_build_validated_by_nobody_is_refused_and_published_once_validated(
    site: Site,
) -> None:
    """A copy of a validated build is another build file: its own state was never validated."""
    before = site.served()
    with pytest.raises(UntestedBuildError) as refused:
        publish(site.build, site.serving, site.exports, "unvalidated", quality_dir=site.quality)
    sentence = str(refused.value)
    assert "quality suites have no passing record for this state of the build file" in sentence
    # every suite (each has ERROR rules), the first few by name
    assert "fct_orders" in sentence and f"and {len(SUITES) - NAMED} more;" in sentence
    assert "dbt" not in sentence  # every dbt test passed after its table was built
    assert sentence.endswith("run customer-analytics validate, then publish again.")
    assert site.served() == before

    validated = site.validate()
    assert validated.returncode == 0, validated.stdout[-3000:]
    publication = publish(
        site.build, site.serving, site.exports, "validated", quality_dir=site.quality
    )
    assert read_served(site.serving).build_id == publication.build_id == "validated"


def test_a_suite_failed_on_this_state_is_refused(site: Site) -> None:
    """An order amount above the suites' ceiling (50,000 EUR), set after dbt's tests ran: the
    dbt record is clean, the fct_orders suite fails its ERROR rule."""
    before = site.served()
    with duckdb.connect(str(site.build)) as con:
        con.execute(
            "update marts.fct_orders set shipping_amount_eur = 250000"
            " where order_id = (select min(order_id) from marts.fct_orders)"
        )
    validated = site.validate()
    assert validated.returncode == 1 and "(fct_orders)" in validated.stderr
    refused = site.cli_publish("too-much")
    assert refused.returncode == 1, refused.stderr
    assert "quality suites failed ERROR rules: fct_orders;" in refused.stderr
    assert "fix what failed and run make build" in refused.stderr
    assert "dbt tests" not in refused.stderr
    assert site.served() == before


def test_the_dbt_record_holds_node_ids_and_statuses_only(seed_build: DbtResult) -> None:
    """audit.dbt_node_results: every model, seed and data test of the manifest, passed after
    its tables were built; only ids, types, statuses, times and relation names."""
    manifest = json.loads((seed_build.database.parent / "target" / "manifest.json").read_text())
    expected = {
        unique_id: node["resource_type"]
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "test")
    }
    rows = seed_build.query(
        "select unique_id, resource_type, status, tested_models, relation_name"
        " from audit.dbt_node_results"
    )
    assert {unique_id: kind for unique_id, kind, *_ in rows} == expected
    assert {status for _, _, status, _, _ in rows} == {"success", "pass"}
    for unique_id, kind, _, tested, relation in rows:
        node = manifest["nodes"][unique_id]
        if kind == "test":
            parents = node["depends_on"]["nodes"]
            assert (tested.split(",") if tested else []) == [
                p for p in parents if p.startswith(("model.", "seed."))
            ]
            assert relation == ""
        else:
            assert (tested, relation) == ("", f"{node['schema']}.{node['alias']}")
    columns = seed_build.query(
        "select table_name, column_name from duckdb_columns() where schema_name = 'audit'"
        " order by all"
    )
    assert {table for table, _ in columns} == {"dbt_invocations", "dbt_node_results"}
    ((invocations, finished),) = seed_build.query(
        "select count(*), count(completed_at) from audit.dbt_invocations"
    )
    assert invocations == finished == 1
