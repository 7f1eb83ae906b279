"""Every code block of the README runs as written, in order, in a fresh folder.

- ```python blocks with ``>>>`` are doctests (their printed output must match);
  other ```python blocks are executed; all share one namespace, like a reader's session;
- ```console blocks: each ``$ command`` line runs (``labelwise ...`` in-process, anything
  else in bash); a command whose shown output starts with ``error:`` must fail with
  exactly that line, any other must succeed;
- ```bash blocks (the set-up commands of the first screen) and blocks preceded by
  ``<!-- readme-test: skip -->`` are not run.

Blocks that read ``../shared/data`` skip when the real data folder is absent, python
blocks that import a module this environment lacks (an optional extra) skip, and so do
commands that never return (``labelwise serve``) and shell commands other than plain
file tools (no ``make``, ``pip`` or ``curl`` from a test).
"""

from __future__ import annotations

import doctest
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelwise.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
SKIP_MARK = "<!-- readme-test: skip -->"
LONG_RUNNING = ("serve",)  # labelwise commands that run until stopped
SHELL_OK = ("printf", "echo", "head", "tail", "cat", "ls", "wc", "cut", "sort", "grep", "python")


@dataclass(frozen=True)
class Block:
    lang: str
    line: int
    text: str


def _blocks() -> list[Block]:
    lines = README.read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w+)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start = i
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        skipped = start > 0 and lines[start - 1].strip() == SKIP_MARK
        if m.group(1) in ("python", "console") and not skipped:
            out.append(Block(m.group(1), start + 1, "\n".join(lines[start + 1 : j])))
        i = j + 1
    return out


BLOCKS = _blocks()


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    from conftest import _shared_data

    root = tmp_path_factory.mktemp("readme")
    work = root / "clone"
    work.mkdir()
    # the committed files a block may name (labeling-function files of the benchmarks)
    (work / "benchmarks").symlink_to(README.parent / "benchmarks")
    data = _shared_data()
    if data is not None:
        (root / "shared").mkdir()
        (root / "shared" / "data").symlink_to(data)
    return {"cwd": work, "globs": {"__name__": "readme"}, "data": data is not None}


def _run_console(block: Block) -> None:
    runner = CliRunner()
    lines = []  # a command continued with a trailing backslash is one line
    for raw in block.text.splitlines():
        if lines and lines[-1].startswith("$ ") and lines[-1].endswith("\\"):
            lines[-1] = lines[-1][:-1] + " " + raw.strip()
        else:
            lines.append(raw)
    for k, line in enumerate(lines):
        if not line.startswith("$ "):
            continue
        command = line[2:]
        shown = next((x for x in lines[k + 1 :] if not x.startswith("$ ")), "")
        expect_error = shown.startswith("error:") and (
            k + 1 < len(lines) and not lines[k + 1].startswith("$ ")
        )
        words = shlex.split(command, comments=True)
        if command.startswith("labelwise ") and words[1] in LONG_RUNNING:
            continue
        if not command.startswith("labelwise ") and words[0] not in SHELL_OK:
            continue
        if command.startswith("labelwise "):
            args = words[1:]
            res = runner.invoke(app, args, env={"COLUMNS": "200"})
            output, code = res.output, res.exit_code
            if res.exception is not None and not isinstance(res.exception, SystemExit):
                raise res.exception
        else:
            if words[0] == "python":  # the reader's python is the one labelwise is installed in
                command = shlex.quote(sys.executable) + command[len("python") :]
            done = subprocess.run(["bash", "-c", command], capture_output=True, text=True)
            output, code = done.stdout + done.stderr, done.returncode
        where = f"README line {block.line + k}: {command}"
        if expect_error:
            assert code != 0, f"{where} should fail:\n{output}"
            got = [x for x in output.splitlines() if x.startswith("error:")]
            assert got == [shown], f"{where}\nREADME: {shown}\ngot:    {got}"
        else:
            assert code == 0, f"{where} failed ({code}):\n{output}"


@pytest.mark.parametrize("block", BLOCKS, ids=[f"{b.lang}-line{b.line}" for b in BLOCKS])
def test_readme_block(block, session, monkeypatch):
    reads_real_data = ("../shared/data", "load_crowd(", "--crowd ", "--testbed ")
    if any(k in block.text for k in reads_real_data) and not session["data"]:
        pytest.skip("needs the real data folder ../shared/data")
    if block.lang == "python":
        imported = re.findall(r"^\s*(?:>>> )?(?:from|import) (\w+)", block.text, re.M)
        absent = [m for m in imported if importlib.util.find_spec(m) is None]
        if absent:
            pytest.skip(f"needs {', '.join(absent)}, not installed here")
    monkeypatch.chdir(session["cwd"])
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if block.lang == "console":
        _run_console(block)
    elif ">>>" in block.text:
        test = doctest.DocTestParser().get_doctest(
            block.text, session["globs"], f"README line {block.line}", str(README), block.line
        )
        runner = doctest.DocTestRunner(
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
        )
        report: list[str] = []
        runner.run(test, out=report.append, clear_globs=False)
        assert runner.failures == 0, "".join(report)
    else:
        code = compile(block.text, f"README line {block.line}", "exec")
        exec(code, session["globs"])  # a reader pasting the block into one session


def test_every_tour_command_is_run():
    run = " ".join(b.text for b in BLOCKS if b.lang == "console")
    for command in ("aggregate", "annotators", "simulate", "select", "audit", "prune", "plan"):
        assert f"$ labelwise {command} " in run, command
    assert os.path.basename(README) == "README.md"
