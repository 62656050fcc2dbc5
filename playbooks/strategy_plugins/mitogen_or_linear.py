"""Strategy `mitogen_or_linear`: Ansible's `linear` strategy, run through Mitogen
when the `mitogen` package is installed (requirements/runtime.txt), else plain.

Mitogen keeps one Python interpreter per host for the whole run and sends
modules to it over the SSH connection, instead of starting Python for every
task: a deploy takes about half the time (bench/README.md). It changes how
modules travel, not what they do: same SSH, same host key checking, module
arguments never on a command line (tests/integration/test_secrets.py runs
through it). Without the package, or with ANSIBLE_STRATEGY=linear, runs are
plain Ansible.

When host key checking is turned off in Ansible's settings, Mitogen puts an
ssh option that turns it off first on ssh's command line, ahead of (and so
overriding) the option of ansible.cfg's ssh_args that turns it on. So when the
setting is off, this strategy stays plain `linear`, where ansible.cfg's
option comes first and checking stays on.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: mitogen_or_linear
short_description: linear, through Mitogen when it is installed
description:
  - Ansible's C(linear) strategy with Mitogen's connection layer when the C(mitogen) package is
    importable; otherwise C(ansible.builtin.linear) unchanged.
author: stickforstats-deploy engineers
"""

from ansible import constants  # noqa: E402

try:
    if not constants.config.get_config_value("HOST_KEY_CHECKING"):
        raise ImportError("host key checking is off in the settings: not through Mitogen")
    import ansible_mitogen.loaders
    import ansible_mitogen.strategy
except ImportError:  # mitogen not installed, or host key checking off: plain linear
    from ansible.plugins.strategy.linear import StrategyModule
else:
    _Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)

    class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):  # type: ignore[no-redef]
        """linear, with Mitogen's connection layer."""
