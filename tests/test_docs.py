"""The documentation site: every page in the navigation, and a strict build."""

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def nav_pages():
    text = (ROOT / "mkdocs.yml").read_text()
    nav = text[text.index("\nnav:"):]
    return re.findall(r":\s*([\w/.-]+\.md)\s*$", nav, flags=re.M)


def load_hook():
    spec = importlib.util.spec_from_file_location("nav_hook", DOCS / "hooks" / "nav.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_page_is_in_the_nav_and_exists():
    pages = nav_pages()
    assert len(pages) == len(set(pages))
    missing = [p for p in pages if not (DOCS / p).exists()]
    assert missing == []
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")
               if not p.relative_to(DOCS).as_posix().startswith("dev/")}
    # methods/ and data/ pages are added to the nav by the hook; the rest must be listed
    unlisted = sorted(p for p in on_disk - set(pages)
                      if not p.startswith(("methods/", "data/")))
    assert unlisted == [], "add these pages to the nav of mkdocs.yml"


def test_nav_hook_adds_new_methods_and_data_pages(tmp_path):
    hook = load_hook()
    (tmp_path / "methods").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "methods" / "a.md").write_text("# Known\n")
    (tmp_path / "methods" / "new_page.md").write_text("intro\n\n# New method\n\ntext\n")
    (tmp_path / "data" / "x.md").write_text("no heading")
    nav = [{"Home": "index.md"}, {"Methods": [{"Known": "methods/a.md"}]}, {"Data": []}]
    hook.complete_nav(nav, tmp_path)
    assert nav[1]["Methods"] == [{"Known": "methods/a.md"},
                                 {"New method": "methods/new_page.md"}]
    assert nav[2]["Data"] == [{"X": "data/x.md"}]


def test_api_pages_name_real_modules():
    import importlib

    for page in (DOCS / "api").glob("*.md"):
        for module in re.findall(r"^::: ([\w.]+)", page.read_text(), flags=re.M):
            importlib.import_module(module)


def test_cli_page_lists_every_command():
    from harvest.cli import main

    text = (DOCS / "cli.md").read_text()
    for name in main.commands:
        assert f"`harvest {name}" in text, name


def test_methods_pages_cite_references():
    for page in (DOCS / "methods").glob("*.md"):
        text = page.read_text()
        assert re.search(r"^#+ References", text, flags=re.M), page.name


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None
                    or importlib.util.find_spec("mkdocstrings") is None,
                    reason="the docs extra (mkdocs-material, mkdocstrings) is not installed")
def test_docs_build_strict(tmp_path):
    mkdocs = Path(sys.executable).parent / "mkdocs"
    cmd = [str(mkdocs)] if mkdocs.exists() else [shutil.which("mkdocs") or "mkdocs"]
    result = subprocess.run([*cmd, "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(mkdocs.parent)
                                 + ":/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    site = tmp_path / "site"
    assert (site / "index.html").exists()
    design = (site / "api" / "design" / "index.html").read_text()
    assert 'id="harvest.design.SurveyDesign.proportion"' in design
    assert "nchs_reliability" in (site / "api" / "tables" / "index.html").read_text()


@pytest.mark.parametrize("page", ["quickstart.md", "reporting.md",
                                  "methods/disclosure.md"])
def test_python_examples_of_the_pages_run(page, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    text = (DOCS / page).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    # reading the user's own files is shown, not run
    code = "\n".join(b for b in blocks if 'hv.read("' not in b)
    assert code.strip()
    exec(compile(code, page, "exec"), {"__name__": "docs_example"})
    plt.close("all")
