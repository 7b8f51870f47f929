"""The documentation ships in the package: `vaultexec docs TOPIC`, and help texts point there, not at docs/*.md."""

from __future__ import annotations

import click
from click.testing import CliRunner

from vaultexec.cli import main
from vaultexec.cli.app import cli


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(click.command()(lambda: main(args)), [])
    return result.exit_code, result.output


def test_docs_topics_are_listed_and_printed() -> None:
    code, listing = run(["docs"])
    assert code == 0 and "cli" in listing and "testing" in listing
    code, page = run(["docs", "cli"])
    assert code == 0 and "## JSON output" in page and "## Exit codes" in page
    code, output = run(["docs", "nope"])
    assert code == 2 and "topics: chain, cli" in output


def test_help_points_to_the_shipped_docs() -> None:
    names = sorted(cli.commands)
    for args in [["--help"], *([name, "--help"] for name in names)]:
        code, text = run(args)
        assert code == 0, (args, text)
        assert "docs/" not in text and ".md" not in text, (args, text)
    assert "vaultexec docs cli" in run(["--help"])[1]
