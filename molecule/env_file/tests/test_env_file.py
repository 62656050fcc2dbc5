"""Compose reads back exactly the values the env_file role was given."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

REPO = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
SCENARIO = Path(__file__).resolve().parents[1]
VARS = yaml.safe_load((SCENARIO / "vars" / "hostile.yml").read_text())
DIR = VARS["env_file_test_dir"]


def vault() -> dict:
    secret = (REPO / "tests/vault/test-only-password.txt").read_bytes().strip()
    lib = VaultLib([("default", VaultSecret(secret))])
    text = lib.decrypt((REPO / "inventories/sandbox/group_vars/all/vault.yml").read_bytes())
    return yaml.safe_load(text)


def compose_environment(host, env_file: str) -> dict:
    """The environment Compose gives a service whose env_file is ENV_FILE."""
    compose = json.dumps({"services": {"probe": {"image": "scratch", "env_file": env_file}}})
    out = host.check_output(
        f"echo {shlex.quote(compose)} | docker compose --project-directory {DIR} "
        "-p envprobe -f - config --format json"
    )
    env = json.loads(out)["services"]["probe"]["environment"]
    # `config` escapes every $ of a value as $$ in its output: undo it
    return {k: (v or "").replace("$$", "$") for k, v in env.items()}


def test_hard_values_read_back_exactly(host):
    env = compose_environment(host, "hostile.env")
    assert env == VARS["env_file_test_hostile"]


def test_vaulted_secrets_read_back_exactly(host):
    secrets = vault()
    env = compose_environment(host, ".env.prod")
    assert env["SECRET_KEY"] == secrets["vault_django_secret_key"]
    assert env["EMAIL_HOST_USER"] == secrets["vault_email_host_user"]
    assert env["EMAIL_HOST_PASSWORD"] == secrets["vault_email_host_password"]
    assert env["DEBUG"] == "False" and env["EMAIL_USE_TLS"] == "True"
    assert unquote(urlsplit(env["DATABASE_URL"]).password) == secrets["vault_db_password"]
    for key in ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        assert unquote(urlsplit(env[key]).password) == secrets["vault_redis_password"]
    project = compose_environment(host, ".env")
    assert project["DB_PASSWORD"] == secrets["vault_db_password"]
    assert project["REDIS_PASSWORD"] == secrets["vault_redis_password"]


def test_env_files_are_private(host):
    for name in (".env", ".env.prod", "hostile.env"):
        f = host.file(f"{DIR}/{name}")
        assert f.exists
        assert f.mode == 0o600, f"{name}: {oct(f.mode)}"
        assert (f.user, f.group) == ("root", "root")
