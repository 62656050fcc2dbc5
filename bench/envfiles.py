"""The env files of the old pipeline: values from the sandbox vault, never printed.

The bench is the only place that decrypts the sandbox vault outside Ansible
(`ansible-vault view` with the test-only password), to give the old pipeline the
same values our env_file role renders (roles/env_file/defaults/main.yml). Values
stay in memory and in 0600 files under a 0700 directory in bench/results/tmp/,
removed at the end of the run; messages name keys, never values.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote as urlquote

import yaml

from bench.config import BIN, REPO, SANDBOX_VARS, TMP, VAULT_PASSWORD_FILE
from bench.shell import run

sys.path.insert(0, str(REPO / "collections"))
from ansible_collections.stickforstats.deploy.plugins.module_utils._env_file import (
    quote as compose_quote,
)


def decrypt_vault() -> dict[str, str]:
    """The sandbox vault's variables (values are secrets: do not print them)."""
    done = run(
        [str(BIN / "ansible-vault"), "view", "--vault-password-file", str(VAULT_PASSWORD_FILE),
         str(SANDBOX_VARS / "all" / "vault.yml")],
        timeout=60,
    )  # fmt: skip
    if done.rc != 0:
        raise RuntimeError("ansible-vault view of the sandbox vault failed (output withheld)")
    return {str(k): str(v) for k, v in yaml.safe_load(done.stdout).items()}


def _url(value: str) -> str:
    """Jinja's urlencode followed by replace('/', '%2F'), as the env_file role does."""
    return urlquote(value, safe="")


def env_files(vault: dict[str, str], main_vars: dict) -> dict[str, dict[str, str]]:
    """`.env.prod` (read by the Django services) and `.env` (Compose interpolation), with
    the keys and values of roles/env_file/defaults/main.yml for the sandbox."""
    redis = _url(vault["vault_redis_password"])
    return {
        ".env.prod": {
            "SECRET_KEY": vault["vault_django_secret_key"],
            "DEBUG": "False",
            "ALLOWED_HOSTS": ",".join(main_vars.get("stickforstats_allowed_hosts", [])),
            "CORS_ALLOWED_ORIGINS": ",".join(
                main_vars.get("stickforstats_cors_allowed_origins", [])
            ),
            "DATABASE_URL": f"postgres://stickforstats:{_url(vault['vault_db_password'])}"
            "@db:5432/stickforstats",
            "REDIS_URL": f"redis://:{redis}@redis:6379/0",
            "CELERY_BROKER_URL": f"redis://:{redis}@redis:6379/1",
            "CELERY_RESULT_BACKEND": f"redis://:{redis}@redis:6379/2",
            "EMAIL_HOST": str(main_vars.get("stickforstats_email_host", "")),
            "EMAIL_PORT": str(main_vars.get("stickforstats_email_port", 587)),
            "EMAIL_HOST_USER": vault["vault_email_host_user"],
            "EMAIL_HOST_PASSWORD": vault["vault_email_host_password"],
            "EMAIL_USE_TLS": "True",
            "DEFAULT_FROM_EMAIL": str(main_vars.get("stickforstats_default_from_email", "")),
        },
        ".env": {
            "DB_PASSWORD": vault["vault_db_password"],
            "REDIS_PASSWORD": vault["vault_redis_password"],
            "HTTP_PORT": str(main_vars.get("stickforstats_http_port", 80)),
        },
    }


def sandbox_env_files() -> dict[str, dict[str, str]]:
    main_vars = yaml.safe_load((SANDBOX_VARS / "all" / "main.yml").read_text())
    return env_files(decrypt_vault(), main_vars)


def lines(entries: dict[str, str], compose_quoted: bool) -> str:
    """`KEY=value` lines: the value raw (what `echo KEY=${{ secrets.X }}` wrote), or
    quoted so that Compose reads it back exactly (the quoting of our env_file role)."""
    return "".join(
        f"{key}={compose_quote(value, key) if compose_quoted else value}\n"
        for key, value in entries.items()
    )


class SecretLines:
    """0600 files of KEY=value lines for the old pipeline script, in a 0700 directory;
    removed by `cleanup()`."""

    def __init__(self, files: dict[str, dict[str, str]], compose_quoted: bool = True) -> None:
        TMP.mkdir(parents=True, exist_ok=True)
        self.directory = Path(tempfile.mkdtemp(prefix="secrets-", dir=TMP))
        os.chmod(self.directory, 0o700)
        self.paths: dict[str, Path] = {}
        for name, entries in files.items():
            path = self.directory / (name.lstrip(".").replace(".", "-") + ".lines")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(lines(entries, compose_quoted))
            self.paths[name] = path

    def cleanup(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
