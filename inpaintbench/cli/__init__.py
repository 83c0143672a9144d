"""The ``inpaintbench`` command line: one module per group of commands."""

from __future__ import annotations

import errno

import click

from ..errors import InpaintbenchError


class _UserError(click.ClickException):
    exit_code = 2


#: file-system failures that are the machine's state, not a bug: one line naming the file and the cause
_ENVIRONMENT_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EMFILE)


class _Group(click.Group):
    """The top-level group: adds the plugins' commands on first use, and turns the toolkit's own errors
    (and a full or read-only disk) into one line on stderr instead of a traceback."""

    _plugin_commands_added = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._add_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def _add_plugin_commands(self) -> None:
        """Call every plugin's ``register_commands(cli)`` once; a plugin that raises or replaces a command is reported."""
        if self._plugin_commands_added:
            return
        self._plugin_commands_added = True
        from ..plugins import PluginFailure, plugin_manager, record_failure

        for impl in plugin_manager().hook.register_commands.get_hookimpls():
            before = dict(self.commands)
            try:
                impl.function(cli=self)
            except Exception as error:
                self.commands = before
                record_failure(PluginFailure(impl.plugin_name, "register", f"{type(error).__name__}: {error}"))
                continue
            replaced = sorted(name for name, command in before.items() if self.commands.get(name) is not command)
            if replaced:
                self.commands = {**self.commands, **before}
                record_failure(PluginFailure(
                    impl.plugin_name, "register", f"command(s) {', '.join(replaced)} already exist; the plugin's were not added"
                ))

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InpaintbenchError as error:
            raise _UserError(str(error)) from None
        except OSError as error:
            if error.errno not in _ENVIRONMENT_ERRORS:
                raise
            raise _UserError(f"cannot write {error.filename or 'a file'}: {error.strerror}") from None


def key_value_pairs(values: tuple[str, ...], what: str) -> list[tuple[str, str]]:
    """Parse repeated ``KEY=VALUE`` options (``-o``, ``--checkpoint``), naming the flag in errors."""
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise InpaintbenchError(f"{what} {value!r} must look like KEY=VALUE")
        pairs.append((key.strip(), rest.strip()))
    return pairs


def method_options(values: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """``-o METHOD.KEY=VALUE`` pairs (compare, experiments) as {method: {key: value}}."""
    options: dict[str, dict[str, str]] = {}
    for key, value in key_value_pairs(values, "-o"):
        method, dot, option = key.partition(".")
        if not dot or not option:
            raise InpaintbenchError(f"-o {key}={value}: name the method, e.g. -o METHOD.{key}={value}")
        options.setdefault(method, {})[option] = value
    return options


@click.group(cls=_Group)
@click.version_option(package_name="inpaintbench")
def main() -> None:
    """Train, run and compare image-inpainting methods (PSNR / SSIM, Table VI)."""


def _register_commands() -> None:
    from . import evaluate, inpaint, listing, masks, table, train

    for command in (*listing.COMMANDS, *evaluate.COMMANDS, *inpaint.COMMANDS, *masks.COMMANDS, *train.COMMANDS, *table.COMMANDS):
        main.add_command(command)


_register_commands()
