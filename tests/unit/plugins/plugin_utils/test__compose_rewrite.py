"""Tests of plugins/plugin_utils/_compose_rewrite.py."""

from __future__ import annotations

import copy
import textwrap

import pytest
import yaml
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._compose_rewrite import (
    ComposeRewrite,
    ComposeRewriteError,
    RewrittenService,
    rewrite_compose,
)
from hypothesis import given, settings
from hypothesis import strategies as st

REGISTRY = "registry:5000/stickforstats"
VERSION = "c0ffee1"
SHA = "sha256:" + "0123456789abcdef" * 4
BACKEND = f"{REGISTRY}/backend"
FRONTEND = f"{REGISTRY}/frontend"
IMAGES = {
    "backend": BACKEND,
    "worker": BACKEND,
    "beat": BACKEND,
    "asgi": BACKEND,
    "frontend": FRONTEND,
}

# Shaped like StickForStats' docker-compose.prod.yml, written in the style the
# rewriter writes (2-space indentation, no comments), so that the output can
# be compared with an exact expected text.
COMPOSE = textwrap.dedent(
    """\
    name: stickforstats
    x-backend-env: &backend-env
      DJANGO_SETTINGS_MODULE: stickforstats.settings.production
      DATABASE_URL: postgres://stickforstats:${DB_PASSWORD}@db:5432/stickforstats
    services:
      backend:
        build:
          context: .
          dockerfile: Dockerfile
          args:
            BUILD_ENV: production
        image: stickforstats-backend:latest
        container_name: stickforstats_backend
        command: gunicorn stickforstats.wsgi:application --bind 0.0.0.0:8000
        env_file: .env.prod
        environment:
          <<: *backend-env
          DEBUG: "False"
          DB_PASSWORD: ${DB_PASSWORD}
          ALLOWED_HOSTS: ${ALLOWED_HOSTS:-localhost}
        volumes:
          - static_volume:/app/staticfiles
          - media_volume:/app/media
        depends_on:
          db:
            condition: service_healthy
          redis:
            condition: service_started
        restart: unless-stopped
        deploy:
          resources:
            limits:
              cpus: "2.0"
              memory: 2G
      worker:
        build:
          context: .
          dockerfile: Dockerfile
        image: stickforstats-backend:latest
        container_name: stickforstats_worker
        command: ["celery", "-A", "stickforstats", "worker", "-l", "info"]
        env_file: .env.prod
        environment: *backend-env
        depends_on: [db, redis]
      beat:
        build: .
        image: stickforstats-backend:latest
        command: celery -A stickforstats beat -l info
        env_file:
          - .env.prod
        profiles: ["scheduler"]
      asgi:
        image: stickforstats-backend:latest
        build:
          context: .
        command: daphne -b 0.0.0.0 -p 8001 stickforstats.asgi:application
        env_file: .env.prod
        expose:
          - "8001"
      frontend:
        build:
          context: ./frontend
          dockerfile: Dockerfile.prod
          args:
            REACT_APP_API_URL: ${REACT_APP_API_URL}
        container_name: stickforstats_frontend
        volumes:
          - frontend_build:/app/build
      nginx:
        image: nginx:1.25-alpine
        container_name: stickforstats_nginx
        ports:
          - "80:80"
          - 443:443
          - "${HTTPS_PORT:-8443}:8443"
        volumes:
          - ./docker/nginx/nginx.conf:/etc/nginx/nginx.conf:ro
          - static_volume:/app/staticfiles:ro
          - frontend_build:/usr/share/nginx/html:ro
        depends_on:
          - backend
          - frontend
      db:
        image: postgres:15-alpine
        container_name: stickforstats_db
        environment:
          POSTGRES_DB: stickforstats
          POSTGRES_USER: stickforstats
          POSTGRES_PASSWORD: ${DB_PASSWORD}
        volumes:
          - postgres_data:/var/lib/postgresql/data
        healthcheck:
          test: ["CMD-SHELL", "pg_isready -U stickforstats"]
          interval: 10s
          timeout: 5s
          retries: 5
      redis:
        image: redis:7-alpine
        command: redis-server --appendonly yes
        volumes:
          - redis_data:/data
        profiles:
          - cache
    volumes:
      postgres_data:
      redis_data:
      static_volume:
      media_volume:
      frontend_build:
        driver: local
    networks:
      default:
        name: stickforstats_net
    """
)


def _expected_text(backend: str, frontend: str) -> str:
    """COMPOSE as the rewrite must write it."""
    text = COMPOSE
    for build in (
        """\
    build:
      context: .
      dockerfile: Dockerfile
      args:
        BUILD_ENV: production
""",
        """\
    build:
      context: .
      dockerfile: Dockerfile
""",
        """\
    build: .
""",
        """\
    build:
      context: .
""",
    ):
        assert build in text
        text = text.replace(build, "", 1)
    text = text.replace("image: stickforstats-backend:latest", f"image: {backend}")
    frontend_build = """\
    build:
      context: ./frontend
      dockerfile: Dockerfile.prod
      args:
        REACT_APP_API_URL: ${REACT_APP_API_URL}
"""
    assert frontend_build in text
    return text.replace(frontend_build, f"    image: {frontend}\n")


def test_stickforstats_compose_exact_output() -> None:
    result = rewrite_compose(COMPOSE, IMAGES, VERSION)
    assert result.text == _expected_text(f"{BACKEND}:{VERSION}", f"{FRONTEND}:{VERSION}")


def test_stickforstats_compose_services() -> None:
    result = rewrite_compose(COMPOSE, IMAGES, VERSION)
    assert isinstance(result, ComposeRewrite)
    assert result.services == (
        RewrittenService("backend", f"{BACKEND}:{VERSION}"),
        RewrittenService("worker", f"{BACKEND}:{VERSION}"),
        RewrittenService("beat", f"{BACKEND}:{VERSION}"),
        RewrittenService("asgi", f"{BACKEND}:{VERSION}"),
        RewrittenService("frontend", f"{FRONTEND}:{VERSION}"),
    )


def test_stickforstats_compose_semantics() -> None:
    """A YAML reader sees the input with only build/image changed."""
    out = yaml.safe_load(rewrite_compose(COMPOSE, IMAGES, VERSION).text)
    expected = yaml.safe_load(COMPOSE)
    for name, repository in IMAGES.items():
        service = expected["services"][name]
        del service["build"]
        service["image"] = f"{repository}:{VERSION}"
    assert out == expected


def test_stickforstats_compose_order_and_preserved_keys() -> None:
    out = yaml.safe_load(rewrite_compose(COMPOSE, IMAGES, VERSION).text)
    src = yaml.safe_load(COMPOSE)
    assert list(out) == ["name", "x-backend-env", "services", "volumes", "networks"]
    assert list(out["services"]) == list(src["services"])
    for name, service in out["services"].items():
        assert "build" not in service
        original = [key for key in src["services"][name] if key != "build"]
        if "image" not in original:
            original.insert(list(src["services"][name]).index("build"), "image")
        assert list(service) == original, name
    assert list(out["services"]["backend"])[:2] == ["image", "container_name"]
    assert list(out["services"]["asgi"])[:2] == ["image", "command"]
    assert list(out["services"]["frontend"])[:2] == ["image", "container_name"]
    backend = out["services"]["backend"]
    assert backend["env_file"] == ".env.prod"
    assert backend["environment"]["DB_PASSWORD"] == "${DB_PASSWORD}"
    assert backend["environment"]["ALLOWED_HOSTS"] == "${ALLOWED_HOSTS:-localhost}"
    assert backend["deploy"] == {"resources": {"limits": {"cpus": "2.0", "memory": "2G"}}}
    assert backend["container_name"] == "stickforstats_backend"
    assert out["services"]["beat"]["profiles"] == ["scheduler"]
    nginx = out["services"]["nginx"]
    assert nginx["image"] == "nginx:1.25-alpine"
    assert "./docker/nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
    assert out["services"]["db"]["image"] == "postgres:15-alpine"
    assert out["services"]["redis"]["image"] == "redis:7-alpine"
    assert out["volumes"]["frontend_build"] == {"driver": "local"}
    assert out["volumes"]["postgres_data"] is None


def test_anchors_aliases_and_merge_keys_are_kept() -> None:
    text = rewrite_compose(COMPOSE, IMAGES, VERSION).text
    assert "x-backend-env: &backend-env\n" in text
    assert "      <<: *backend-env\n" in text
    assert "    environment: *backend-env\n" in text


def test_digests_pin_images() -> None:
    result = rewrite_compose(COMPOSE, IMAGES, VERSION, {"frontend": SHA, "worker": SHA})
    services = {service.name: service.image for service in result.services}
    assert services["frontend"] == f"{FRONTEND}:{VERSION}@{SHA}"
    assert services["worker"] == f"{BACKEND}:{VERSION}@{SHA}"
    assert services["backend"] == f"{BACKEND}:{VERSION}"
    out = yaml.safe_load(result.text)
    assert out["services"]["frontend"]["image"] == f"{FRONTEND}:{VERSION}@{SHA}"


def test_rewrite_is_deterministic_and_input_untouched() -> None:
    images = dict(IMAGES)
    snapshot = copy.deepcopy(images)
    first = rewrite_compose(COMPOSE, images, VERSION).text
    assert rewrite_compose(COMPOSE, images, VERSION).text == first
    assert images == snapshot


def test_file_without_built_services_round_trips_exactly() -> None:
    text = textwrap.dedent(
        """\
        services:
          db:
            image: postgres:15
            environment:
              POSTGRES_PASSWORD: ${DB_PASSWORD}
            ports:
              - 5432:5432
        volumes:
          db_data:
        """
    )
    result = rewrite_compose(text, {}, VERSION)
    assert result.text == text
    assert result.services == ()


# ---------------------------------------------------------------------------
# Scalars keep their meaning (and their spelling)
# ---------------------------------------------------------------------------

SCALARS = [
    # as written, what YAML 1.1 (PyYAML) reads, what Compose (YAML 1.2) reads
    ('"${VAR}"', "${VAR}"),
    ("${VAR}", "${VAR}"),
    ("${VAR:-default value}", "${VAR:-default value}"),
    ('"yes"', "yes"),
    ("'on'", "on"),
    ('"0755"', "0755"),
    ("'0755'", "0755"),
    ('"80:80"', "80:80"),
    ('"1.10"', "1.10"),
    ('"null"', "null"),
    ('"true"', "true"),
    ('"2024-01-01"', "2024-01-01"),
    ('"0o755"', "0o755"),
    ('"multi\\nline"', "multi\nline"),
    ("'it''s'", "it's"),
    ('"#not a comment"', "#not a comment"),
    ("unicode ✓", "unicode ✓"),
]


@pytest.mark.parametrize(("written", "value"), SCALARS, ids=[s[0] for s in SCALARS])
def test_quoted_strings_stay_strings(written: str, value: str) -> None:
    text = f"services:\n  app:\n    build: .\n    environment:\n      X: {written}\n"
    out = rewrite_compose(text, {"app": BACKEND}, VERSION).text
    assert yaml.safe_load(out)["services"]["app"]["environment"]["X"] == value
    assert f"      X: {written}\n" in out, "the scalar is written back as it was"


# Unquoted scalars that YAML 1.1 and YAML 1.2 (Compose) read differently are
# written back unquoted, exactly as they were, so Compose reads them the same.
VERBATIM = ["80:80", "0755", "yes", "on", "No", "1_000", "2024-01-01", "1e3", "0x1F", ".5"]


@pytest.mark.parametrize("written", VERBATIM)
def test_plain_scalars_are_written_back_verbatim(written: str) -> None:
    text = f"services:\n  app:\n    build: .\n    labels:\n      x: {written}\n    ports:\n      - {written}\n"
    out = rewrite_compose(text, {"app": BACKEND}, VERSION).text
    assert f"      x: {written}\n" in out
    assert f"      - {written}\n" in out


@pytest.mark.parametrize(
    ("written", "dumped"),
    [
        ("true", "true"),
        ("False", "false"),
        ("5", "5"),
        ("-0", "0"),
        ("+1", "1"),
        ("null", ""),
        ("~", ""),
        ("", ""),
    ],
)
def test_typed_scalars(written: str, dumped: str) -> None:
    text = f"services:\n  app:\n    build: .\n    x: {written}\n"
    out = rewrite_compose(text, {"app": BACKEND}, VERSION).text
    assert out.endswith(f"    x:{' ' if dumped else ''}{dumped}\n")


def test_block_scalars_and_flow_collections() -> None:
    text = textwrap.dedent(
        """\
        services:
          app:
            build: .
            command: ["sh", "-c", "echo ${X} && exec app"]
            healthcheck:
              test: |
                curl -f http://localhost:8000/health
                exit 0
            labels: {a: "1", b: two}
            entrypoint: >
              folded
              text
        """
    )
    out = rewrite_compose(text, {"app": BACKEND}, VERSION).text
    assert '    command: ["sh", "-c", "echo ${X} && exec app"]\n' in out
    assert "      test: |\n        curl -f http://localhost:8000/health\n        exit 0\n" in out
    assert '    labels: {a: "1", b: two}\n' in out
    loaded = yaml.safe_load(out)["services"]["app"]
    assert loaded["entrypoint"] == "folded text\n"


def test_compose_tags_are_kept() -> None:
    text = textwrap.dedent(
        """\
        services:
          app:
            build: .
            ports: !override
              - "8080:80"
            labels: !reset {}
            ulimits: !reset null
            dns: !reset
        """
    )
    out = rewrite_compose(text, {"app": BACKEND}, VERSION).text
    assert '    ports: !override\n      - "8080:80"\n' in out
    assert "    labels: !reset {}\n" in out
    assert "    ulimits: !reset null\n" in out
    assert "    dns: !reset\n" in out


def test_build_inherited_through_a_merge_key_is_written_out() -> None:
    text = textwrap.dedent(
        """\
        x-backend: &backend
          build:
            context: .
          env_file: .env.prod
          restart: unless-stopped
        services:
          backend:
            <<: *backend
            command: web
          worker:
            command: worker
            <<: *backend
            restart: "no"
        """
    )
    result = rewrite_compose(text, {"backend": BACKEND, "worker": BACKEND}, VERSION)
    out = yaml.safe_load(result.text)
    image = f"{BACKEND}:{VERSION}"
    assert out["services"]["backend"] == {
        "image": image,
        "env_file": ".env.prod",
        "restart": "unless-stopped",
        "command": "web",
    }
    assert list(out["services"]["backend"]) == ["image", "env_file", "restart", "command"]
    assert out["services"]["worker"] == {
        "command": "worker",
        "image": image,
        "env_file": ".env.prod",
        "restart": "no",
    }
    assert list(out["services"]["worker"]) == ["command", "image", "env_file", "restart"]
    assert out["x-backend"]["build"] == {"context": "."}, "the extension is kept as it was"


def test_pull_policy_build_is_dropped() -> None:
    text = "services:\n  app:\n    build: .\n    pull_policy: build\n  db:\n    image: pg\n    pull_policy: always\n"
    out = rewrite_compose(text, {"app": BACKEND}, VERSION).text
    assert (
        out
        == f"services:\n  app:\n    image: {BACKEND}:{VERSION}\n  db:\n    image: pg\n    pull_policy: always\n"
    )


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"\A[A-Z][A-Z0-9_]{0,10}\Z"),
        st.one_of(
            st.text(st.characters(exclude_categories=("Cs",)), max_size=20),
            st.integers(),
            st.booleans(),
            st.none(),
        ),
        max_size=6,
    )
)
def test_any_environment_survives(environment: dict[str, object]) -> None:
    """Whatever PyYAML dumps, PyYAML reads back the same after a rewrite."""
    document = {"services": {"app": {"build": ".", "environment": environment}}}
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    out = rewrite_compose(text, {"app": BACKEND}, VERSION).text
    # Compare with what PyYAML reads from the input: safe_dump itself does not
    # round-trip a few control characters such as NEL.
    assert yaml.safe_load(out)["services"]["app"] == {
        "environment": yaml.safe_load(text)["services"]["app"]["environment"],
        "image": f"{BACKEND}:{VERSION}",
    }


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

MINIMAL = "services:\n  app:\n    build: .\n  db:\n    image: postgres:15\n"

ERRORS = [
    pytest.param(
        MINIMAL, {}, VERSION, None, ["service 'app' has build: but no image mapping"], id="unmapped"
    ),
    pytest.param(
        MINIMAL,
        {"app": BACKEND, "web": BACKEND},
        VERSION,
        None,
        ["service 'web' has an image mapping but is not in the compose file"],
        id="absent-service",
    ),
    pytest.param(
        MINIMAL,
        {"app": BACKEND, "db": BACKEND},
        VERSION,
        None,
        ["service 'db' has an image mapping but no build:"],
        id="not-built",
    ),
    pytest.param(
        MINIMAL,
        {"app": BACKEND},
        "bad tag",
        None,
        ["version 'bad tag' is not a valid image tag"],
        id="bad-version",
    ),
    pytest.param(
        MINIMAL,
        {"app": BACKEND},
        "v" * 129,
        None,
        ["is not a valid image tag: tag is 129 characters long"],
        id="long-version",
    ),
    pytest.param(
        MINIMAL,
        {"app": "Registry:5000/StickForStats/backend"},
        VERSION,
        None,
        [
            (
                "image repository for service 'app' is invalid: invalid image reference "
                "'Registry:5000/StickForStats/backend'"
            )
        ],
        id="bad-repository",
    ),
    pytest.param(
        MINIMAL,
        {"app": f"{BACKEND}:latest"},
        VERSION,
        None,
        [
            f"image repository for service 'app' must not include a tag or digest: '{BACKEND}:latest'"
        ],
        id="repository-with-tag",
    ),
    pytest.param(
        MINIMAL,
        {"app": BACKEND},
        VERSION,
        {"app": "sha256:abc"},
        ["digest for service 'app' is invalid"],
        id="bad-digest",
    ),
    pytest.param(
        MINIMAL,
        {"app": BACKEND},
        VERSION,
        {"db": SHA},
        ["digest given for service 'db', which has no image mapping"],
        id="digest-without-mapping",
    ),
    pytest.param(
        "services:\n  app:\n    build: .\n   image: x\n",
        {"app": BACKEND},
        VERSION,
        None,
        ["invalid YAML at line 4, column 4"],
        id="bad-indentation",
    ),
    pytest.param(
        "services:\n  app: [\n",
        {},
        VERSION,
        None,
        ["invalid YAML at line 3"],
        id="unclosed-flow",
    ),
    pytest.param(
        "services:\n  app:\n    build: .\n    build: ./other\n",
        {"app": BACKEND},
        VERSION,
        None,
        ["invalid YAML at line 4, column 5: found duplicate key 'build'"],
        id="duplicate-key",
    ),
    pytest.param(
        "services:\n  app:\n    image: !!python/object:os.system x\n",
        {},
        VERSION,
        None,
        ["invalid YAML at line 3"],
        id="unsafe-tag",
    ),
    pytest.param(
        "a: 1\n---\nb: 2\n",
        {},
        VERSION,
        None,
        ["invalid YAML at line 2"],
        id="two-documents",
    ),
    pytest.param(
        "- a\n- b\n",
        {},
        VERSION,
        None,
        ["top level of the compose file must be a mapping, but it is a list"],
        id="top-level-list",
    ),
    pytest.param("", {}, VERSION, None, ["must be a mapping, but it is empty"], id="empty-file"),
    pytest.param(
        "volumes:\n  data:\n",
        {},
        VERSION,
        None,
        ["compose file has no 'services' mapping"],
        id="no-services",
    ),
    pytest.param(
        "services:\n", {}, VERSION, None, ["'services' must be a mapping"], id="empty-services"
    ),
    pytest.param(
        "services:\n  - app\n",
        {},
        VERSION,
        None,
        ["'services' must be a mapping, but it is a list"],
        id="services-list",
    ),
    pytest.param(
        "services:\n  app: web\n",
        {"app": BACKEND},
        VERSION,
        None,
        ["service 'app' must be a mapping"],
        id="service-not-mapping",
    ),
]


@pytest.mark.parametrize(("text", "images", "version", "digests", "fragments"), ERRORS)
def test_errors(
    text: str,
    images: dict[str, str],
    version: str,
    digests: dict[str, str] | None,
    fragments: list[str],
) -> None:
    with pytest.raises(ComposeRewriteError) as excinfo:
        rewrite_compose(text, images, version, digests)
    assert len(excinfo.value.errors) == len(fragments), excinfo.value.errors
    for fragment, error in zip(fragments, excinfo.value.errors, strict=False):
        assert fragment in error
        assert fragment in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


def test_all_errors_are_reported_together() -> None:
    images = {
        "backend": BACKEND,
        "worker": "Bad/Repository",
        "nginx": f"{REGISTRY}/nginx",
        "celery": BACKEND,
    }
    with pytest.raises(ComposeRewriteError) as excinfo:
        rewrite_compose(COMPOSE, images, "not a tag", {"frontend": SHA})
    errors = excinfo.value.errors
    assert errors == (
        (
            "version 'not a tag' is not a valid image tag: tag 'not a tag' is not valid "
            "(it must start with a letter, digit or underscore, followed by letters, digits, "
            "'_', '.' or '-')"
        ),
        (
            "image repository for service 'worker' is invalid: invalid image reference "
            "'Bad/Repository': repository path 'Repository' must be lower case"
        ),
        "digest given for service 'frontend', which has no image mapping",
        "service 'celery' has an image mapping but is not in the compose file",
        "service 'beat' has build: but no image mapping",
        "service 'asgi' has build: but no image mapping",
        "service 'frontend' has build: but no image mapping",
        "service 'nginx' has an image mapping but no build: (only built services are rewritten)",
    )
    message = str(excinfo.value)
    assert message.startswith("8 errors: ")
    assert all(error in message for error in errors)


def test_yaml_error_and_argument_errors_are_reported_together() -> None:
    with pytest.raises(ComposeRewriteError) as excinfo:
        rewrite_compose("services: [\n", {"app": "x:1"}, "bad tag")
    assert len(excinfo.value.errors) == 3
    assert excinfo.value.errors[-1].startswith("invalid YAML at line 2")


@pytest.mark.parametrize(
    ("images", "digests", "fragment"),
    [
        (["app"], None, "images must be a mapping"),
        ({"app": BACKEND}, ["sha256:x"], "digests must be a mapping"),
        ({"app": 42}, None, "image repository for service 'app' is invalid"),
    ],
)
def test_bad_argument_types(images: object, digests: object, fragment: str) -> None:
    with pytest.raises(ComposeRewriteError, match=fragment):
        rewrite_compose(MINIMAL, images, VERSION, digests)  # type: ignore[arg-type]


def test_text_must_be_a_string() -> None:
    with pytest.raises(ComposeRewriteError, match="compose file must be text"):
        rewrite_compose(b"services: {}", {}, VERSION)  # type: ignore[arg-type]
