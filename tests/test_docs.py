"""The documentation keeps up with the code: hooks, public names and the README's commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

import pycrm
from pycrm.plugins import HookSpecs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"


def hook_names() -> list[str]:
    return sorted(name for name in vars(HookSpecs) if name.startswith("pycrm_"))


def public_names() -> list[str]:
    """``pycrm.__all__`` without ``__version__``, which is data rather than API to render."""
    return sorted(name for name in pycrm.__all__ if not name.startswith("_"))


def narrative_text() -> str:
    """Every docs page except the API reference, whose ``:::`` directives name nothing by hand."""
    pages = sorted(p for p in DOCS.rglob("*.md") if p.name != "reference.md")
    assert pages, "no documentation pages found"
    return "\n".join(p.read_text(encoding="utf-8") for p in pages)


def reference_members() -> set[str]:
    """The members listed under ``::: pycrm`` in the API reference page."""
    text = (DOCS / "reference.md").read_text(encoding="utf-8")
    block = re.search(r"^::: pycrm\n((?:[ \t]+.*\n|\n)*)", text, flags=re.MULTILINE)
    assert block, "docs/reference.md has no '::: pycrm' directive"
    return set(re.findall(r"^\s+- (\w+)\s*$", block.group(1), flags=re.MULTILINE))


def test_there_are_hooks_to_check() -> None:
    assert "pycrm_event" in hook_names()


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_a_section_in_the_plugin_docs(hook: str) -> None:
    text = (DOCS / "concepts" / "plugins.md").read_text(encoding="utf-8")
    assert re.search(rf"^## {hook}\s*$", text, flags=re.MULTILINE), (
        f"docs/concepts/plugins.md has no '## {hook}' section"
    )


@pytest.mark.parametrize("name", public_names())
def test_every_public_name_is_in_the_api_reference(name: str) -> None:
    """The reference lists ``::: pycrm`` members explicitly (for a readable order), so a name
    added to ``pycrm.__all__`` is rendered only once it is added there too."""
    assert name in reference_members(), (
        f"pycrm.{name} is public but not listed under '::: pycrm' in docs/reference.md"
    )


@pytest.mark.parametrize("name", public_names())
def test_every_public_name_is_explained_in_the_narrative_docs(name: str) -> None:
    """A signature in the reference is not an explanation: each public name must also appear,
    as a whole word, in a concept or guide page that says what it is for."""
    assert re.search(rf"(?<!\w){re.escape(name)}(?!\w)", narrative_text()), (
        f"pycrm.{name} is not mentioned in any page of docs/ besides the API reference"
    )


def test_the_api_reference_covers_the_documented_subpackages() -> None:
    text = (DOCS / "reference.md").read_text(encoding="utf-8")
    for module in ("pycrm", "pycrm.testing", "pycrm.storage", "pycrm.storage.sqlalchemy"):
        assert re.search(rf"^::: {re.escape(module)}\s*$", text, flags=re.MULTILINE), module


def readme_commands() -> list[str]:
    """The shell commands of the README's first code block."""
    block = re.search(
        r"```(?:bash|sh|console)?\n(.*?)```", README.read_text(encoding="utf-8"), re.S
    )
    assert block, "README.md has no code block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_the_demo_and_test_commands() -> None:
    head = README.read_text(encoding="utf-8").splitlines()[:8]
    assert any("python -m pycrm demo" in line for line in head), head
    assert any("-m pytest" in line for line in head), head
    commands = readme_commands()
    assert len(commands) == 2, commands
    run, test = commands
    assert run.startswith("python3 -m venv "), run
    assert run.endswith("python -m pycrm demo"), run
    assert test.startswith("python3 -m venv "), test
    assert test.endswith("python -m pytest"), test


def test_ci_installs_as_the_readme_test_command_says() -> None:
    test_command = readme_commands()[1]
    install = next(part.strip() for part in test_command.split("&&") if " install " in part)
    requirement = shlex.split(install)[-1]
    assert f'install -e "{requirement}"' in CI_RUN.read_text(encoding="utf-8"), requirement
