"""docs/ci.md's verifier command lines parse against the real CLI, so they cannot drift."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from verifier.cli.app import build_app

CI_DOC = Path(__file__).parent.parent / "docs" / "ci.md"


def _commands() -> list[list[str]]:
    text = CI_DOC.read_text(encoding="utf-8").replace("\\\n", " ")
    blocks = re.findall(r"```(?:yaml|sh)\n(.*?)```", text, re.S)
    found = []
    for line in (line for block in blocks for line in block.splitlines()):
        match = re.search(r'(?:^|[\s/)"])verifier"?\)? ((?:verify|report|keygen)\b[^#>|]*)', line)
        if match:
            found.append(shlex.split(match.group(1).replace("${{", "").replace("}}", "")))
    return found


def test_ci_doc_has_examples_for_every_command() -> None:
    firsts = {tuple(c[:2]) if c[0] == "report" else (c[0],) for c in _commands()}
    assert {("verify",), ("keygen",), ("report", "verify"), ("report", "render"), ("report", "sign")} <= firsts


def _rest(ctx: typer.Context) -> list[str]:
    return [*getattr(ctx, "_protected_args", []), *ctx.args]  # a group's unparsed tail


@pytest.mark.parametrize("args", _commands(), ids=lambda a: " ".join(a)[:60])
def test_ci_doc_command_parses(args: list[str]) -> None:
    command = typer.main.get_command(build_app())
    ctx = command.make_context("verifier", list(args), resilient_parsing=False)
    while hasattr(ctx.command, "get_command") and _rest(ctx):
        rest = _rest(ctx)
        sub = ctx.command.get_command(ctx, rest[0])
        assert sub is not None, rest[0]
        ctx = sub.make_context(rest[0], rest[1:], parent=ctx, resilient_parsing=False)
    assert not ctx.args, ctx.args
