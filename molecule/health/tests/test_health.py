"""The health_check module against the real Docker engine of the target."""

from __future__ import annotations


def run_health(host, deadline: int) -> dict:
    """The module's result, failed or not (check=False: not in check mode)."""
    args = (
        "url=http://127.0.0.1/api/v1/health/ host_header=localhost project_name=stickforstats"
        f" deadline={deadline} interval=0.5"
    )
    try:
        return host.ansible("stickforstats.deploy.health_check", args, check=False)
    except host.ansible.AnsibleException as exc:
        return exc.result


def test_the_serving_release_passes(host):
    result = run_health(host, 30)
    assert result.get("healthy") is True, result
    assert {c["service"] for c in result["containers"]} >= {"backend", "db", "redis", "nginx"}


def test_a_stopped_container_fails_the_check_at_once_not_at_the_deadline(host):
    host.check_output("docker stop -t 1 stickforstats-worker-1")
    try:
        result = run_health(host, 60)
        assert result.get("healthy") is False, result
        assert result["elapsed"] < 10, result["elapsed"]
        assert "worker" in result["msg"], result["msg"]
    finally:
        host.check_output("docker start stickforstats-worker-1")
