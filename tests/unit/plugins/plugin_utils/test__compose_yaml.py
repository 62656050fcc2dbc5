"""Tests of plugins/plugin_utils/_compose_yaml.py, and of what the rewrite gets from it:
comments kept, YAML 1.2 whatever the directive, output stable, no value in an error."""

from __future__ import annotations

import json
import textwrap
import warnings

import pytest
import yaml
from ansible_collections.stickforstats.deploy.plugins.plugin_utils import _compose_yaml
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._compose_rewrite import (
    ComposeRewriteError,
    rewrite_compose,
)
from hypothesis import given, settings
from hypothesis import strategies as st

BACKEND = "registry:5000/stickforstats/backend"
FRONTEND = "registry:5000/stickforstats/frontend"
VERSION = "c0ffee1"
SHA = "sha256:" + "0123456789abcdef" * 4

COMMENTED = textwrap.dedent(
    """\
    # StickForStats production stack
    name: stickforstats

    x-common: &common
      restart: unless-stopped  # not always
      logging:
        driver: json-file

    services:
      # The API
      backend:
        <<: *common
        build:
          context: .  # the repository
          # args next
          args:
            BUILD_ENV: production
        # The command line, after build
        command: gunicorn app.wsgi  # 4 workers
        environment:
          PASSWORD: "$$not-a-variable"  # escaped dollar
          FLAG: yes
          MODE: 0644
        ports: ["8000:8000"]  # flow
      worker:
        build: .  # short form
        image: old:latest  # replaced
        pull_policy: build
        depends_on:
          - backend

      db:
        image: postgres:15  # pinned
    volumes:
      data: {}
    # end of file
    """
)


def rewrite(text: str, images: dict[str, str] | None = None) -> str:
    return rewrite_compose(text, images or {"backend": BACKEND, "worker": BACKEND}, VERSION).text


def test_comments_are_kept() -> None:
    out = rewrite(COMMENTED)
    for comment in [
        "# StickForStats production stack\n",
        "  restart: unless-stopped  # not always\n",
        "  # The API\n",
        "    # The command line, after build\n",
        "    command: gunicorn app.wsgi  # 4 workers\n",
        '      PASSWORD: "$$not-a-variable"  # escaped dollar\n',
        '    ports: ["8000:8000"]  # flow\n',
        f"    image: {BACKEND}:{VERSION} # replaced\n",  # the comment's column is passed
        "    image: postgres:15  # pinned\n",
        "# end of file\n",
    ]:
        assert comment in out
    # Those of the removed build: sections go with them.
    for gone in ["# the repository", "# args next", "# short form", "pull_policy"]:
        assert gone not in out


def test_commented_file_exact_output() -> None:
    assert rewrite(COMMENTED) == COMMENTED.replace(
        """\
    <<: *common
    build:
      context: .  # the repository
      # args next
      args:
        BUILD_ENV: production
""",
        f"""\
    <<: *common
    image: {BACKEND}:{VERSION}
""",
    ).replace(
        """\
    build: .  # short form
    image: old:latest  # replaced
    pull_policy: build
""",
        f"""\
    image: {BACKEND}:{VERSION} # replaced
""",
    )


def test_output_is_stable() -> None:
    """Reading and writing the output changes nothing, and a rewrite is the same bytes
    every time (the roles' second run must change nothing)."""
    out = rewrite(COMMENTED)
    assert _compose_yaml.dump(_compose_yaml.load(out)) == out
    assert rewrite(COMMENTED) == out
    assert rewrite_compose(out, {}, VERSION).text == out


def test_image_takes_the_place_of_build_after_a_merge_key() -> None:
    text = (
        "x: &x\n  restart: always\nservices:\n  app:\n    <<: *x\n    build: .\n    command: run\n"
    )
    out = rewrite(text, {"app": BACKEND})
    assert out.endswith(f"  app:\n    <<: *x\n    image: {BACKEND}:{VERSION}\n    command: run\n")


def test_one_body_shared_by_two_services_gets_each_its_image() -> None:
    text = "services:\n  backend: &be\n    build: .\n    command: web\n  frontend: *be\n"
    result = rewrite_compose(text, {"backend": BACKEND, "frontend": FRONTEND}, VERSION, {})
    services = yaml.safe_load(result.text)["services"]
    assert services == {
        "backend": {"image": f"{BACKEND}:{VERSION}", "command": "web"},
        "frontend": {"image": f"{FRONTEND}:{VERSION}", "command": "web"},
    }


def test_long_strings_are_not_folded() -> None:
    long = "x" * 300 + " " + "y" * 300
    text = f"services:\n  app:\n    build: .\n    command: {long}\n"
    assert f"    command: {long}\n" in rewrite(text, {"app": BACKEND})


@pytest.mark.parametrize("directive", ["%YAML 1.1\n---\n", "%YAML 1.2\n---\n", "---\n"])
def test_scalars_are_read_as_yaml_1_2_whatever_the_directive(directive: str) -> None:
    text = f"{directive}services:\n  app:\n    build: .\n    environment:\n      A: yes\n      B: 0755\n      C: on\n"
    out = rewrite(text, {"app": BACKEND})
    assert "      A: yes\n      B: 0755\n      C: on\n" in out


def test_unknown_global_tags_are_refused() -> None:
    with pytest.raises(ComposeRewriteError, match="could not determine a constructor"):
        rewrite("services:\n  app:\n    build: !!python/object/apply:os.system [id]\n")


@pytest.mark.parametrize(
    "text",
    [
        "services:\n  app:\n    build: .\n    environment:\n      SECRET: hunter2\n      SECRET: hunter3\n",
        'services:\n  app:\n    build: .\n    environment:\n      SECRET: "hunter2\n',
        "services:\n  app:\n    build: .\n    environment: {SECRET: hunter2 x: [}\n",
        'services:\n  app:\n    build: .\n    environment:\n      SECRET: "hunter2\\x"\n',
        "services:\n  app:\n    build: .\n    environment:\n\tSECRET: hunter2\n",
    ],
    ids=["duplicate-key", "unclosed-quote", "bad-flow", "bad-escape", "tab"],
)
def test_errors_never_show_values(text: str) -> None:
    with pytest.raises(ComposeRewriteError) as excinfo:
        rewrite(text, {"app": BACKEND})
    assert "hunter" not in str(excinfo.value)
    assert all("hunter" not in error for error in excinfo.value.errors)


def test_a_reused_anchor_warns_nothing() -> None:
    """ruamel.yaml's warning would print the lines around the anchor."""
    text = "services:\n  app:\n    build: .\n    environment: &e {SECRET: hunter2}\n    labels: &e {a: b}\n"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "hunter2" in rewrite(text, {"app": BACKEND})


def test_merged_build_keeps_the_comments_of_the_own_keys() -> None:
    text = textwrap.dedent(
        """\
        x-backend: &backend
          build: .
          restart: always
        services:
          worker:
            command: worker  # the queue
            <<: *backend
            restart: "no"  # one-shot
        """
    )
    out = rewrite(text, {"worker": BACKEND})
    assert out.endswith(
        "  worker:\n    command: worker  # the queue\n"
        f"    image: {BACKEND}:{VERSION}\n"
        '    restart: "no"  # one-shot\n'
    )


_KEYS = st.from_regex(r"\A[a-z][a-z0-9_]{0,8}\Z")
_COMMENTS = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12).map(
    lambda text: f"  # {text.strip()}" if text.strip() else ""
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            _KEYS, st.text(st.characters(exclude_categories=("Cs",)), max_size=15), _COMMENTS
        ),
        max_size=5,
        unique_by=lambda t: t[0],
    ),
    _COMMENTS,
)
def test_any_commented_service_rewrites_stably(
    labels: list[tuple[str, str, str]], build_comment: str
) -> None:
    """Labels of any text, with comments: the rewrite reads the same to PyYAML, keeps
    every comment not in build:, and is a fixed point of reading and writing."""
    lines = ["services:", "  app:", f"    build: .{build_comment}", "    labels:"]
    for key, value, comment in labels:
        lines.append(f"      {key}: {json.dumps(value)}{comment}")
    if not labels:
        lines[-1] = "    labels: {}"
    text = "\n".join(lines) + "\n"
    out = rewrite(text, {"app": BACKEND})
    expected = yaml.safe_load(text)["services"]["app"]
    del expected["build"]
    assert yaml.safe_load(out)["services"]["app"] == {"image": f"{BACKEND}:{VERSION}", **expected}
    for _key, _value, comment in labels:
        assert comment in out
    assert _compose_yaml.dump(_compose_yaml.load(out)) == out


def test_a_comment_after_an_anchor_moves_to_its_own_line() -> None:
    """ruamel.yaml 0.19.1's quirk, said in _compose_yaml's docstring: the comment stays,
    on its own line, the data does not change, and the output reads back to itself."""
    text = (
        "x-env: &env  # shared\n  A: '1'\nservices:\n  app:\n    build: .\n    environment: *env\n"
    )
    out = rewrite(text, {"app": BACKEND})
    assert "# shared" in out and "x-env: &env  # shared" not in out
    assert yaml.safe_load(out)["services"]["app"]["environment"] == {"A": "1"}
    assert _compose_yaml.dump(_compose_yaml.load(out)) == out


def test_a_service_merged_into_another_is_left_as_it_was_for_it() -> None:
    """The rewrite edits copies: the anchored service still brings build: to the merge,
    which is written out, and to an extension that aliases it."""
    text = textwrap.dedent(
        """\
        services:
          backend: &backend
            build: .  # built here
            env_file: .env
          worker:
            <<: *backend
            command: celery  # queue
        x-copy: *backend
        """
    )
    result = rewrite_compose(text, {"backend": BACKEND, "worker": FRONTEND}, VERSION)
    out = yaml.safe_load(result.text)
    assert out["services"] == {
        "backend": {"image": f"{BACKEND}:{VERSION}", "env_file": ".env"},
        "worker": {"image": f"{FRONTEND}:{VERSION}", "env_file": ".env", "command": "celery"},
    }
    assert out["x-copy"] == {"build": ".", "env_file": ".env"}
    assert "    command: celery  # queue\n" in result.text
    assert _compose_yaml.dump(_compose_yaml.load(result.text)) == result.text


def test_an_extension_used_as_a_whole_service_is_kept() -> None:
    text = "x-app: &app\n  build: .\n  command: run\nservices:\n  app: *app\n"
    out = rewrite(text, {"app": BACKEND})
    assert out == (
        "x-app:\n  build: .\n  command: run\n"
        f"services:\n  app:\n    image: {BACKEND}:{VERSION}\n    command: run\n"
    )


@pytest.mark.parametrize(
    "tag", ["!!int", "!!float", "!!timestamp", "!!bool", "!!binary", "!!set", "!!omap"]
)
@pytest.mark.parametrize("value", ["hunter2", "[hunter2]", "{hunter2: hunter3}"])
def test_a_value_that_does_not_fit_its_tag_is_not_shown(tag: str, value: str) -> None:
    """ruamel.yaml's constructors quote the value (`failed to construct timestamp from
    "hunter2"`) or raise ValueError/KeyError with it: the rewrite's error has neither."""
    text = f"services:\n  app:\n    build: .\n    environment:\n      S: {tag} {value}\n"
    try:
        rewrite(text, {"app": BACKEND})
    except ComposeRewriteError as exc:
        assert "hunter" not in str(exc), exc
        assert str(exc).startswith("invalid YAML")
