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


NEEDS_DOCS = pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("mkdocstrings") is None
    or importlib.util.find_spec("mathjax") is None,
    reason="the docs extra (mkdocs-material, mkdocstrings, django-static-mathjax) is not installed")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built once with ``mkdocs build --strict`` (warnings fail the build)."""
    out = tmp_path_factory.mktemp("docs") / "site"
    mkdocs = Path(sys.executable).parent / "mkdocs"
    cmd = [str(mkdocs)] if mkdocs.exists() else [shutil.which("mkdocs") or "mkdocs"]
    result = subprocess.run([*cmd, "build", "--strict", "--site-dir", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(mkdocs.parent)
                                 + ":/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    return out


def site_pages(site: Path):
    """Every page of the site (not the MathJax files copied beside them)."""
    return [p for p in sorted(site.rglob("*.html"))
            if "javascripts/mathjax" not in p.relative_to(site).as_posix()]


def visible_text(page_html: str) -> str:
    """The text a reader sees outside code, scripts and typeset maths."""
    text = re.sub(r'<(span|div) class="arithmatex">.*?</\1>', " ", page_html, flags=re.S)
    text = re.sub(r"<(code|pre|script|style)\b.*?</\1>", " ", text, flags=re.S)
    return re.sub(r"<[^>]+>", " ", text)


@NEEDS_DOCS
def test_docs_build_strict(site):
    assert (site / "index.html").exists()
    design = (site / "api" / "design" / "index.html").read_text()
    assert 'id="harvest.design.SurveyDesign.proportion"' in design
    assert "nchs_reliability" in (site / "api" / "tables" / "index.html").read_text()


@NEEDS_DOCS
def test_no_sphinx_roles_or_unresolved_references_on_any_page(site):
    role = re.compile(r":(?:py:)?(?:func|meth|class|mod|attr|data|exc|obj|const|math):"
                      r"(?:`|<code>)")
    for page in site_pages(site):
        text = page.read_text()
        assert not role.search(text), (page, role.search(text).group(0))
        assert "<autoref" not in text, page
    # and the roles became links where the object is documented
    bayes = (site / "api" / "bayes" / "index.html").read_text()
    assert 'class="autorefs autorefs-internal"' in bayes


@NEEDS_DOCS
def test_no_raw_tex_outside_typeset_maths(site):
    tex = re.compile(r"\\(?:frac|sum|hat|mathrm|operatorname|sqrt|left|bar|cdot|text|alpha|"
                     r"beta|sigma|theta|le|ge|times|widehat)\b|\$[^$\s][^$]*\$|\.\. math::")
    maths = 0
    for page in site_pages(site):
        page_html = page.read_text()
        maths += page_html.count('class="arithmatex"')
        found = tex.search(visible_text(page_html))
        assert found is None, (page, found.group(0))
    assert maths > 100  # the methods pages and the docstrings' Notes


@NEEDS_DOCS
def test_no_script_font_or_stylesheet_from_outside_the_site(site):
    external = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"(?:https?:)?//")
    for page in site_pages(site):
        found = external.search(page.read_text())
        assert found is None, (page, found.group(0))
    assert (site / "javascripts" / "mathjax" / "tex-mml-chtml.js").exists()
    fonts = site / "javascripts" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert any(fonts.glob("*.woff"))


@NEEDS_DOCS
def test_private_classes_are_not_shown(site):
    for page in site_pages(site):
        text = page.read_text()
        assert "Bases: <code><span title=\"harvest._" not in text, page
        assert 'id="harvest._base' not in text, page


@NEEDS_DOCS
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_maths_typeset_offline_in_headless_chromium(site, tmp_path):
    page = site / "methods" / "estimation" / "index.html"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}",
           "--virtual-time-budget=20000", "--dump-dom", page.as_uri()]
    dom = subprocess.run(cmd, check=True, timeout=120, capture_output=True, text=True).stdout
    assert dom.count("<mjx-container") >= page.read_text().count('class="arithmatex"') > 5


@pytest.mark.parametrize("page", ["quickstart.md", "reporting.md",
                                  "methods/disclosure.md", "methods/weighting.md",
                                  "methods/multistage.md", "methods/contrasts.md"])
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
