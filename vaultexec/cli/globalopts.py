"""Global options accepted both before and after the subcommand name, defined once.

The group declares each option with its env var and default. Every subcommand gets a copy without
env var or default; a copy given on the command line wins over the group's value. The group's
callback is deferred: it runs once, just before the subcommand's own callback, with the merged values,
so the session and logging are set up from what the user finally meant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from click.core import ParameterSource

#: Heading of the global options in a subcommand's --help.
AFTER_SECTION = "Global options (also accepted before the command; given here, they win)"


@dataclass(frozen=True)
class GlobalOption:
    """One global option; `envvar` and `default` apply only where no occurrence is on the command line."""

    decls: tuple[str, ...]
    help: str
    metavar: str | None = None
    type: click.ParamType[Any] | type | None = None
    envvar: str | None = None
    default: str | None = None
    is_flag: bool = False

    def for_group(self) -> click.Option:
        """The option as declared on the group (before the subcommand), with env var and default."""
        return click.Option(list(self.decls), help=self.help, metavar=self.metavar, type=self.type,
                            envvar=self.envvar, default=self.default, show_default=self.default is not None,
                            is_flag=self.is_flag)

    def for_command(self) -> click.Option:
        """The copy a subcommand accepts: no env var or default of its own, so the group's value stays when absent."""
        default = f"  [default: {self.default}]" if self.default is not None else ""
        return click.Option(list(self.decls), help=self.help + default, metavar=self.metavar, type=self.type,
                            is_flag=self.is_flag)


class GlobalOptionsCommand(click.Command):
    """A subcommand that also accepts the group's global options; it lists them in their own help section."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        global_names = _global_names(ctx)
        own: list[tuple[str, str]] = []
        shared: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None and isinstance(param, click.Option):
                (shared if param.name in global_names else own).append(record)
        if own:
            with formatter.section("Options"):
                formatter.write_dl(own)
        if shared:
            with formatter.section(AFTER_SECTION):
                formatter.write_dl(shared)

    def invoke(self, ctx: click.Context) -> Any:
        group_ctx = ctx.parent
        if group_ctx is None or not isinstance(group_ctx.command, GlobalOptionsGroup):
            raise TypeError(f"command {self.name!r} must be invoked as a subcommand of a GlobalOptionsGroup")
        merged = dict(group_ctx.params)
        for name in group_ctx.command.global_names:
            value = ctx.params.pop(name, None)
            if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE:
                merged[name] = value
        group_ctx.command.invoke_global_callback(ctx, merged)
        return super().invoke(ctx)


class GlobalOptionsGroup(click.Group):
    """A click group whose `options` are accepted before and after the subcommand name.

    Pass `options=[GlobalOption, ...]`; the group's callback receives their merged values (after wins).
    """

    command_class = GlobalOptionsCommand

    def __init__(self, *args: Any, options: list[GlobalOption], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.global_options = list(options)
        group_params = [option.for_group() for option in self.global_options]
        self.params[:0] = group_params
        self.global_names = frozenset(param.name for param in group_params if param.name)
        self._global_callback: Callable[..., Any] | None = self.callback
        self.callback = None  # runs from the subcommand, see GlobalOptionsCommand.invoke

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not isinstance(cmd, GlobalOptionsCommand):
            raise TypeError(f"command {cmd.name!r} must be a GlobalOptionsCommand (use @group.command)")
        global_flags = {flag for option in self.global_options for flag in option.decls if flag.startswith("-")}
        own = {param.name for param in cmd.params} | {flag for param in cmd.params for flag in param.opts}
        clashes = own & (self.global_names | global_flags)
        if clashes:
            raise TypeError(f"command {cmd.name!r} declares global option(s) {sorted(clashes)} itself")
        cmd.params.extend(option.for_command() for option in self.global_options)
        super().add_command(cmd, name)

    def invoke_global_callback(self, ctx: click.Context, values: dict[str, Any]) -> None:
        """Run the group's own callback with the merged global option values, in the subcommand's context."""
        if self._global_callback is not None:
            ctx.invoke(self._global_callback, **values)


def given_on_command_line(ctx: click.Context, name: str) -> bool:
    """True when global option `name` was typed, before or after the subcommand (not env var, not default)."""
    contexts = [ctx, ctx.parent] if ctx.parent is not None else [ctx]
    return any(c.get_parameter_source(name) is ParameterSource.COMMANDLINE for c in contexts)


def _global_names(ctx: click.Context) -> frozenset[str]:
    parent = ctx.parent
    if parent is not None and isinstance(parent.command, GlobalOptionsGroup):
        return parent.command.global_names
    return frozenset()
