"""Write-audit-publish: the served file holds exactly the tested marts, swaps atomically
under open readers, keeps backups, and BI readers are locked down."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, DbtResult

from orchestration.lib.publish import publish, restore
from orchestration.lib.serving import locked_down_connection, read_served

pytestmark = pytest.mark.build


def column_doc(name: str) -> str:
    """The text of a `{% docs %}` block in models/_column_docs.md, as dbt persists it."""
    text = (REPO / "models" / "_column_docs.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"{% docs " + name + r" %}(.*?){% enddocs %}", text, flags=re.S)
    return block.strip()


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "serving" / "served.duckdb", tmp_path / "exports"


def test_publish_serves_exactly_the_marts(seed_build: DbtResult, paths) -> None:
    serving, exports = paths
    publication = publish(seed_build.database, serving, exports, "b1", reference_date="2025-12-31")
    marts = [
        name
        for (name,) in seed_build.query(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        )
    ]
    assert len(marts) >= 11 and sorted(publication.row_counts) == marts
    with duckdb.connect(str(serving), read_only=True) as con:
        served = con.execute(
            "select schema_name, table_name from duckdb_tables() order by all"
        ).fetchall()
        assert served == sorted([("marts", name) for name in [*marts, "publication"]])
        for name in marts:
            query = f"select * from marts.{name} order by all"
            assert con.execute(query).fetchall() == seed_build.query(query), name
        # the privacy state every raw table of the build was read under (one, recorded)
        [(privacy_state,)] = seed_build.query(
            "select distinct privacy_state from staging.raw_source_state"
        )
        assert privacy_state
        assert con.execute(
            "select build_id, cast(reference_date as varchar), table_name, row_count,"
            " privacy_state from marts.publication order by table_name"
        ).fetchall() == [
            (
                "b1",
                "2025-12-31",
                name,
                seed_build.query(f"select count(*) from marts.{name}")[0][0],
                privacy_state,
            )
            for name in marts
        ]
        (comment,) = con.execute(
            "select comment from duckdb_columns() where table_name = 'dim_customers'"
            " and column_name = 'customer_key'"
        ).fetchone()
        assert comment == column_doc("customer_key")
    assert os.readlink(exports / "current") == "b1"
    for name in marts:
        parquet = exports / "current" / f"{name}.parquet"
        rows = duckdb.sql(f"select count(*) from read_parquet('{parquet}')").fetchone()[0]
        assert rows == publication.row_counts[name]


def test_readers_of_the_old_file_keep_a_consistent_old_copy(seed_build: DbtResult, paths) -> None:
    serving, exports = paths
    publish(seed_build.database, serving, exports, "b1")
    reader = duckdb.connect(str(serving), read_only=True)
    try:
        before = reader.execute("select count(*) from marts.fct_orders").fetchall()
        publish(seed_build.database, serving, exports, "b2")
        # the open reader still sees build b1, completely
        assert reader.execute("select distinct build_id from marts.publication").fetchall() == [
            ("b1",)
        ]
        assert reader.execute("select count(*) from marts.fct_orders").fetchall() == before
    finally:
        reader.close()
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select distinct build_id from marts.publication").fetchall() == [
            ("b2",)
        ]
    assert os.readlink(exports / "current") == "b2"
    assert (serving.parent / "backups" / "b1.duckdb").exists()
    restore(serving, "b1", exports)
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select distinct build_id from marts.publication").fetchall() == [
            ("b1",)
        ]
    assert os.readlink(exports / "current") == "b1"  # the exports follow the restored file
    with pytest.raises(FileNotFoundError, match="No backup 'b9'"):
        restore(serving, "b9")


def test_only_the_last_backups_are_kept(seed_build: DbtResult, paths) -> None:
    serving, exports = paths
    for number in range(1, 6):
        publish(seed_build.database, serving, exports, f"b{number}", keep_backups=2)
    kept = sorted(p.stem for p in (serving.parent / "backups").glob("*.duckdb"))
    assert kept == ["b3", "b4"]
    assert not list(serving.parent.glob(".*.tmp"))


def test_the_serving_file_opens_in_a_duckdb_1_5_reader(seed_build: DbtResult, paths) -> None:
    # the project pins duckdb < 2 so that the BI tools' DuckDB 1.5 readers can open the file
    assert duckdb.__version__.startswith("1.5.")
    serving, exports = paths
    publish(seed_build.database, serving, exports, "b1")
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select count(*) from marts.rpt_kpis_monthly").fetchone()[0] >= 36


def test_locked_down_reader_can_query_but_not_reach_anything_else(
    seed_build: DbtResult, paths, tmp_path: Path
) -> None:
    serving, exports = paths
    publish(seed_build.database, serving, exports, "b1")
    con = locked_down_connection(serving)
    try:
        assert con.execute("select count(*) from marts.dim_customers").fetchone() == (2000,)
        denied = [
            f"select * from read_csv('{seed_build.database.parent}/../x.csv')",
            f"attach '{seed_build.database}' as build",
            f"copy (select 1) to '{tmp_path / 'leak.csv'}'",
            "set enable_external_access = true",
            "create table marts.scratch as select 1",
            "install httpfs",
        ]
        for statement in denied:
            with pytest.raises(duckdb.Error):
                con.execute(statement)
        assert not (tmp_path / "leak.csv").exists()
    finally:
        con.close()


def test_publishing_the_served_build_id_again_is_refused_and_harms_nothing(
    seed_build: DbtResult, paths
) -> None:
    serving, exports = paths
    publish(seed_build.database, serving, exports, "b1")
    before = sorted(p.name for p in (exports / "b1").iterdir())
    with pytest.raises(ValueError, match="'b1' is already served"):
        publish(seed_build.database, serving, exports, "b1")
    assert sorted(p.name for p in (exports / "current").iterdir()) == before
    with pytest.raises(ValueError, match="keep at least 1 backup"):
        publish(seed_build.database, serving, exports, "b2", keep_backups=0)


def test_report_writers_run_on_the_staged_publication_before_the_swap(
    seed_build: DbtResult, paths
) -> None:
    serving, exports = paths
    publish(seed_build.database, serving, exports, "b1", reference_date="2025-12-31")
    seen = []

    def writer(staged: Path, folder: Path) -> None:
        # the new publication is complete in the staged file; the old one is still served
        seen.append((read_served(staged).build_id, read_served(serving).build_id))
        (folder / "note.txt").write_text("written before the swap")

    publish(seed_build.database, serving, exports, "b2", report_writers=[writer])
    assert seen == [("b2", "b1")]
    assert (exports / "current" / "note.txt").read_text() == "written before the swap"
    served = read_served(serving)
    assert (served.build_id, served.reference_date) == ("b2", None)


def test_a_failing_report_writer_publishes_nothing(seed_build: DbtResult, paths) -> None:
    serving, exports = paths
    publish(seed_build.database, serving, exports, "b1", reference_date="2025-12-31")
    before = serving.read_bytes()

    def broken(staged: Path, folder: Path) -> None:
        raise RuntimeError("chart failed")

    with pytest.raises(RuntimeError, match="chart failed"):
        publish(seed_build.database, serving, exports, "b2", report_writers=[broken])
    assert serving.read_bytes() == before
    assert os.readlink(exports / "current") == "b1"
    served = read_served(serving)
    assert (served.build_id, str(served.reference_date)) == ("b1", "2025-12-31")
    # the next publish cleans up the staged leftovers and succeeds
    publish(seed_build.database, serving, exports, "b3")
    assert read_served(serving).build_id == "b3"
    assert not [p.name for p in exports.iterdir() if p.name.startswith(".")]


def test_read_served_without_a_publication(tmp_path: Path) -> None:
    assert read_served(tmp_path / "missing.duckdb") is None
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    assert read_served(tmp_path / "empty.duckdb") is None
