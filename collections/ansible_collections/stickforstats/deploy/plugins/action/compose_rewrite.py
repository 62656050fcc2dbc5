"""Action plugin of stickforstats.deploy.compose_rewrite.

The compose file is read and rewritten on the controller; the result is
installed on the managed host by the ``ansible.builtin.copy`` action, which
provides check mode, diff mode and idempotence.
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible_collections.stickforstats.deploy.plugins.plugin_utils._compose_rewrite import (
    ComposeRewriteError,
    rewrite_compose,
)

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "src": {"type": "path", "required": True},
    "dest": {"type": "path", "required": True},
    "images": {"type": "dict", "required": True},
    "version": {"type": "str", "required": True},
    "digests": {"type": "dict", "default": {}},
    "mode": {"type": "raw", "default": "0644"},
    "owner": {"type": "str"},
    "group": {"type": "str"},
    "backup": {"type": "bool", "default": False},
}

_COPY_OPTIONS = ("dest", "mode", "owner", "group", "backup")


class ActionModule(ActionBase):
    """Rewrite a compose file on the controller and install it with copy."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(
        self, tmp: str | None = None, task_vars: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        if task_vars is None:
            task_vars = {}
        result = super().run(tmp, task_vars)
        del tmp

        try:
            _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
            text = self._read_source(args["src"])
        except AnsibleError as exc:
            result.update(failed=True, msg=to_text(exc.message))
            return result

        try:
            rewritten = rewrite_compose(
                text, args["images"], args["version"], args["digests"] or {}
            )
        except ComposeRewriteError as exc:
            result.update(failed=True, msg=f"{args['src']}: {exc}", errors=list(exc.errors))
            return result

        copy_args: dict[str, Any] = {"content": rewritten.text}
        copy_args.update((name, args[name]) for name in _COPY_OPTIONS if args[name] is not None)
        new_task = self._task.copy()
        new_task.args = copy_args

        copy_action = self._shared_loader_obj.action_loader.get(
            "ansible.builtin.copy",
            task=new_task,
            connection=self._connection,
            play_context=self._play_context,
            loader=self._loader,
            templar=self._templar,
            shared_loader_obj=self._shared_loader_obj,
        )
        copy_result = copy_action.run(task_vars=task_vars)
        result.update(copy_result)
        result["services"] = [
            {"name": service.name, "image": service.image} for service in rewritten.services
        ]
        return result

    def _read_source(self, src: str) -> str:
        """Return the text of ``src`` on the controller (vault files are decrypted)."""
        source = self._find_needle("files", src)
        real_path = self._loader.get_real_file(source, decrypt=True)
        try:
            with open(real_path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            raise AnsibleError(f"could not read {source}: {exc}") from exc
        finally:
            self._loader.cleanup_tmp_file(real_path)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AnsibleError(f"{source} is not UTF-8 text: {exc}") from exc
