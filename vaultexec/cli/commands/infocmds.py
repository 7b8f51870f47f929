"""`vaultexec toolchain` (install anvil and Uniswap's contracts for the fixtures and the demo) and
`vaultexec docs` (the documentation shipped in the package)."""

from __future__ import annotations

import sys
from importlib.resources import files

import click

from vaultexec.cli.app import cli
from vaultexec.cli.failures import stderr_console
from vaultexec.errors import BadInputError


def doc_topics() -> dict[str, str]:
    """Topic name -> text of each docs/*.md page shipped in the package."""
    folder = files("vaultexec") / "docs"
    return {entry.name.removesuffix(".md"): entry.read_text(encoding="utf-8")
            for entry in sorted(folder.iterdir(), key=lambda e: e.name) if entry.name.endswith(".md")}


@cli.command("docs")
@click.argument("topic", required=False)
def docs_command(topic: str | None) -> None:
    """Print a documentation page (Markdown) shipped with vaultexec; without TOPIC, list the topics.

    E.g. `vaultexec docs cli` (commands, exit codes, JSON output), `vaultexec docs testing` (fixtures).
    """
    topics = doc_topics()
    if topic is None:
        sys.stdout.write("Topics (vaultexec docs TOPIC):\n")
        for name, text in topics.items():
            title = text.splitlines()[0].lstrip("# ").strip() if text else ""
            sys.stdout.write(f"  {name:<16}{title}\n")
        return
    name = topic.strip().lower().removesuffix(".md").removeprefix("docs/")
    if name not in topics:
        raise BadInputError(f"No documentation topic {topic!r}; topics: {', '.join(topics)}.")
    sys.stdout.write(topics[name])


@cli.command("toolchain")
@click.option("--path", "print_path", is_flag=True, help="Only print where the toolchain is (or would be) "
              "installed; install nothing.")
def toolchain_command(print_path: bool) -> None:
    """Install anvil (Foundry 1.7.1) and Uniswap V2/V3's contracts, pinned by the lockfile shipped in vaultexec,
    into a per-user cache (npm ci; needs Node.js and npm). The pytest fixtures and `vaultexec demo` find them
    there by themselves. Nothing is done when this version's toolchain is installed already."""
    from vaultexec.testing.toolchain import install_toolchain, installed_node_modules, toolchain_dir

    if print_path:
        sys.stdout.write(f"{toolchain_dir() / 'node_modules'}\n")
        return
    err = stderr_console()
    if installed_node_modules() is None:
        with err.status(f"npm ci into {toolchain_dir()} (about half a minute)"):
            folder = install_toolchain()
        err.print(f"Toolchain installed in {folder}.")
    else:
        folder = install_toolchain()
        err.print(f"Toolchain already installed in {folder}.")
    sys.stdout.write(f"{folder}\n")
