"""The shell commands of the README, the quickstart and the guide run on the bundled data,
and print what the docs show (issue #13).

Files the docs show in full ("for example `x.csv`" and a ``text`` block) or make with a
``python -c`` line are made first. Every line of a ``bash`` block that starts with
``harvest `` is run (backslash
continuations joined, trailing ``# comments`` dropped) with CliRunner in a folder holding
the bundled files under the names the docs use. A ``text`` block marked
``<!-- output of the command above ... -->`` (or ``error stream``) must appear, line by
line, in what the command before it printed (cells compared without their padding).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import harvest as hv
from harvest.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "docs" / "quickstart.md", ROOT / "docs" / "guide.md"]
BLOCK = re.compile(r"(<!-- (output|error stream) of the command above[^>]*-->\s*)?"
                   r"```(\w+)\n(.*?)```", re.S)


def _commands():
    """(doc, command, [(stream, expected text), ...]) in the order of the docs."""
    found = []
    for doc in DOCS:
        for marker, stream, lang, body in BLOCK.findall(doc.read_text(encoding="utf-8")):
            if lang == "text" and marker and found:
                found[-1][2].append(("stdout" if stream == "output" else "stderr", body))
            if lang != "bash":
                continue
            for line in body.replace("\\\n", " ").splitlines():
                line = " ".join(re.sub(r"\s+#.*$", "", line).split())
                if line.startswith("harvest "):
                    found.append((doc.name, line, []))
    return found


def _unique(found):
    """Each command once (the README and the guide share some), with every expectation."""
    merged: dict[str, tuple] = {}
    for doc, command, expected in found:
        docs, wanted = merged.get(command, ("", []))
        merged[command] = (f"{docs}, {doc}" if docs else doc, [*wanted, *expected])
    return [(docs, command, wanted) for command, (docs, wanted) in merged.items()]


COMMANDS = _unique(_commands())
FILE_SHOWN = re.compile(r"for example `([\w.-]+\.csv)`(?:(?!```).)*?```text\n(.*?)```", re.S)


def _cells(text: str) -> list[str]:
    return [" ".join(line.split()) if not line.startswith("|") else
            "|".join(c.strip() for c in line.split("|")) for line in text.splitlines()
            if line.strip()]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The bundled files under the names the docs use."""
    d = tmp_path_factory.mktemp("docs")
    farms = hv.datasets.load("farms")
    (d / "farms.csv").write_bytes(Path(hv.datasets.path("farms")).read_bytes())
    farms[farms["year"] == 2024].to_excel(d / "farms_2024.xlsx", index=False)
    employees = hv.datasets.load("employees")
    employees[employees["year"] == 2024].to_excel(d / "employees_2024.xlsx", index=False)
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        # a file the docs show in full ("for example `x.csv`" then a text block)
        for name, body in FILE_SHOWN.findall(text):
            (d / name).write_text(body, encoding="utf-8")
        # files the docs make with a one-line Python command
        for _, _, lang, body in BLOCK.findall(text):
            for line in body.splitlines() if lang == "bash" else ():
                if line.startswith("python -c "):
                    with pytest.MonkeyPatch.context() as m:
                        m.chdir(d)
                        exec(shlex.split(line)[2], {})
    return d


def test_the_docs_have_commands_and_outputs():
    assert len(COMMANDS) >= 5
    assert any(expected for _, _, expected in COMMANDS)


@pytest.mark.parametrize("doc,command,expected", COMMANDS,
                         ids=[f"{d}:{c[:60]}" for d, c, _ in COMMANDS])
def test_doc_command_runs_and_prints_what_the_docs_show(folder, monkeypatch, doc, command,
                                                        expected):
    monkeypatch.chdir(folder)
    args = shlex.split(command)[1:]
    if args[0] == "report":
        args.append("--quiet")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, f"{doc}: {command}\n{result.output}"
    for stream, text in expected:
        printed = _cells(getattr(result, stream))
        for line in _cells(text):
            assert line in printed, f"{doc}: {command}: {line!r} not in the {stream}"
    if args[0] == "report":
        out = args[args.index("--out") + 1]
        assert pd.io.common.file_exists(folder / out)
