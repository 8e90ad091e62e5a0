"""Sensors: new raw files trigger a refresh; failed runs leave a clear summary."""

import json
from pathlib import Path

import dagster as dg

from orchestration.defs.automation.jobs import daily_refresh
from orchestration.lib.landing import built_from, content_key, fingerprint, warehouse_sources
from orchestration.lib.settings import Settings

_SETTINGS = Settings.from_env()
_DEFAULT_STATUS = (
    dg.DefaultSensorStatus.RUNNING if _SETTINGS.automation_on else dg.DefaultSensorStatus.STOPPED
)


@dg.sensor(
    name="landing_directory_sensor",
    job=daily_refresh,
    minimum_interval_seconds=_SETTINGS.sensor_interval_s,
    default_status=_DEFAULT_STATUS,
    description=(
        "Watches the landing directory (CUSTOMER_ANALYTICS_LANDING_DIR, default data/raw): a new "
        "or changed raw file triggers exactly one refresh; unchanged files never re-trigger. "
        "The first tick requests nothing when the warehouse was built from these very files."
    ),
)
def landing_directory_sensor(context: dg.SensorEvaluationContext):
    """Compare the landing directory's fingerprint (sha256 per file) with the cursor; on the
    first tick (no cursor yet), with what the warehouse's raw tables were landed from."""
    settings = Settings.from_env()
    landing_dir = settings.landing_dir
    previous = json.loads(context.cursor) if context.cursor else {}
    current = fingerprint(landing_dir, previous)
    if not context.cursor:
        sources = warehouse_sources(settings.database)
        if sources is None:
            return dg.SkipReason(
                "The warehouse is busy (a build holds it); the landing directory is compared "
                "with it on the next tick."
            )
        if built_from(current, sources):
            context.update_cursor(json.dumps(current, sort_keys=True))
            return dg.SkipReason(
                f"The warehouse was built from the files now in {landing_dir}: nothing to do."
            )
    if current == previous:
        return dg.SkipReason(f"No new or changed raw file in {landing_dir}.")
    changed = sorted(
        name
        for name in current.keys() | previous.keys()
        if current.get(name, {}).get("sha256") != previous.get(name, {}).get("sha256")
    )
    context.update_cursor(json.dumps(current, sort_keys=True))
    if not changed:  # only timestamps moved: same content, no run
        return dg.SkipReason("Raw files were touched but their content is unchanged.")
    return dg.RunRequest(
        run_key=f"landing-{content_key(current)}",
        tags={"customer_analytics/changed_files": ",".join(changed)[:200]},
    )


def failure_summary(run: dg.DagsterRun, instance: dg.DagsterInstance) -> dict:
    """Which steps failed and why, and which asset checks failed, for one run."""
    failed_steps = []
    failed_checks = []
    for record in instance.all_logs(run.run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            failed_steps.append(
                {"step": event.step_key, "error": (error.message if error else "").strip()[:2000]}
            )
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                failed_checks.append(
                    {
                        "asset": evaluation.asset_key.to_user_string(),
                        "check": evaluation.check_name,
                        "severity": str(evaluation.severity.value),
                    }
                )
    return {
        "run_id": run.run_id,
        "job": run.job_name,
        "failed_steps": failed_steps,
        "failed_checks": failed_checks,
    }


@dg.run_failure_sensor(
    name="run_failure_summary",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes <DAGSTER_HOME>/failures/<run_id>.json: which step, which check, why.",
)
def run_failure_summary(context: dg.RunFailureSensorContext):
    """Record a failure summary next to the instance's storage and in the sensor log."""
    summary = failure_summary(context.dagster_run, context.instance)
    folder = Settings.from_env().dagster_home / "failures"
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(folder, f"{context.dagster_run.run_id}.json")
    path.write_text(json.dumps(summary, indent=2))
    steps = "; ".join(f"{s['step']}: {s['error'][:300]}" for s in summary["failed_steps"])
    checks = ", ".join(f"{c['asset']}:{c['check']}" for c in summary["failed_checks"])
    context.log.error(
        f"Run {summary['run_id']} failed. Steps: {steps or '-'}. Checks: {checks or '-'}."
    )
