"""The bench's output: JSON (everything), a Markdown table, a PNG chart.

`summarize` and `markdown` are pure (unit-tested): they take the list of runs (as
dicts) and give the figures, each next to its baseline (a ratio).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from bench.stats import ratio, summary

DEPLOY_METHODS = ("ours", "floor", "old")
ROLLBACK_METHODS = ("rollback.yml", "automatic (failed deploy)", "old manual")
AUTO = ROLLBACK_METHODS[1]  # deploys of the unhealthy version: refused, or rolled back
# Issue 7's targets: no failed request through a deploy, a refused deploy or a rollback;
# a rollback on a warm host answering with the previous version within 5 s of the command.
FAILED_TARGET = 0
ROLLBACK_TARGET_S = 5.0


def _values(runs: Iterable[dict], get) -> list[float]:
    out = []
    for r in runs:
        try:
            value = get(r)
        except (KeyError, TypeError):
            value = None
        if value is not None:
            out.append(float(value))
    return out


def _select(runs: Sequence[dict], measure: str, method: str | None = None) -> list[dict]:
    return [
        r for r in runs
        if r["measure"] == measure and r["ok"] and (method is None or r["method"] == method)
    ]  # fmt: skip


def _phase_medians(runs: Sequence[dict]) -> dict[str, float | None]:
    names: list[str] = []
    for r in runs:
        names += [n for n in r.get("phases", {}) if n not in names]
    return {n: summary(_values(runs, lambda r, n=n: r["phases"].get(n)))["median"] for n in names}


def summarize(runs: Sequence[dict]) -> dict:
    """Figures of every measure from the runs (only runs that went as expected)."""
    out: dict = {"deploy": {}, "probe": {}, "rollback": {}, "fleet": {}, "overhead": {}}
    # 1. deploy time
    for method in DEPLOY_METHODS:
        rs = _select(runs, "deploy", method)
        probed = [r for r in _select(runs, _probe_measure(runs), method) if r.get("probe")]
        out["deploy"][method] = {
            "seconds": summary(_values(rs, lambda r: r["seconds"])),
            "serving_new_version_s": summary(
                _values(probed, lambda r: r["probe"]["first_good_of_version_s"])
            ),
            "serving_share": summary(
                _values(probed, lambda r: r["probe"]["first_good_of_version_s"] / r["seconds"])
            ),
            "phases": _phase_medians(rs),
            "ssh_connections": summary(_values(rs, lambda r: r["ssh_connections"])),
        }
        if method == "old":
            out["deploy"]["old without sleep"] = {
                "seconds": summary(_values(rs, lambda r: r["extra"]["seconds_without_sleep"])),
            }
    med = {m: v["seconds"]["median"] for m, v in out["deploy"].items()}
    out["deploy_ratios"] = {
        "ours/floor": ratio(med["ours"], med["floor"]),
        "ours/old": ratio(med["ours"], med["old"]),
        "ours/old without sleep": ratio(med["ours"], med["old without sleep"]),
        "old/floor": ratio(med["old"], med["floor"]),
        "old without sleep/floor": ratio(med["old without sleep"], med["floor"]),
    }
    # 2. failed requests during each method's deploys (measure 1's runs in --quick)
    probe_measure = _probe_measure(runs)
    out["probe_measure"] = probe_measure
    for method in DEPLOY_METHODS:
        rs = [r for r in _select(runs, probe_measure, method) if r.get("probe")]
        out["probe"][method] = {
            "seconds": summary(_values(rs, lambda r: r["seconds"])),
            "requests": summary(_values(rs, lambda r: r["probe"]["requests"])),
            "failed": summary(_values(rs, lambda r: r["probe"]["failed"])),
            "timeouts": summary(
                _values(rs, lambda r: r["probe"]["failures_by_kind"].get("timeout", 0))
            ),
            "not_serving": summary(_values(rs, lambda r: _not_serving(r["probe"]))),
            "longest_gap_s": summary(_values(rs, lambda r: r["probe"]["longest_gap_s"])),
        }
    # 3. rollback
    for method in ROLLBACK_METHODS:
        rs = _select(runs, "rollback", method)
        if method.startswith("automatic"):
            healthy = _values(rs, lambda r: r["extra"]["previous_version_answers_again_s"])
        else:
            healthy = _values(rs, lambda r: r["probe"]["first_good_of_version_s"])
        entry = {
            "to_previous_healthy_s": summary(healthy),
            "command_s": summary(_values(rs, lambda r: r["seconds"])),
            "requests": summary(_values(rs, lambda r: r["probe"]["requests"])),
            "failed": summary(_values(rs, lambda r: r["probe"]["failed"])),
            "longest_gap_s": summary(_values(rs, lambda r: r["probe"]["longest_gap_s"])),
        }
        if method.startswith("automatic"):
            for key in ("gate_failed_s", "restore_to_healthy_check_s",
                        "restore_to_first_good_answer_s"):  # fmt: skip
                entry[key] = summary(_values(rs, lambda r, k=key: r["extra"][k]))
            # the previous version answered throughout (a refused deploy moved no traffic)
            entry["kept_serving"] = _count(rs, lambda r: r["extra"].get("previous_kept_serving"))
        if method == "rollback.yml":  # the release rolled back to still ran: a warm host
            entry["warm"] = _count(rs, lambda r: r["extra"].get("warm_containers"))
        out["rollback"][method] = entry
    base = out["rollback"]["old manual"]["to_previous_healthy_s"]["median"]
    out["rollback_ratios"] = {
        f"{m}/old manual": ratio(out["rollback"][m]["to_previous_healthy_s"]["median"], base)
        for m in ROLLBACK_METHODS[:2]
    }
    # 4. fleet
    sizes = sorted({r["hosts"] for r in _select(runs, "fleet")})
    one = None
    for size in sizes:
        rs = [r for r in _select(runs, "fleet") if r["hosts"] == size]
        s = summary(_values(rs, lambda r: r["seconds"]))
        one = s["median"] if size == 1 else one
        out["fleet"][str(size)] = {
            "seconds": s,
            "ratio_to_1": ratio(s["median"], one),
            "ssh_connections": summary(_values(rs, lambda r: r["ssh_connections"])),
        }
    # ours right after the old pipeline took the containers over: did it cope?
    after_old = [r for r in runs if r.get("extra", {}).get("after_old_pipeline")]
    out["ours_after_old"] = {"runs": len(after_old), "ok": sum(r["ok"] for r in after_old)}
    # 5. overhead: each Ansible setting, or (quick) the deploys of measure 1
    settings = list(dict.fromkeys(r["method"] for r in _select(runs, "overhead")))
    groups = {s: _select(runs, "overhead", s) for s in settings}
    if not groups:
        groups = {"ansible.cfg, measure 1": _select(runs, "deploy", "ours")}
    default = None
    for name, rs in groups.items():
        s = summary(_values(rs, lambda r: r["seconds"]))
        default = s["median"] if default is None else default
        out["overhead"][name] = {
            "seconds": s,
            "ratio_to_default": ratio(s["median"], default),
            "tasks_executed": summary(_values(rs, lambda r: r["tasks"]["executed"])),
            "task_starts": summary(_values(rs, lambda r: r["tasks"]["task_starts"])),
            "ssh_connections": summary(_values(rs, lambda r: r["ssh_connections"])),
        }
    return out


def _count(runs: Sequence[dict], test) -> dict[str, int]:
    """How many of RUNS pass TEST: {"runs": k, "of": n}."""
    return {"runs": sum(1 for r in runs if test(r)), "of": len(runs)}


def _probe_measure(runs: Sequence[dict]) -> str:
    """Measure 2's runs: deploys of their own, or (--quick) measure 1's, probed."""
    return "probe" if _select(runs, "probe") else "deploy"


def _not_serving(probe: dict) -> int:
    """Failed requests other than timeouts: refused, reset, 5xx ... (the app was down)."""
    return sum(n for kind, n in probe["failures_by_kind"].items() if kind != "timeout")


# -- Markdown -------------------------------------------------------------------------------


def _s(x: float | None, unit: str = " s", digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}{unit}"


def _r(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}x"


def _spread(s: dict, unit: str = " s", digits: int = 1) -> str:
    if not s or s.get("n", 0) == 0:
        return "n/a"
    return (
        f"{_s(s['median'], unit, digits)} ({_s(s['min'], '', digits)}-{_s(s['max'], '', digits)},"
        f" IQR {_s(s['iqr'], '', digits)}, n={s['n']})"
    )


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def markdown(data: dict) -> str:
    meta, summ, info = data["meta"], data["summary"], data.get("info", {})
    out = [
        f"# Deploy benchmarks ({meta.get('mode', '?')} run)",
        "",
        f"{meta.get('date')} - commit `{str(meta.get('git_commit'))[:12]}` - "
        f"{meta.get('cpu_model')} x {meta.get('cpu_count')} CPUs, {meta.get('ram_gib')} GiB RAM,"
        f" {meta.get('os')} (kernel {meta.get('kernel')}), Docker {meta.get('docker_engine')}"
        f" (targets: engine {meta.get('target_engine')}, Compose {meta.get('target_compose')}),"
        f" ansible-core {meta.get('ansible_core')}. Deploy strategy {_strategy_text(data)}."
        f" Load average at start {meta.get('load_average')};"
        f" other containers running: {meta.get('other_containers') or 'none'}."
        f" The bench took {_s(meta.get('duration_s'), ' s', 0)}.",
        "",
        "Medians, with (min-max, IQR, n). Timings on a shared 2-core machine are noisy:"
        " compare the ratios, measured side by side in this run.",
        "",
        *_targets(data),
        "## 1. Deploy of a version change on a warm host",
        "",
        "The new version's images are in the registry, not on the host (removed before each"
        " run; base layers kept). Methods interleaved, versions alternating.",
        "",
    ]
    dep, floor_med = summ["deploy"], summ["deploy"]["floor"]["seconds"]["median"]
    rows = []
    for name in ("ours", "floor", "old", "old without sleep"):
        d = dep.get(name, {})
        serving = d.get("serving_new_version_s") or {}
        rows.append([
            name,
            _spread(d.get("seconds", {})),
            _r(ratio(d.get("seconds", {}).get("median"), floor_med)),
            _r(ratio(d.get("seconds", {}).get("median"), dep["ours"]["seconds"]["median"])),
            (f"{_spread(serving)}, {_pct(d['serving_share']['median'], 1)} of its run")
            if serving else "-",
            _s(d.get("ssh_connections", {}).get("median"), "", 0) if "ssh_connections" in d else "-",
        ])  # fmt: skip
    out += _table(["method", "time", "x floor", "x ours", "new version answers after (probed runs)",
                   "SSH connections"], rows)  # fmt: skip
    ratios = summ["deploy_ratios"]
    out += [
        "",
        f"**ours/floor = {_r(ratios['ours/floor'])}; ours/old = {_r(ratios['ours/old'])}"
        f" (old without its sleep: {_r(ratios['ours/old without sleep'])}).**"
        " `old without sleep` = each run's total minus its measured `sleep 30` step.",
        "",
        "Where the time goes (median s per phase; ours from the task timeline, the scripts"
        " from their own timestamps):",
        "",
    ]
    for name in DEPLOY_METHODS:
        phases = dep[name].get("phases") or {}
        total = dep[name]["seconds"]["median"]
        parts = ", ".join(
            f"{k} {_s(v)} ({_pct(v, total)})" for k, v in phases.items() if v is not None
        )
        out.append(f"- {name}: {parts or 'n/a'}")
    out += ["", "## 2. Failed requests during the deploys", ""]
    idle = info.get("idle_probe") or {}
    idle_rate = ratio(idle.get("failed"), idle.get("requests"))
    same = summ.get("probe_measure") == "deploy"
    out.append(
        "Prober: 50 requests/s to the front door's health URL (`Host: localhost`, 1 s"
        " timeout, a new connection each), from 1 s before each command to 2 s after it, "
        + ("during the deploys of measure 1 (--quick: their times above are under this load)."
           if same else
           "during deploys of their own (measure 1 runs without it: on this machine the"
           " health endpoint at 50 requests/s takes most of a CPU and slows the deploys).")
        + f" Baseline with no deploy ({_s(idle.get('window_s'), ' s', 0)}):"
        f" {idle.get('failed', 'n/a')} failed of {idle.get('requests', 'n/a')}"
        f" ({_pct(idle.get('failed'), idle.get('requests'))}), longest gap"
        f" {_s(idle.get('longest_gap_s'), ' s', 2)}. {_cpu_line(idle.get('extra') or {})}"
        "`timeouts` are answers slower than 1 s"
        " (an overloaded app or machine); `not serving` are refused or reset connections"
        " and 5xx answers (the app was down or switching)."
    )  # fmt: skip
    out.append("")
    rows = []
    probe = summ["probe"]
    for name in DEPLOY_METHODS:
        p = probe[name]
        expected_noise = (
            idle_rate * p["requests"]["median"]
            if idle_rate is not None and p["requests"]["median"] is not None
            else None
        )
        rows.append([
            name,
            _spread(p["failed"], "", 0),
            f"{_s(p['requests']['median'], '', 0)} ({_pct(p['failed']['median'], p['requests']['median'])})",
            _spread(p["not_serving"], "", 0),
            _spread(p["timeouts"], "", 0),
            _s(expected_noise, "", 0),
            _spread(p["longest_gap_s"], " s", 2),
            _r(ratio(p["longest_gap_s"]["median"], idle.get("longest_gap_s"))),
            _spread(p["seconds"]) + ("" if same else
                f" ({_r(ratio(p['seconds']['median'], dep[name]['seconds']['median']))} measure 1)"),
        ])  # fmt: skip
    out += _table(["method", "failed requests", "of requests (failed %)", "not serving",
                   "timeouts", "idle rate would give", "longest gap", "gap x idle",
                   "deploy time under probe"], rows)  # fmt: skip
    out += ["", "## 3. Rollback", ""]
    rb = summ["rollback"]
    base = rb["old manual"]["to_previous_healthy_s"]["median"]
    rows = []
    for name in ROLLBACK_METHODS:
        e = rb[name]
        rows.append([
            name,
            _healthy(e),
            _r(ratio(e["to_previous_healthy_s"]["median"], base)),
            _spread(e["command_s"]),
            _spread(e["failed"], "", 0),
            _spread(e["longest_gap_s"], " s", 2),
        ])  # fmt: skip
    out += _table(["method", "command to previous version healthy", "x old manual",
                   "command time", "failed requests", "longest gap"], rows)  # fmt: skip
    auto = rb[AUTO]
    plan = data.get("plan") or {}
    skipped = plan.get("auto_rollback_runs") == 0
    kept = auto.get("kept_serving") or {"runs": 0, "of": 0}
    out += [
        "",
        "(The deploy of the unhealthy version was not run.)" if skipped else "",
        "`rollback.yml` runs on a warm host: right before each run ours deployed the other"
        " version (untimed, not part of these figures), so the release rolled back to had just"
        f" been replaced; {_of(rb['rollback.yml'].get('warm'))} runs found its web containers"
        " still running, out of the traffic (rolling strategy's warm window). Its first column"
        " is from the command's start to the prober's first good answer of the version rolled"
        " back to (to a request sent after the start).",
        "",
        "Deploy of `badbad1`, whose health endpoint answers 503 (`automatic`): the new release"
        " was found unhealthy (rolling: the switch refuses its containers, which fail their"
        " healthcheck; recreate: the health gate after the switch fails)"
        f" {_spread(auto.get('gate_failed_s', {}))} after the command"
        f" started (its whole run: {_s(auto['command_s']['median'])}). The previous version"
        f" kept answering throughout (the traffic never moved) in {_of(kept)} runs. From the"
        " start of the restore to the restored release passing its health"
        f" check: {_spread(auto.get('restore_to_healthy_check_s', {}))}, to the prober's first"
        f" good answer of the previous version: {_spread(auto.get('restore_to_first_good_answer_s', {}))}."
        " Where the traffic moved, the first column counts from the command's start to the"
        " previous version answering again once the new release was found unhealthy."
        " The old manual procedure is timed from ssh to the"
        " previous version answering (an operator's typing not included).",
        "",
        "## 4. Fleet: one deploy to N targets",
        "",
    ]
    rows = [
        [n, _spread(f["seconds"]), _r(f["ratio_to_1"]),
         _s(f["seconds"]["median"] / int(n) if f["seconds"]["median"] else None),
         _s(f["ssh_connections"]["median"], "", 0)]
        for n, f in summ["fleet"].items()
    ]  # fmt: skip
    out += _table(["targets", "time", "time(N)/time(1)", "per target", "SSH connections"], rows)
    out += ["", "## 5. Ansible's own overhead (ours, one target)", ""]
    rows = [
        [name, _spread(o["seconds"]), _r(o["ratio_to_default"]),
         _s(o["tasks_executed"]["median"], "", 0), _s(o["task_starts"]["median"], "", 0),
         _s(o["ssh_connections"]["median"], "", 0)]
        for name, o in summ["overhead"].items()
    ]  # fmt: skip
    out += _table(["setting", "deploy time", "x default", "task results", "tasks started",
                   "new SSH connections"], rows)  # fmt: skip
    out += [
        "",
        f"`ansible.cfg` runs strategy `{meta.get('ansible_strategy', '?')}` (Mitogen:"
        f" {meta.get('mitogen', '?')}): through Mitogen, one SSH connection and one Python per"
        " host carry every task, so pipelining and ControlPersist do not apply; the `linear`"
        " rows (ANSIBLE_STRATEGY=linear) are plain Ansible, where they do. SSH connections"
        " are TCP connections accepted by the target's sshd (an iptables counter in the"
        " target: its sshd logs nowhere). Each ansible-playbook run gets a fresh ControlPath"
        " directory, as on a fresh CI runner.",
    ]
    out += ["", "## The old pipeline, as reproduced", ""]
    out += _fidelity_lines(info.get("fidelity"), summ.get("ours_after_old"))
    if data.get("notes"):
        out += ["", "## Notes", ""] + [f"- {_line(n)}" for n in data["notes"]]
    if data.get("failures"):
        out += ["", "## FAILURES", ""] + [f"- {_line(f)}" for f in data["failures"]]
    return "\n".join(out) + "\n"


def _strategy_text(data: dict) -> str:
    """`rolling` (warm window 600 s), as the sandbox inventory sets it."""
    meta = data["meta"]
    info = (data.get("info") or {}).get("deploy_strategy") or {}
    name = meta.get("deploy_strategy") or info.get("deploy_strategy") or "?"
    warm = meta.get("warm_window_s", info.get("warm_window_s"))
    window = f", warm window {warm} s" if name == "rolling" and warm is not None else ""
    return f"`{name}`{window} (release_strategy of inventories/sandbox/group_vars/all/main.yml)"


def _of(count: dict | None) -> str:
    count = count or {"runs": 0, "of": 0}
    return f"{count['runs']} of {count['of']}"


def _healthy(entry: dict) -> str:
    """Command to previous version healthy, or that it never stopped answering."""
    kept = entry.get("kept_serving") or {}
    if kept.get("of") and kept["runs"] == kept["of"]:
        return f"never stopped answering (n={kept['of']})"
    return _spread(entry["to_previous_healthy_s"])


def _failed(entry: dict) -> str:
    """Failed requests (median, spread) of the requests sent (median)."""
    failed = _spread(entry.get("failed") or {}, "", 0)
    requests = (entry.get("requests") or {}).get("median")
    return failed if requests is None or failed == "n/a" else f"{failed} of {requests:.0f}"


def _verdict(target: float, value: float | None, what: str) -> str:
    """TARGET with met / missed for VALUE (n/a when not measured)."""
    unit, digits = (" s", 1) if what == "median" else ("", 0)
    shown = f"{target:g}{unit}"
    if value is None:
        return f"{shown}: n/a"
    return f"{shown}: {'met' if value <= target else 'missed'} ({what} {_s(value, unit, digits)})"


def _targets(data: dict) -> list[str]:
    """Issue 7's figures of ours, each next to the old pipeline, the floor and the target."""
    summ = data["summary"]
    probe, rb, dep = summ["probe"], summ["rollback"], summ["deploy"]
    auto, ours_rb, old_rb = rb[AUTO], rb["rollback.yml"], rb["old manual"]
    kept = auto.get("kept_serving") or {}
    kept_note = f", previous version answered throughout in {_of(kept)}" if kept.get("of") else ""
    rows = [
        ["failed requests, deploy of a new version", _failed(probe["ours"]),
         _failed(probe["old"]), _failed(probe["floor"]),
         _verdict(FAILED_TARGET, probe["ours"]["failed"]["max"], "worst run")],
        ["failed requests, deploy of the unhealthy version (`badbad1`)",
         _failed(auto) + kept_note,
         "not measured: no health gate (it serves the 503s until a manual rollback)", "-",
         _verdict(FAILED_TARGET, auto["failed"]["max"], "worst run")],
        ["failed requests, rollback to the previous release",
         f"rollback.yml: {_failed(ours_rb)}", f"manual: {_failed(old_rb)}", "-",
         _verdict(FAILED_TARGET, ours_rb["failed"]["max"], "worst run")],
        ["rollback on a warm host: command to previous version answering",
         f"rollback.yml: {_spread(ours_rb['to_previous_healthy_s'])}",
         f"manual: {_spread(old_rb['to_previous_healthy_s'])}", "-",
         _verdict(ROLLBACK_TARGET_S, ours_rb["to_previous_healthy_s"]["median"], "median")],
        ["rollback command, start to exit", f"rollback.yml: {_spread(ours_rb['command_s'])}",
         f"manual: {_spread(old_rb['command_s'])}", "-", "-"],
        ["deploy of a new version, start to exit (measure 1)",
         _spread(dep["ours"]["seconds"]), _spread(dep["old"]["seconds"]),
         _spread(dep["floor"]["seconds"]), "-"],
    ]  # fmt: skip
    return [
        "## Against the targets (issue 7)",
        "",
        f"Deploy strategy {_strategy_text(data)}. Failed requests: at 50 requests/s"
        " through each command (measures 2 and 3), with the number of requests sent; the"
        " target is met when no run failed one. Rollback: from the command's start to the"
        " prober's first good answer of the previous version, on a warm host (measure 3);"
        " the target is met when the median is within it. The old pipeline's rollback is"
        " its manual procedure (an operator's typing not included); the floor only deploys.",
        "",
        *_table(["figure", "ours", "old pipeline", "floor", "target"], rows),
        "",
    ]


def _cpu_line(cpu: dict) -> str:
    if cpu.get("target_cpus_probed") is None:
        return ""
    return (
        f"probing alone made target 1 use {cpu['target_cpus_probed']:.2f} CPUs"
        f" ({cpu.get('target_cpus_quiet', 0):.2f} without it) and the prober"
        f" {cpu.get('prober_cpus', 0):.2f}, of {cpu.get('cpus', 2)} on this machine. "
    )


def _line(text: str) -> str:
    """One Markdown list item from a message that may span lines."""
    return " / ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _pct(part: float | None, whole: float | None) -> str:
    r = ratio(part, whole)
    return "n/a" if r is None else f"{100 * r:.0f}%"


def _fidelity_lines(fid: dict | None, after_old: dict | None) -> list[str]:
    after_old = after_old or {"runs": 0, "ok": 0}
    recovery = (
        f"- Ours deployed right after the old pipeline had taken the containers over"
        f" {after_old['runs']} time(s): {after_old['ok']} succeeded with no reset in between."
    )
    if not fid:
        return ["(not checked)", recovery]
    sed, raw, quoted = fid["sed"], fid["echo_raw"], fid["echo_quoted"]
    literal = sed["literal"]
    return [
        "- The literal sed `s|build:|image: REGISTRY/backend:SHA|` on this compose file:"
        f" `docker compose config` exit {literal['compose_config_rc']}"
        f" ({literal['error'] or 'accepted'}). The timed script uses the nearest sed that"
        " works (one `sed -i` that drops each `build:` block and rewrites the two `image:`"
        f" lines): exit {sed['nearest']['compose_config_rc']}.",
        f"- The literal `echo KEY=value >> .env.prod` with the sandbox's secrets: Compose reads"
        f" back {len(raw['read_back_wrong'])} of {raw['keys']} values differently"
        f" ({', '.join(raw['read_back_wrong']) or 'none'}); with REDIS_PASSWORD wrong the"
        " cache check fails, so the timed script writes each key with one echo line in"
        f" Compose's quoting ({len(quoted['read_back_wrong'])} of {quoted['keys']} differ)."
        " It also writes `.env` (3 keys) for the compose file's `${VAR}` interpolation.",
        "- It deploys from its own directory (/opt/stickforstats-old) with `-p stickforstats`,"
        " taking over our containers and named volumes; SSH checks the pinned host key.",
        recovery,
    ]


# -- files -----------------------------------------------------------------------------------


def write(data: dict, directory: Path, name: str = "latest") -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": directory / f"{name}.json",
        "md": directory / f"{name}.md",
        "png": directory / f"{name}.png",
    }
    paths["json"].write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    paths["md"].write_text(markdown(data))
    chart(data, paths["png"])
    return paths


def chart(data: dict, path: Path) -> None:
    """Six panels: deploy times, failed requests, longest gaps, rollback, fleet, overhead."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs, summ = data["runs"], data["summary"]
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    fig.suptitle(
        f"StickForStats deploy bench ({data['meta'].get('mode')}, "
        f"{data['meta'].get('date')}, {data['meta'].get('cpu_count')} CPUs)"
    )

    def strip(ax, groups: dict[str, list[float]], title: str, ylabel: str) -> None:
        names = list(groups)
        for i, name in enumerate(names):
            values = groups[name]
            ax.scatter([i] * len(values), values, alpha=0.6)
            if values:
                med = summary(values)["median"]
                ax.hlines(med, i - 0.3, i + 0.3, colors="black")
                ax.annotate(f"{med:.1f}", (i + 0.32, med), fontsize=8, va="center")
        ax.set_xticks(range(len(names)), names, rotation=15, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel)
        top = max((max(v) for v in groups.values() if v), default=1.0)
        ax.set_ylim(0, top * 1.15)
        ax.margins(x=0.2)

    dep = {m: _values(_select(runs, "deploy", m), lambda r: r["seconds"]) for m in DEPLOY_METHODS}
    dep["old w/o sleep"] = _values(
        _select(runs, "deploy", "old"), lambda r: r["extra"]["seconds_without_sleep"]
    )
    ratios = summ["deploy_ratios"]
    strip(axes[0][0], dep,
          f"1. deploy time (ours/floor {_r(ratios['ours/floor'])}, ours/old {_r(ratios['ours/old'])})",
          "seconds")  # fmt: skip
    probe = summ["probe"]
    ax = axes[0][1]
    down = [probe[m]["not_serving"]["median"] or 0 for m in DEPLOY_METHODS]
    slow = [probe[m]["timeouts"]["median"] or 0 for m in DEPLOY_METHODS]
    ax.bar(DEPLOY_METHODS, down, label="not serving (refused, reset, 5xx)", color="tab:red")
    ax.bar(DEPLOY_METHODS, slow, bottom=down, label="timeouts (> 1 s)", color="tab:orange")
    for i, m in enumerate(DEPLOY_METHODS):
        req = probe[m]["requests"]["median"]
        ax.annotate(f"of {req:.0f}" if req else "", (i, down[i] + slow[i]), ha="center",
                    va="bottom", fontsize=8)  # fmt: skip
    ax.legend(fontsize=8)
    ax.set_title("2. failed requests per deploy, median (50 req/s)", fontsize=10)
    measure2 = summ.get("probe_measure", "probe")
    gaps = {m: _values([r for r in _select(runs, measure2, m) if r.get("probe")],
                       lambda r: r["probe"]["longest_gap_s"]) for m in DEPLOY_METHODS}  # fmt: skip
    strip(axes[0][2], gaps, "2. longest gap without a good answer", "seconds")
    rb = {}
    for m in ROLLBACK_METHODS:
        rs = _select(runs, "rollback", m)
        key = "previous_version_answers_again_s" if m.startswith("automatic") else None
        rb[m.replace(" (failed deploy)", "")] = _values(
            rs,
            (lambda r, k=key: r["extra"][k]) if key else (
                lambda r: r["probe"]["first_good_of_version_s"]),
        )  # fmt: skip
    strip(axes[1][0], rb, "3. rollback: command to previous version healthy", "seconds")
    ax = axes[1][1]
    sizes = [int(n) for n in summ["fleet"]]
    if sizes:
        rel = [summ["fleet"][str(n)]["ratio_to_1"] or 0 for n in sizes]
        ax.plot(sizes, rel, marker="o", label="time(N)/time(1)")
        ax.plot(sizes, [1] * len(sizes), linestyle="--", color="gray", label="ideal (1.0)")
        for n, r in zip(sizes, rel, strict=True):
            ax.annotate(f"{r:.2f}", (n, r), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_xticks(sizes)
        ax.legend(fontsize=8)
    ax.set_title("4. fleet: time(N)/time(1)", fontsize=10)
    ax.set_xlabel("targets")
    ax.set_ylim(bottom=0)
    ov = summ["overhead"]
    ax = axes[1][2]
    names = list(ov)
    meds = [ov[n]["seconds"]["median"] or 0 for n in names]
    ax.bar(range(len(names)), meds, color="tab:blue")
    for i, n in enumerate(names):
        ax.annotate(f"{_r(ov[n]['ratio_to_default'])}\n{_s(ov[n]['ssh_connections']['median'], ' ssh', 0)}",
                    (i, meds[i]), ha="center", va="bottom", fontsize=8)  # fmt: skip
    labels = [n.replace(", ", "\n").replace("connection reuse", "conn. reuse") for n in names]
    ax.set_xticks(range(len(names)), labels, fontsize=7)
    ax.set_ylim(0, max(meds, default=1.0) * 1.25 or 1.0)
    ax.set_title("5. ours: Ansible settings (x default, new SSH connections)", fontsize=10)
    ax.set_ylabel("seconds")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Renders the Markdown and the chart again from a JSON result (summary recomputed):
    python -m bench.report [bench/results/latest.json]"""
    import sys

    from bench.config import RESULTS

    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else RESULTS / "latest.json"
    data = json.loads(source.read_text())
    data["summary"] = summarize(data["runs"])
    paths = write(data, source.parent, source.stem)
    print(paths["md"].read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
