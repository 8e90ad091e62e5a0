"""The raw-data generator: determinism, formats, the committed seeds, defects and the CLI.

The contract checks read the committed seeds (`data/raw/*.csv`), which another test proves
equal to the documented seeds command; every expectation here is written from the raw data
contract in docs/generator.md, not from generator internals.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from orchestration.cli import main
from tooling.generator import DEFECT_KINDS, GeneratorConfig, generate

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "data" / "raw"
SEEDS_COMMAND = [
    "generate", "--customers", "2000", "--seed", "42", "--start", "2023-01-01",
    "--end", "2025-12-31", "--format", "csv", "--out",
]  # fmt: skip
START, END = dt.date(2023, 1, 1), dt.date(2025, 12, 31)
BERLIN, LONDON = ZoneInfo("Europe/Berlin"), ZoneInfo("Europe/London")

# The raw data contract: columns in order, with the type each must parse as.
CONTRACT: dict[str, dict[str, str]] = {
    "customers": {
        "customer_id": "int", "email": "text", "first_name": "text", "last_name": "text",
        "birth_date": "date", "country_code": "text", "city": "text", "signup_at": "ts",
        "acquisition_channel": "text", "referred_by_customer_id": "int",
        "loyalty_joined_at": "ts", "marketing_consent": "bool", "consent_updated_at": "ts",
    },
    "orders": {
        "order_id": "int", "customer_id": "int", "ordered_at": "ts", "status": "text",
        "sales_channel": "text", "currency": "text", "gross_amount": "amount",
        "discount_amount": "amount", "shipping_amount": "amount", "item_count": "int",
    },
    "sessions": {
        "session_id": "int", "anonymous_id": "text", "customer_id": "int", "started_at": "ts",
        "duration_seconds": "int", "pageviews": "int", "traffic_source": "text",
        "device": "text", "landing_page": "text", "order_id": "int",
    },
    "survey_responses": {
        "response_id": "int", "customer_id": "int", "order_id": "int", "submitted_at": "ts",
        "score": "int", "comment": "text", "survey_channel": "text",
    },
    "email_events": {
        "event_id": "int", "customer_id": "int", "campaign_id": "text", "event_type": "text",
        "occurred_at": "ts",
    },
}  # fmt: skip
TIME_COLUMN = {
    "customers": "signup_at",
    "orders": "ordered_at",
    "sessions": "started_at",
    "survey_responses": "submitted_at",
    "email_events": "occurred_at",
}
CHANNELS = {"organic_search", "paid_search", "social", "email", "referral", "affiliate", "direct"}
ENUMS = {
    ("customers", "acquisition_channel"): CHANNELS,
    ("customers", "country_code"): {"DE", "AT", "CH", "NL", "FR", "GB", "BE", "IT"},
    ("orders", "status"): {"completed", "returned", "cancelled"},
    ("orders", "sales_channel"): {"web", "app", "store"},
    ("orders", "currency"): {"EUR", "GBP", "CHF"},
    ("sessions", "traffic_source"): CHANNELS,
    ("sessions", "device"): {"desktop", "mobile", "tablet"},
    ("survey_responses", "survey_channel"): {"email", "web", "app"},
    ("email_events", "event_type"): {
        "sent", "delivered", "opened", "clicked", "bounced", "unsubscribed",
    },
}  # fmt: skip
SQL_TYPE = {
    "int": "BIGINT",
    "ts": "TIMESTAMPTZ",
    "amount": "DECIMAL(12,2)",
    "date": "DATE",
    "bool": "BOOLEAN",
    "text": "VARCHAR",
}
TS_BERLIN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[12]:00$")
TS_SHOP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0[012]:00$")  # Berlin or London
TS_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def read_text(path: Path) -> pd.DataFrame:
    """A CSV file as text columns (NULL for empty fields), with a strict RFC 4180 reader."""
    table = pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in CONTRACT[path.stem]},
            null_values=[""],
            strings_can_be_null=True,
        ),
    )
    return table.to_pandas()


def parse_ts(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601")


@pytest.fixture(scope="module")
def seeds() -> dict[str, pd.DataFrame]:
    return {table: read_text(SEEDS / f"{table}.csv") for table in CONTRACT}


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


# --- determinism and formats ---------------------------------------------------------------------


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_seed_gives_identical_bytes(tmp_path: Path, fmt: str) -> None:
    def run(name: str, seed: int) -> dict[str, bytes]:
        out = tmp_path / name
        # chunk_size < customers exercises the multi-chunk merge path
        generate(GeneratorConfig(customers=700, seed=seed, fmt=fmt), out, chunk_size=300)
        return _files(out)

    first, again, other = run("a", 5), run("b", 5), run("c", 6)
    assert sorted(first) == sorted(f"{t}.{fmt}" for t in CONTRACT)
    assert first == again, "same seed produced different files"
    differ = [name for name in first if first[name] != other[name]]
    assert sorted(differ) == sorted(first), (
        f"another seed left {set(first) - set(differ)} unchanged"
    )


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_output_does_not_depend_on_thread_count(tmp_path: Path, fmt: str) -> None:
    before = pa.cpu_count()
    outputs = []
    try:
        for threads in (1, 8):
            pa.set_cpu_count(threads)
            out = tmp_path / str(threads)
            generate(GeneratorConfig(customers=400, seed=3, fmt=fmt, defects=0.02), out)
            outputs.append(_files(out))
    finally:
        pa.set_cpu_count(before)
    assert outputs[0] == outputs[1], "output changed with the number of threads"


@pytest.mark.parametrize("defects", [0.0, 0.05])
def test_csv_and_parquet_carry_the_same_data(tmp_path: Path, defects: float) -> None:
    for fmt in ("csv", "parquet"):
        config = GeneratorConfig(customers=500, seed=11, fmt=fmt, defects=defects)
        generate(config, tmp_path / fmt, chunk_size=200)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for table, columns in CONTRACT.items():
        names = ", ".join(f"'{c}': 'VARCHAR'" for c in columns)
        casts = ", ".join(f"try_cast({c} as {SQL_TYPE[k]}) as {c}" for c, k in columns.items())
        con.execute(
            f"create or replace view c as select {casts} from read_csv("
            f"'{tmp_path / 'csv' / table}.csv', header = true, delim = ',', quote = '\"', "
            f"escape = '\"', columns = {{{names}}})"
        )
        con.execute(
            f"create or replace view p as select * from '{tmp_path / 'parquet' / table}.parquet'"
        )
        types = dict(con.execute("select column_name, column_type from (describe p)").fetchall())
        expected = {c: SQL_TYPE[k] for c, k in columns.items()}
        expected = {
            c: "TIMESTAMP WITH TIME ZONE" if t == "TIMESTAMPTZ" else t for c, t in expected.items()
        }
        assert types == expected, f"{table}: Parquet types {types}"
        n_csv, n_parquet = (con.execute(f"select count(*) from {v}").fetchone()[0] for v in "cp")
        assert n_csv == n_parquet > 0, f"{table}: {n_csv} CSV rows vs {n_parquet} Parquet rows"
        for a, b in (("c", "p"), ("p", "c")):
            diff = con.execute(
                f"select * from (select * from {a} except all select * from {b}) limit 3"
            ).fetchall()
            assert not diff, f"{table}: rows in {a} but not in {b}: {diff}"


def test_committed_seeds_match_the_documented_command(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("customer-analytics")
    out = tmp_path / "raw"
    done = subprocess.run(
        [str(script), *SEEDS_COMMAND, str(out)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    for table in CONTRACT:
        assert "customers" in done.stderr and table in done.stderr  # progress lines
        committed = (SEEDS / f"{table}.csv").read_bytes()
        assert committed == (out / f"{table}.csv").read_bytes(), (
            f"data/raw/{table}.csv is stale: rerun `customer-analytics "
            f"{' '.join(SEEDS_COMMAND)} data/raw`"
        )
    total = sum((SEEDS / f"{t}.csv").stat().st_size for t in CONTRACT)
    assert total < 15_000_000, f"seeds are {total / 1e6:.1f} MB; keep them under 15 MB"


# --- the raw data contract, checked on the committed seeds ---------------------------------------


def test_files_are_utf8_lf_csv_with_the_contract_header() -> None:
    for table, columns in CONTRACT.items():
        data = (SEEDS / f"{table}.csv").read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf"), f"{table}: BOM"
        text = data.decode("utf-8")
        assert "\r" not in text, f"{table}: CR characters"
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        assert rows[0] == list(columns), f"{table}: header {rows[0]}"
        widths = {len(r) for r in rows}
        assert widths == {len(columns)}, f"{table}: rows with {widths} fields"
        assert all(r[0] for r in rows[1:]), f"{table}: empty id"


def test_text_formats(seeds: dict[str, pd.DataFrame]) -> None:
    for table, columns in CONTRACT.items():
        df = seeds[table]
        for col, kind in columns.items():
            v = df[col].dropna()
            if kind == "int":
                bad = v[~v.str.fullmatch(r"\d+")]
            elif kind == "amount":
                bad = v[~v.str.fullmatch(r"\d+\.\d{2}")]
            elif kind == "date":
                bad = v[~v.str.fullmatch(r"\d{4}-\d{2}-\d{2}")]
            elif kind == "bool":
                bad = v[~v.isin(["true", "false"])]
            elif kind == "ts":
                pattern = (
                    TS_UTC
                    if table == "email_events"
                    else TS_SHOP
                    if table == "orders"
                    else TS_BERLIN
                )
                bad = v[~v.str.fullmatch(pattern.pattern)]
            elif (table, col) in ENUMS:
                bad = v[~v.isin(ENUMS[table, col])]
            else:
                bad = v[v.str.len() == 0]
            assert bad.empty, f"{table}.{col}: {bad.head(3).tolist()}"
    customers = seeds["customers"]
    email = customers["email"]
    assert email.str.fullmatch(r"[a-z]+(\.[a-z]+)+\.\d+@example\.(com|org|net)").all()
    assert email.is_unique
    names = set(customers["first_name"]) | set(customers["last_name"])
    assert {"Jürgen", "Müller", "Weiß", "Özdemir", "Schäfer"} <= names
    assert {"München", "Köln", "Düsseldorf", "Zürich", "Wien"} <= set(customers["city"])
    assert seeds["sessions"]["anonymous_id"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert seeds["sessions"]["landing_page"].str.fullmatch(r"/([a-z]+(/[a-z0-9-]+)?)?").all()
    assert seeds["email_events"]["campaign_id"].str.fullmatch(r"\d{4}-\d{2}-[a-z-]+").all()
    comments = seeds["survey_responses"]["comment"].dropna()
    for needle in (",", '"', "\n", "ä", "ö", "ü"):
        assert comments.str.contains(needle, regex=False).any(), f"no comment with {needle!r}"
    assert 0.08 <= customers["birth_date"].isna().mean() <= 0.12


def test_offsets_are_the_local_offsets_of_each_instant(seeds: dict[str, pd.DataFrame]) -> None:
    gb = set(seeds["customers"].loc[seeds["customers"]["country_code"] == "GB", "customer_id"])
    for table, col in TIME_COLUMN.items():
        df = seeds[table]
        for text, owner in zip(df[col].iloc[::7], df["customer_id"].iloc[::7], strict=True):
            stamp = dt.datetime.fromisoformat(text)
            zone = (
                dt.UTC
                if table == "email_events"
                else LONDON
                if table == "orders" and owner in gb
                else BERLIN
            )
            expected = stamp.astimezone(zone).utcoffset()
            assert stamp.utcoffset() == expected, f"{table}.{col} {text}: want offset {expected}"
    summer = seeds["orders"]["ordered_at"].str.endswith("+02:00").any()
    winter = seeds["orders"]["ordered_at"].str.endswith("+01:00").any()
    assert summer and winter


def test_timestamps_lie_inside_the_window(seeds: dict[str, pd.DataFrame]) -> None:
    lo = pd.Timestamp(START, tz="UTC")
    hi = pd.Timestamp(END + dt.timedelta(days=1), tz="Europe/Berlin")
    for table, columns in CONTRACT.items():
        for col in (c for c, k in columns.items() if k == "ts"):
            t = parse_ts(seeds[table][col]).dropna()
            assert t.min() >= lo and t.max() < hi, f"{table}.{col}: {t.min()} .. {t.max()}"
            local_dates = seeds[table][col].dropna().str[:10]
            assert local_dates.min() >= str(START) and local_dates.max() <= str(END)


def test_ids_order_and_references(seeds: dict[str, pd.DataFrame]) -> None:
    ids: dict[str, pd.Series] = {}
    for table, columns in CONTRACT.items():
        df = seeds[table]
        key = next(iter(columns))
        i = df[key].astype("int64")
        t = parse_ts(df[TIME_COLUMN[table]])
        assert i.tolist() == list(range(1, len(df) + 1)), f"{table}: ids are not 1..n in file order"
        assert (t.diff().dropna() >= pd.Timedelta(0)).all(), f"{table}: not sorted by time"
        ids[table] = i
    customers = set(ids["customers"])
    orders = seeds["orders"].assign(order_id=ids["orders"])
    for table in ("orders", "sessions", "survey_responses", "email_events"):
        ref = seeds[table]["customer_id"].dropna().astype("int64")
        assert ref.isin(customers).all(), f"{table}.customer_id: unknown customers"
    for table in ("sessions", "survey_responses"):
        ref = seeds[table]["order_id"].dropna().astype("int64")
        assert ref.isin(set(orders["order_id"])).all(), f"{table}.order_id: unknown orders"
        assert ref.is_unique, f"{table}: an order referenced twice"


def test_customer_rules(seeds: dict[str, pd.DataFrame]) -> None:
    c = seeds["customers"]
    signup = parse_ts(c["signup_at"])
    referral = c["acquisition_channel"] == "referral"
    assert (c["referred_by_customer_id"].notna() == referral).all(), "referrer set iff referral"
    referrer = c.loc[referral, "referred_by_customer_id"].astype("int64") - 1  # ids are 1..n
    assert (signup.iloc[referrer.to_numpy()].to_numpy() < signup[referral].to_numpy()).all()
    joined = parse_ts(c["loyalty_joined_at"])
    assert (joined.dropna() >= signup[joined.notna()]).all()
    assert 0.25 <= joined.notna().mean() <= 0.35
    assert (parse_ts(c["consent_updated_at"]) >= signup).all()
    assert c["country_code"].value_counts().idxmax() == "DE"


def test_order_rules(seeds: dict[str, pd.DataFrame]) -> None:
    o = seeds["orders"].merge(seeds["customers"][["customer_id", "country_code"]], on="customer_id")
    expected = o["country_code"].map({"GB": "GBP", "CH": "CHF"}).fillna("EUR")
    assert (o["currency"] == expected).all(), "currency must follow the customer's country"
    gross, discount = o["gross_amount"].astype(float), o["discount_amount"].astype(float)
    assert ((discount >= 0) & (discount <= gross)).all()
    assert (discount == 0).mean() > 0.4, "discounts should often be 0.00"
    assert (o["item_count"].astype(int) >= 1).all()
    local = pd.to_datetime(o["ordered_at"].str[:19])
    store = o["sales_channel"] == "store"
    assert (local[store].dt.day_of_week != 6).all(), "stores are closed on Sundays"
    assert local[store].dt.hour.between(9, 20).all(), "store orders outside opening hours"


def test_session_rules(seeds: dict[str, pd.DataFrame]) -> None:
    s = seeds["sessions"]
    assert (s["duration_seconds"].astype(int) >= 0).all() and (
        s["pageviews"].astype(int) >= 1
    ).all()
    known = s.dropna(subset=["customer_id"])
    cookies_per_customer = known.groupby("customer_id")["anonymous_id"].nunique()
    assert cookies_per_customer.max() <= 2 and (cookies_per_customer == 2).any()
    owners_per_cookie = known.groupby("anonymous_id")["customer_id"].nunique()
    assert owners_per_cookie.max() == 1, "a cookie belongs to one customer"
    anonymous_only = ~s["anonymous_id"].isin(known["anonymous_id"])
    assert anonymous_only.any(), "there must be visitors who never identify"
    logged_out = s.loc[~anonymous_only, "customer_id"].isna().mean()
    assert 0.30 <= logged_out <= 0.40, f"logged-out share of known cookies {logged_out:.2f}"


def test_survey_rules(seeds: dict[str, pd.DataFrame]) -> None:
    r = seeds["survey_responses"]
    assert r["score"].astype(int).between(0, 10).all()
    with_order = r.dropna(subset=["order_id"]).merge(
        seeds["orders"][["order_id", "customer_id", "ordered_at"]],
        on="order_id",
        suffixes=("", "_o"),
    )
    assert (parse_ts(with_order["submitted_at"]) > parse_ts(with_order["ordered_at"])).all()
    assert (
        with_order["customer_id"].isna()
        | (with_order["customer_id"] == with_order["customer_id_o"])
    ).all()
    assert r["order_id"].isna().any() and r["order_id"].notna().mean() > 0.5
    assert 0.02 <= r["customer_id"].isna().mean() <= 0.08


def test_email_rules(seeds: dict[str, pd.DataFrame]) -> None:
    e = seeds["email_events"].assign(at=lambda d: parse_ts(d["occurred_at"]))
    c = seeds["customers"].set_index("customer_id")
    signup = parse_ts(c["signup_at"])
    consent_at = parse_ts(c["consent_updated_at"])
    sent = e[e["event_type"] == "sent"]
    assert (sent["at"].to_numpy() > signup[sent["customer_id"]].to_numpy()).all()
    # Mail only while consent is given: consenting customers after their consent date,
    # others (opted out or unsubscribed) only before it.
    consenting = c["marketing_consent"] == "true"
    after = sent["at"].to_numpy() >= consent_at[sent["customer_id"]].to_numpy()
    assert (after == consenting[sent["customer_id"]].to_numpy()).all(), "mail outside consent"
    assert not consenting[sent["customer_id"].unique()].all(), "someone must have opted out"
    # Each event follows its predecessor for the same customer and campaign.
    first = e.groupby(["customer_id", "campaign_id", "event_type"])["at"].min().unstack()
    for later, earlier in (
        ("delivered", "sent"),
        ("bounced", "sent"),
        ("opened", "delivered"),
        ("clicked", "opened"),
    ):
        pair = first[[later, earlier]].dropna(subset=[later])
        assert pair[earlier].notna().all(), f"{later} without {earlier}"
        assert (pair[later] > pair[earlier]).all(), f"{later} before {earlier}"
    unsub = e[e["event_type"] == "unsubscribed"].groupby("customer_id")["at"].min()
    assert len(unsub) > 0
    after_unsub = sent["at"].to_numpy() > unsub.reindex(sent["customer_id"]).to_numpy()
    assert not after_unsub.any(), "mail after unsubscribing"
    assert (consent_at[unsub.index] == unsub).all(), "consent_updated_at is the unsubscribe time"


# --- defects -------------------------------------------------------------------------------------


def _is_bad_value(text: str, kind: str) -> bool:
    try:
        if kind == "ts":
            dt.datetime.fromisoformat(text)
        elif kind == "date":
            dt.date.fromisoformat(text)
        elif kind == "int":
            int(text)
        elif kind == "amount":
            return re.fullmatch(r"-?\d+\.\d{2}", text) is None
        return False
    except ValueError:
        return True


def _same(a: object, b: object) -> bool:
    return (pd.isna(a) and pd.isna(b)) or a == b


def _is_defective(kind: str, table: str, col: str, value: str, customers: set[str]) -> bool:
    """Whether a cell really shows a defect of this kind (judged from the contract alone)."""
    if kind == "unparseable_value":
        return _is_bad_value(value, CONTRACT[table][col])
    if kind == "invalid_enum":
        return value not in ENUMS[table, col]
    if kind == "out_of_range":
        lowest = {"score": 0, "duration_seconds": 0, "pageviews": 1, "item_count": 1}[col]
        return int(value) < lowest or (col == "score" and int(value) > 10)
    if kind == "negative_amount":
        return float(value) < 0
    if kind == "future_timestamp":
        end = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(), BERLIN)
        return dt.datetime.fromisoformat(value) > end + dt.timedelta(days=365)
    if kind == "unknown_customer":
        return value not in customers
    raise AssertionError(f"unexpected defect kind {kind}")


def test_defects_are_planted_listed_and_real(tmp_path: Path) -> None:
    clean_dir, bad_dir = tmp_path / "clean", tmp_path / "bad"
    generate(GeneratorConfig(customers=400, seed=9), clean_dir)
    generate(GeneratorConfig(customers=400, seed=9, defects=0.05), bad_dir)
    manifest = pd.read_csv(bad_dir / "_defects.csv", dtype=str, keep_default_na=False)
    assert list(manifest.columns) == ["table_name", "key", "defect", "column_name"]
    assert set(manifest["defect"]) == set(DEFECT_KINDS), "every defect kind must appear"
    bad = {t: read_text(bad_dir / f"{t}.csv") for t in CONTRACT}
    clean = {t: read_text(clean_dir / f"{t}.csv") for t in CONTRACT}
    customer_ids = set(bad["customers"]["customer_id"].dropna())
    for (table, kind), group in manifest.groupby(["table_name", "defect"]):
        df = bad[table]
        key = next(iter(CONTRACT[table]))
        if kind == "missing_key":
            assert df[key].isna().sum() == len(group), f"{table}: empty keys vs manifest"
            continue
        by_key = df.set_index(key, drop=False)
        for _, entry in group.iterrows():
            rows = by_key.loc[[entry["key"]]]
            if kind in ("exact_duplicate", "duplicate_conflicting"):
                assert len(rows) == 2, f"{table} {entry['key']}: {len(rows)} rows for a {kind}"
                first, second = rows.iloc[0], rows.iloc[1]
                differ = [c for c in rows.columns if not _same(first[c], second[c])]
                want = [] if kind == "exact_duplicate" else [entry["column_name"]]
                assert differ == want, f"{table} {entry['key']} {kind}: differs in {differ}"
                continue
            assert len(rows) == 1, f"{table} {entry['key']}: {len(rows)} rows"
            col = entry["column_name"]
            value = rows.iloc[0][col]
            ok = _is_defective(kind, table, col, value, customer_ids)
            assert ok, f"{table} {entry['key']}: {col}={value!r} is not a {kind}"
    # Every other row is exactly the clean row; about 5 % of each table's rows are defective.
    for table in CONTRACT:
        key = next(iter(CONTRACT[table]))
        listed = set(manifest.loc[manifest["table_name"] == table, "key"])
        untouched = bad[table][bad[table][key].notna() & ~bad[table][key].isin(listed)]
        expected = clean[table][clean[table][key].isin(set(untouched[key]))]
        pd.testing.assert_frame_equal(
            untouched.reset_index(drop=True), expected.reset_index(drop=True)
        )
        share = (manifest["table_name"] == table).sum() / len(clean[table])
        if len(clean[table]) >= 2000:
            assert 0.035 <= share <= 0.065, f"{table}: defect share {share:.3f}, want ~0.05"


def test_no_defects_no_manifest_and_nothing_else_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "raw"
    out.mkdir()
    (out / "_defects.csv").write_text("stale\n")
    (out / "keep.txt").write_text("mine\n")
    (out / "orders.parquet").write_text("not touched by a csv run\n")
    code, err = _cli(capsys, "generate", "--customers", "50", "--out", str(out))
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([*(f"{t}.csv" for t in CONTRACT), "keep.txt", "orders.parquet"])
    assert (out / "keep.txt").read_text() == "mine\n"
    assert (out / "orders.parquet").read_text() == "not touched by a csv run\n"
    for table in CONTRACT:
        assert re.search(rf"^{table}: [\d,]+ rows -> .*{table}\.csv$", err, re.M), err


# --- CLI errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--customers", "0"], "--customers must be between 1"),
        (["--customers", "many"], "'many' is not a whole number"),
        (["--seed", "-1"], "--seed must be a non-negative integer"),
        (["--start", "2023-02-30"], "'2023-02-30' is not a date in the form YYYY-MM-DD"),
        (["--end", "31.12.2025"], "'31.12.2025' is not a date"),
        (["--start", "2024-01-01", "--end", "2023-12-31"], "must not be before --start"),
        (["--format", "xlsx"], "invalid choice: 'xlsx'"),
        (["--defects", "0.7"], "--defects must be a fraction between 0 and 0.5"),
        (["--defects", "nan"], "--defects must be a fraction between 0 and 0.5"),
        (["--defects", "lots"], "'lots' is not a number"),
        (["--colour", "red"], "Unrecognized arguments: --colour red"),
    ],
)
def test_argument_errors_are_one_clear_sentence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], needle: str
) -> None:
    code, err = _cli(capsys, "generate", "--out", str(tmp_path / "raw"), *args)
    assert code == 2
    assert needle in err, err
    assert "Traceback" not in err and err.count("\n") == 1 and err.rstrip().endswith(".")
    assert not (tmp_path / "raw").exists(), "nothing may be written on an argument error"


def test_out_must_not_be_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    code, err = _cli(capsys, "generate", "--out", str(target))
    assert code == 2 and "is a file" in err and err.count("\n") == 1
