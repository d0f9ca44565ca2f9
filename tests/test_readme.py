"""README opens with the two commands, includes the docs pages as they are, and every command has help."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from sidecar.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    first_block = README.split("\n\n")[2]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert commands == ["make run", "make test"]


@pytest.mark.parametrize("page", ["containers.md", "sidecar.md", "vocabulary.md"])
def test_docs_pages_are_in_the_readme_verbatim(page):
    assert (ROOT / "docs" / page).read_text(encoding="utf-8").strip() in README


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("name", cli.list_commands(None))
def test_every_command_has_help_and_is_in_the_readme(name):
    command = cli.get_command(None, name)
    assert command is not None and command.name == name
    assert command.help and len(command.help) > 20
    assert f"sidecar {name}" in README
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output
