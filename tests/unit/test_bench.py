"""The pure parts of bench/: statistics, prober gaps, timelines, report rendering, the old
pipeline's sed and env lines. No Docker, no targets."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import envfiles, machine, prober, report, sandbox, stats, timeline  # noqa: E402
from bench.measure import Result  # noqa: E402
from bench.prober import Sample  # noqa: E402
from bench.sections import Bench, Plan  # noqa: E402

# -- statistics ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "median", "low", "high", "iqr"),
    [
        ([3.0], 3.0, 3.0, 3.0, 0.0),
        ([1.0, 3.0], 2.0, 1.0, 3.0, 1.0),
        ([5.0, 1.0, 3.0, 2.0, 4.0], 3.0, 1.0, 5.0, 2.0),
        ([10, 10, 10, 40], 10.0, 10.0, 40.0, 7.5),
    ],
)
def test_summary_gives_median_and_spread(values, median, low, high, iqr):
    s = stats.summary(values)
    assert (s["n"], s["median"], s["min"], s["max"], s["iqr"]) == (
        len(values), median, low, high, pytest.approx(iqr),
    )  # fmt: skip


def test_summary_of_nothing_is_empty():
    assert stats.summary([]) == {
        "n": 0, "median": None, "min": None, "max": None, "q1": None, "q3": None, "iqr": None,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("a", "b", "expected"), [(10, 4, 2.5), (None, 4, None), (3, None, None), (3, 0, None)]
)
def test_ratio(a, b, expected):
    assert stats.ratio(a, b) == expected


# -- prober -------------------------------------------------------------------------------


def ok(t: float, version: str = "v1") -> Sample:
    return Sample(t, t + 0.01, status=200, version=version)


def test_longest_gap_between_good_answers():
    gap, start = prober.longest_gap([1.0, 1.5, 4.0, 4.2], 0.0, 5.0)
    assert (gap, start) == (2.5, 1.5)


@pytest.mark.parametrize(
    ("good", "expected"),
    [
        ([], (10.0, 0.0)),  # nothing good: the whole window
        ([9.5], (9.5, 0.0)),  # the gap before the first good answer counts
        ([0.5], (9.5, 0.5)),  # and the one after the last
        ([-3.0, 12.0, 5.0], (5.0, 0.0)),  # answers outside the window are ignored
    ],
)
def test_longest_gap_edges(good, expected):
    assert prober.longest_gap(good, 0.0, 10.0) == expected


def test_sample_kinds():
    assert ok(0).kind == "ok" and ok(0).ok
    assert Sample(0, 1, status=502).kind == "http_502"
    assert Sample(0, 1, error="timeout").kind == "timeout"
    assert not Sample(0, 1, error="refused").ok


def test_summarize_counts_failures_gap_and_first_answer_of_the_new_version():
    samples = [ok(100 + i * 0.02) for i in range(50)]  # old version serves 100 .. 101
    samples += [Sample(101.1, 101.1, error="refused"), Sample(101.2, 102.2, error="timeout")]
    samples += [Sample(102.5, 102.52, status=502)]
    samples += [ok(103.0 + i * 0.02, "v2") for i in range(10)]
    summary = prober.summarize(samples, 99.5, 104.0, reference=100.5, version="v2")
    assert summary.requests == 63
    assert summary.good == 60 and summary.failed == 3
    assert summary.failures_by_kind == {"http_502": 1, "refused": 1, "timeout": 1}
    assert summary.longest_gap_s == pytest.approx(103.01 - (100.98 + 0.01), abs=1e-3)
    assert summary.longest_gap_from_s == pytest.approx(0.49, abs=1e-3)
    assert summary.first_good_of_version_s == pytest.approx(2.51, abs=1e-3)


def test_summarize_without_the_version():
    summary = prober.summarize([ok(1.0)], 0.0, 2.0, reference=0.0, version="v9")
    assert summary.first_good_of_version_s is None


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([ok(1.0), ok(2.0), Sample(3.0, 4.0, error="timeout"), ok(5.0)], True),  # slow is no switch
        ([ok(0.5, "v2"), ok(1.0), ok(2.0)], True),  # before SINCE does not count
        ([ok(1.0), Sample(2.0, 2.0, error="refused"), ok(3.0)], False),
        ([ok(1.0), Sample(2.0, 2.1, status=503), ok(3.0)], False),
        ([ok(1.0), ok(2.0, "v2")], False),  # another version answered
        ([], False),
    ],
)
def test_kept_serving_means_one_version_answered_throughout(samples, expected):
    assert prober.kept_serving(samples, "v1", since=1.0) is expected


# -- timelines ----------------------------------------------------------------------------


def start(t: float, path: str, tags: tuple[str, ...] = (), task: str = "t") -> dict:
    return {"event": "task_start", "t": t, "path": path, "task": task, "tags": list(tags)}


def result(t: float, path: str, status: str, tags: tuple[str, ...] = ()) -> dict:
    return {"event": "result", "t": t, "path": path, "status": status, "host": "h",
            "tags": list(tags)}  # fmt: skip


DEPLOY = "/r/roles/deploy/tasks/"
PREFLIGHT, LOCK, PULL = ("deploy_preflight",), ("release_lock",), ("deploy_pull",)
VERIFY = ("deploy_verify", "release_verify")  # the deploy's health gate
RECOVER = ("deploy_recover",)
RESTORE = ("deploy_recover", "release_switch")  # the restore's switch back
RESTORED = ("deploy_recover", "release_verify")  # and its health check
PRUNE = ("deploy_prune",)
EVENTS = [
    start(10.0, "/r/playbooks/deploy.yml:15", PREFLIGHT),
    result(10.2, "/r/playbooks/deploy.yml:15", "ok", PREFLIGHT),
    start(10.5, DEPLOY + "lock.yml:2", LOCK),
    result(11.0, DEPLOY + "lock.yml:2", "ok", LOCK),
    start(11.0, DEPLOY + "pull.yml:3", PULL),
    result(15.0, DEPLOY + "pull.yml:3", "changed", PULL),
    start(15.0, "/r/roles/health/tasks/main.yml:2", VERIFY),
    result(40.0, "/r/roles/health/tasks/main.yml:2", "failed", VERIFY),
    start(40.5, DEPLOY + "recover.yml:2", RECOVER),
    result(40.7, DEPLOY + "recover.yml:2", "changed", RECOVER),
    start(41.0, "/r/roles/rollback/tasks/restore.yml:5", RESTORE),
    result(44.0, "/r/roles/rollback/tasks/restore.yml:5", "changed", RESTORE),
    start(44.0, "/r/roles/health/tasks/main.yml:2", RESTORED),
    result(50.0, "/r/roles/health/tasks/main.yml:2", "ok", RESTORED),
    start(50.0, DEPLOY + "prune.yml:9", PRUNE),
    result(50.1, DEPLOY + "prune.yml:9", "skipped", PRUNE),
]


def test_tasks_run_counts_results_that_ran_a_module():
    assert timeline.tasks_run(EVENTS) == {
        "task_starts": 8, "executed": 7, "changed": 3, "skipped": 1,
    }  # fmt: skip


def test_phases_sum_task_times_by_their_tags():
    phases = timeline.phases(EVENTS, end=51.0)
    # the automatic rollback's first steps (recover), its restore and health check: rollback
    assert phases == {
        "preflight": 0.5, "lock": 0.5, "pull": 4.0, "verify": 25.5, "rollback": 9.5,
        "prune": 1.0,
    }  # fmt: skip


def test_phases_do_not_depend_on_task_files():
    """Renaming or moving a task file moves no time: only the tags count."""
    moved = [{**e, "path": f"/elsewhere/renamed_{i}.yml:1"} for i, e in enumerate(EVENTS)]
    assert timeline.phases(moved, end=51.0) == timeline.phases(EVENTS, end=51.0)
    assert timeline.auto_rollback(moved) == timeline.auto_rollback(EVENTS)


def test_a_task_without_a_phase_tag_counts_in_the_previous_phase():
    events = [
        start(0.0, "a", PULL),
        start(1.0, "b"),  # an included task list without tags
        start(3.0, "c", ("always",)),  # a role's argument check
        start(4.0, "d", PRUNE),
    ]
    assert timeline.phases(events, end=5.0) == {"pull": 4.0, "prune": 1.0}
    assert timeline.phases([start(0.0, "a")], end=2.0) == {"other": 2.0}
    # timelines written before the callback recorded tags: no field at all
    assert timeline.phases([{"event": "task_start", "t": 0.0, "path": "x"}], 1.0) == {"other": 1.0}


def test_auto_rollback_moments():
    assert timeline.auto_rollback(EVENTS) == {
        "gate_failed": 40.0, "restore_start": 41.0, "restored_healthy": 50.0,
    }  # fmt: skip
    assert timeline.auto_rollback(EVENTS[:6]) == {
        "gate_failed": None, "restore_start": None, "restored_healthy": None,
    }  # fmt: skip


def test_auto_rollback_moments_of_a_refused_rolling_deploy():
    switch = ("release_switch",)
    refused = [
        start(10.0, DEPLOY + "switch.yml:6", switch),
        # new containers fail healthchecks
        result(30.0, DEPLOY + "switch.yml:6", "failed", switch),
        start(30.1, DEPLOY + "compose_failed.yml:6"),  # no tag: the switch's failure message
        result(30.2, DEPLOY + "compose_failed.yml:6", "failed"),
        start(30.5, DEPLOY + "recover.yml:2", RECOVER),
        start(31.0, "/r/roles/rollback/tasks/restore.yml:7", RESTORE),
        result(33.0, "/r/roles/rollback/tasks/restore.yml:7", "ok", RESTORE),
        start(33.0, "/r/roles/health/tasks/main.yml:2", RESTORED),
        result(35.0, "/r/roles/health/tasks/main.yml:2", "ok", RESTORED),
    ]
    assert timeline.auto_rollback(refused) == {
        "gate_failed": 30.0, "restore_start": 31.0, "restored_healthy": 35.0,
    }  # fmt: skip


def test_stamped_phases_of_a_script():
    out = "noise\nPHASE copy 100.0\nPHASE sed 101.5\nPHASE sleep 102.0\nPHASE done 132.0\n"
    assert timeline.stamped_phases(out, end=133.0) == {"copy": 1.5, "sed": 0.5, "sleep": 30.0}
    assert timeline.stamped_phases("PHASE pull 5.0\n", end=7.5) == {"pull": 2.5}


# -- report -------------------------------------------------------------------------------


def run(measure: str, method: str, seconds: float, **kw) -> dict:
    base = {
        "measure": measure, "method": method, "version": "c0ffee2", "previous": "c0ffee1",
        "seconds": seconds, "rc": 0, "ok": True, "started": 0.0, "phases": {"pull": 1.0},
        "tasks": {"executed": 40, "task_starts": 45, "changed": 5, "skipped": 3},
        "ssh_connections": 1, "probe": None, "hosts": 1, "extra": {}, "log": "",
    }  # fmt: skip
    base.update(kw)
    return base


def probe(failed: int, gap: float, first: float | None = 5.0, timeouts: int = 0) -> dict:
    kinds = {"reset": failed - timeouts, "timeout": timeouts} if failed else {}
    return {
        "requests": 1000, "good": 1000 - failed, "failed": failed, "failures_by_kind": kinds,
        "longest_gap_s": gap, "longest_gap_from_s": 1.0, "window_s": 20.0,
        "first_good_of_version_s": first, "version": "c0ffee2", "extra": {},
    }  # fmt: skip


RUNS = [
    run("deploy", "ours", 40.0),
    run("deploy", "ours", 44.0),
    run("deploy", "floor", 10.0),
    run("deploy", "floor", 11.0),
    run("deploy", "old", 60.0, extra={"seconds_without_sleep": 30.0}),
    run("deploy", "old", 62.0, extra={"seconds_without_sleep": 32.0}),
    run("deploy", "ours", 99.0, ok=False, rc=2),  # a failed run is not counted
    run("probe", "ours", 80.0, probe=probe(100, 3.0, timeouts=60)),
    run("probe", "floor", 12.0, probe=probe(300, 6.0)),
    run("probe", "old", 64.0, probe=probe(600, 12.0)),
    run("rollback", "old manual", 9.0, probe=probe(300, 6.0, first=8.0)),
    run("rollback", "rollback.yml", 20.0, probe=probe(200, 4.0, first=16.0),
        extra={"warm_containers": 3}),
    run("rollback", "rollback.yml", 22.0, probe=probe(0, 0.1, first=6.0),
        extra={"warm_containers": 0}),
    run("rollback", "automatic (failed deploy)", 70.0, rc=2, probe=probe(900, 20.0),
        extra={"previous_version_answers_again_s": 66.0, "gate_failed_s": 57.0,
               "restore_to_healthy_check_s": 11.0, "restore_to_first_good_answer_s": 8.0,
               "previous_kept_serving": False}),
    run("fleet", "ours x1", 50.0),
    run("fleet", "ours x2", 55.0, hosts=2, ssh_connections=2),
    run("fleet", "ours x2", 65.0, hosts=2, ssh_connections=2),
    run("overhead", "ansible.cfg", 50.0),
    run("overhead", "linear, neither", 125.0, ssh_connections=60),
]  # fmt: skip


def test_summarize_gives_medians_and_ratios_to_the_baselines():
    summ = report.summarize(RUNS)
    assert summ["deploy"]["ours"]["seconds"]["median"] == 42.0
    assert summ["deploy"]["ours"]["seconds"]["n"] == 2
    assert summ["deploy_ratios"]["ours/floor"] == pytest.approx(42.0 / 10.5)
    assert summ["deploy_ratios"]["ours/old"] == pytest.approx(42.0 / 61.0)
    assert summ["deploy_ratios"]["ours/old without sleep"] == pytest.approx(42.0 / 31.0)
    assert summ["probe_measure"] == "probe"
    assert summ["probe"]["ours"]["timeouts"]["median"] == 60
    assert summ["probe"]["ours"]["not_serving"]["median"] == 40
    assert summ["rollback"]["automatic (failed deploy)"]["to_previous_healthy_s"]["median"] == 66
    assert summ["rollback"]["rollback.yml"]["to_previous_healthy_s"]["median"] == 11.0
    assert summ["rollback"]["rollback.yml"]["command_s"]["median"] == 21.0
    assert summ["rollback"]["rollback.yml"]["failed"]["max"] == 200
    assert summ["rollback"]["rollback.yml"]["warm"] == {"runs": 1, "of": 2}
    assert summ["rollback"]["automatic (failed deploy)"]["kept_serving"] == {"runs": 0, "of": 1}
    assert summ["rollback_ratios"]["rollback.yml/old manual"] == pytest.approx(11.0 / 8.0)
    assert summ["fleet"]["2"]["ratio_to_1"] == pytest.approx(60.0 / 50.0)
    assert summ["overhead"]["linear, neither"]["ratio_to_default"] == pytest.approx(2.5)
    assert summ["overhead"]["linear, neither"]["ssh_connections"]["median"] == 60


def test_summarize_in_quick_mode_takes_probe_and_overhead_figures_from_the_deploys():
    runs = [run("deploy", m, 10.0, probe=probe(5, 1.0)) for m in ("ours", "floor", "old")]
    summ = report.summarize(runs)
    assert summ["probe_measure"] == "deploy"
    assert summ["probe"]["old"]["failed"]["median"] == 5
    assert list(summ["overhead"]) == ["ansible.cfg, measure 1"]


def data() -> dict:
    return {
        "meta": {"mode": "full", "date": "2026-01-01T00:00:00Z", "git_commit": "abc",
                 "cpu_model": "Test CPU", "cpu_count": 2, "ram_gib": 24, "os": "Debian",
                 "kernel": "6", "docker_engine": "20.10", "duration_s": 100.0,
                 "deploy_strategy": "rolling", "warm_window_s": 600},
        "info": {
            "idle_probe": probe(2, 0.4),
            "fidelity": {
                "sed": {"literal": {"compose_config_rc": 15, "error": "yaml: line 41"},
                        "nearest": {"compose_config_rc": 0, "error": ""}},
                "echo_raw": {"keys": 17, "read_back_wrong": ["REDIS_PASSWORD"]},
                "echo_quoted": {"keys": 17, "read_back_wrong": []},
            },
        },
        "notes": ["a note"],
        "failures": [],
        "summary": report.summarize(RUNS),
        "runs": RUNS,
    }  # fmt: skip


def test_markdown_puts_each_figure_next_to_its_baseline():
    text = report.markdown(data())
    assert "Test CPU x 2 CPUs" in text and "commit `abc`" in text
    assert "| ours | 42.0 s (40.0-44.0, IQR 2.0, n=2) | 4.00x |" in text
    assert "**ours/floor = 4.00x; ours/old = 0.69x (old without its sleep: 1.35x).**" in text
    assert "| 2 | 60.0 s (55.0-65.0, IQR 5.0, n=2) | 1.20x |" in text
    assert "| linear, neither | 125.0 s (125.0-125.0, IQR 0.0, n=1) | 2.50x |" in text
    assert "REDIS_PASSWORD" in text and "yaml: line 41" in text
    assert "FAILURES" not in text


def test_markdown_puts_issue_7s_figures_next_to_the_old_pipeline_floor_and_target():
    text = report.markdown(data())
    assert text.count("Deploy strategy `rolling`, warm window 600 s") == 2  # header, targets
    assert (
        "| failed requests, deploy of a new version | 100 (100-100, IQR 0, n=1) of 1000"
        " | 600 (600-600, IQR 0, n=1) of 1000 | 300 (300-300, IQR 0, n=1) of 1000"
        " | 0: missed (worst run 100) |"
    ) in text
    assert (
        "| failed requests, deploy of the unhealthy version (`badbad1`) | 900 (900-900, IQR 0,"
        " n=1) of 1000, previous version answered throughout in 0 of 1 | not measured"
    ) in text
    assert (
        "| failed requests, rollback to the previous release | rollback.yml: 100 (0-200,"
        " IQR 100, n=2) of 1000 | manual: 300 (300-300, IQR 0, n=1) of 1000 | - |"
        " 0: missed (worst run 200) |"
    ) in text
    assert (
        "| rollback on a warm host: command to previous version answering | rollback.yml:"
        " 11.0 s (6.0-16.0, IQR 5.0, n=2) | manual: 8.0 s (8.0-8.0, IQR 0.0, n=1) | - |"
        " 5 s: missed (median 11.0 s) |"
    ) in text
    assert "| rollback command, start to exit | rollback.yml: 21.0 s (20.0-22.0" in text
    assert "1 of 2 runs found its web containers still running" in text


def test_markdown_a_refused_deploy_that_never_moved_the_traffic():
    runs = [r for r in RUNS if r["method"] != "automatic (failed deploy)"]
    runs.append(run("rollback", "automatic (failed deploy)", 40.0, rc=2, probe=probe(0, 0.1, 0.0),
                    extra={"previous_version_answers_again_s": None, "gate_failed_s": 30.0,
                           "previous_kept_serving": True}))  # fmt: skip
    d = {**data(), "runs": runs, "summary": report.summarize(runs)}
    text = report.markdown(d)
    assert "| automatic (failed deploy) | never stopped answering (n=1) | n/a |" in text
    assert "of 1000, previous version answered throughout in 1 of 1 |" in text
    assert "0: met (worst run 0) |" in text


def test_deploy_strategy_is_read_from_the_inventory(tmp_path):
    main = tmp_path / "main.yml"
    main.write_text("release_strategy: rolling\ndeploy_warm_window: 600\n")
    assert machine.deploy_strategy(main) == {"deploy_strategy": "rolling", "warm_window_s": 600}
    main.write_text("release_environment: sandbox\n")
    assert machine.deploy_strategy(main)["deploy_strategy"] == "not set"
    assert machine.deploy_strategy(tmp_path / "none.yml")["deploy_strategy"] == "not set"


def test_warm_names_are_the_running_warm_containers_until_the_window_ends():
    state = '{"warm": ["b-15", "a-15"], "warm_until": 1000.0, "strategy": "rolling"}'
    assert sandbox.warm_names(state, ["a-15", "b-15", "b-16"], now=900.0) == ["a-15", "b-15"]
    assert sandbox.warm_names(state, ["b-16"], now=900.0) == []  # stopped already
    assert sandbox.warm_names(state, ["a-15", "b-15"], now=1001.0) == []  # window over
    assert sandbox.warm_names('{"strategy": "recreate"}', ["a-15"], now=0.0) == []
    serving_again = '{"active": {"a": ["a-15"]}, "warm": ["a-15"], "warm_until": 1000.0}'
    assert sandbox.warm_names(serving_again, ["a-15"], now=900.0) == []  # active, not warm
    assert sandbox.warm_names("", ["a-15"], now=0.0) == []


def test_plan_runs_five_warm_rollbacks_in_full_one_in_quick_and_the_unhealthy_deploy_in_both():

    full, quick = Plan.make(quick=False), Plan.make(quick=True)
    assert (full.rollback_runs, full.auto_rollback_runs) == (5, 2)
    assert (quick.rollback_runs, quick.auto_rollback_runs) == (1, 1)


def test_report_writes_json_markdown_and_png(tmp_path):
    paths = report.write(data(), tmp_path)
    assert paths["json"].read_text().startswith("{")
    assert paths["md"].read_text().startswith("# Deploy benchmarks")
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- the old pipeline's steps -------------------------------------------------------------


@pytest.mark.skipif(shutil.which("sed") is None, reason="needs sed")
def test_old_sed_literal_breaks_the_compose_file_and_the_nearest_one_works(tmp_path):
    script = REPO / "bench" / "old_pipeline.sh"
    source = REPO / "tests" / "sample_app" / "docker-compose.prod.yml"
    for variant in ("literal", "nearest"):
        shutil.copy(source, tmp_path / f"{variant}.yml")
        extra = ["literal"] if variant == "literal" else []
        subprocess.run(
            ["bash", str(script), "rewrite", str(tmp_path / f"{variant}.yml"), "reg:5000",
             "c0ffee2", *extra],
            check=True,
        )  # fmt: skip
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load((tmp_path / "literal.yml").read_text())
    services = yaml.safe_load((tmp_path / "nearest.yml").read_text())["services"]
    assert not [name for name, svc in services.items() if "build" in svc]
    assert {name: svc["image"] for name, svc in services.items()} == {
        "db": "registry:5000/mirror/postgres:15",
        "redis": "registry:5000/mirror/redis:7",
        "backend": "reg:5000/stickforstats/backend:c0ffee2",
        "asgi": "reg:5000/stickforstats/backend:c0ffee2",
        "worker": "reg:5000/stickforstats/backend:c0ffee2",
        "beat": "reg:5000/stickforstats/backend:c0ffee2",
        "frontend": "reg:5000/stickforstats/frontend:c0ffee2",
        "nginx": "registry:5000/mirror/nginx:1.22",
    }


FAKE_VAULT = {
    "vault_django_secret_key": "k e'y#$x",
    "vault_db_password": "p/w d",
    "vault_redis_password": "r$e\\d",
    "vault_email_host_user": "u@example.test",
    "vault_email_host_password": "e p",
}


def test_env_files_have_the_env_file_roles_keys_and_encodings():
    files = envfiles.env_files(FAKE_VAULT, {"stickforstats_allowed_hosts": ["a", "b"]})
    prod, dotenv = files[".env.prod"], files[".env"]
    assert len(prod) == 14 and list(dotenv) == ["DB_PASSWORD", "REDIS_PASSWORD", "HTTP_PORT"]
    assert prod["DATABASE_URL"] == "postgres://stickforstats:p%2Fw%20d@db:5432/stickforstats"
    assert prod["CELERY_BROKER_URL"] == "redis://:r%24e%5Cd@redis:6379/1"
    assert prod["ALLOWED_HOSTS"] == "a,b" and prod["DEBUG"] == "False"


def test_env_lines_raw_and_compose_quoted(tmp_path):
    entries = {"A": "x y", "B": "it's"}
    assert envfiles.lines(entries, compose_quoted=False) == "A=x y\nB=it's\n"
    assert envfiles.lines(entries, compose_quoted=True) == "A='x y'\nB=\"it's\"\n"
    script = REPO / "bench" / "old_pipeline.sh"
    source = tmp_path / "lines"
    source.write_text(envfiles.lines(entries, compose_quoted=True))
    echo = subprocess.run(
        ["bash", str(script), "env-script", str(source), ".env.prod"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert echo.count(">> .env.prod") == 2
    subprocess.run(["bash", "-c", echo], cwd=tmp_path, check=True)
    assert (tmp_path / ".env.prod").read_text() == source.read_text()


def test_a_run_that_did_not_measure_the_strategy_is_a_failure_and_left_out():
    bench = Bench(Plan.make(quick=True))
    result = Result("rollback", "rollback.yml", "c0ffee1", "c0ffee2", 18.5, 0, True, 0.0)
    bench.invalid(result, "the host was not warm")
    bench.keep(result, "rollback.yml to c0ffee1")
    assert not result.ok and result.extra["invalid"] == "the host was not warm"
    assert bench.failures == ["rollback.yml to c0ffee1: the host was not warm (log )"]
    summ = report.summarize([result.as_dict()])
    assert summ["rollback"]["rollback.yml"]["command_s"]["n"] == 0


def test_stamped_phases_of_a_script_that_printed_none_are_empty() -> None:
    assert timeline.stamped_phases("bash: line 2: $4: unbound variable\n", 100.0) == {}
