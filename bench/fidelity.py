"""What the old pipeline's literal steps would have produced on this app (checked once).

- The literal sed, `s|build:|image: REGISTRY/backend:SHA|`, on the sample compose file:
  does Compose accept the result? (And the nearest sed that the timed script uses.)
- The literal `echo KEY=value >> .env.prod` with the sandbox's secrets: which keys does
  Compose read back differently from the value given? (And with the quoting the timed
  script uses.) Only key names are reported; values and Compose's output (which holds
  them) are never printed.
"""

from __future__ import annotations

import json
import shutil

from bench.config import APP_DIR, BENCH, REGISTRY, TMP, Target
from bench.envfiles import SecretLines
from bench.shell import check, docker_exec, run

FIDELITY_DIR = "/tmp/sfs-bench-fidelity"
PROBE_COMPOSE = """services:
  probe:
    image: registry:5000/mirror/nginx:1.22
    env_file: .env.prod
    environment:
      DB_PASSWORD: ${DB_PASSWORD}
      REDIS_PASSWORD: ${REDIS_PASSWORD}
      HTTP_PORT: ${HTTP_PORT}
"""


def _compose_accepts(target: Target, text: str) -> dict:
    """`docker compose config` of TEXT on the target: exit code, first error line, images."""
    script = (
        f"rm -rf {FIDELITY_DIR} && mkdir -p {FIDELITY_DIR} && cd {FIDELITY_DIR}"
        " && cat > docker-compose.prod.yml && touch .env.prod"
        " && docker compose -p sfsbenchfidelity -f docker-compose.prod.yml config --images"
    )
    done = docker_exec(target.name, script, stdin=text)
    docker_exec(target.name, f"rm -rf {FIDELITY_DIR}")
    error = next((ln.strip() for ln in done.stderr.splitlines() if ln.strip()), "")
    return {
        "compose_config_rc": done.rc,
        "error": error[:300] if done.rc else "",
        "images": sorted(set(done.stdout.split())) if done.rc == 0 else [],
    }


def sed_check(target: Target, version: str) -> dict:
    """The literal old sed and the nearest working one, applied locally, judged by Compose."""
    work = TMP / "fidelity"
    work.mkdir(parents=True, exist_ok=True)
    out = {}
    for variant in ("literal", "nearest"):
        path = work / f"{variant}.yml"
        shutil.copy(APP_DIR / "docker-compose.prod.yml", path)
        args = ["bash", str(BENCH / "old_pipeline.sh"), "rewrite", str(path), REGISTRY, version]
        check([*args, *(["literal"] if variant == "literal" else [])], f"{variant} sed")
        out[variant] = _compose_accepts(target, path.read_text())
    return out


def env_check(target: Target, files: dict[str, dict[str, str]], compose_quoted: bool) -> dict:
    """Writes the env files on the target with the old pipeline's echo lines and asks
    Compose what it reads back; returns the keys whose value differs (names only)."""
    lines = SecretLines(files, compose_quoted=compose_quoted)
    try:
        parts = []
        for name, path in lines.paths.items():
            gen = run(["bash", str(BENCH / "old_pipeline.sh"), "env-script", str(path), name])
            if gen.rc != 0:
                raise RuntimeError("generating the echo lines failed (output withheld)")
            parts.append(gen.stdout)
    finally:
        lines.cleanup()
    script = (
        'set -e; d=$(mktemp -d); cd "$d"\n'
        + "".join(parts)
        + f"cat > docker-compose.yml <<'EOF'\n{PROBE_COMPOSE}EOF\n"
        + "docker compose -p sfsbenchfidelity config --format json 2>/dev/null"
        + " || echo '{}'; cd /; rm -rf \"$d\"\n"
    )
    done = docker_exec(target.name, "bash -s", stdin=script)
    try:
        service = json.loads(done.stdout)["services"]["probe"]
        read_back = service.get("environment") or {}
    except (ValueError, KeyError, TypeError):
        read_back = {}
    wanted = {k: v for entries in files.values() for k, v in entries.items()}
    # `config` writes a literal $ as $$ (so that its output reads back the same): undo that
    values = {k: v.replace("$$", "$") if isinstance(v, str) else v for k, v in read_back.items()}
    wrong = sorted(k for k, v in wanted.items() if values.get(k) != v)
    return {"keys": len(wanted), "read_back_wrong": wrong, "compose_read": bool(read_back)}
