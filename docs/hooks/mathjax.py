"""mkdocs hook: ship MathJax with the site, so the methods pages render maths offline.

The site must work on a field laptop with no network: no script may come from a CDN. MathJax
3 comes from the PyPI package ``django-static-mathjax`` (the upstream MathJax release files,
no Python dependencies; in the ``docs`` extra). After each build the parts of its ``es5``
folder that ``tex-mml-chtml.js`` loads (the combined component, the TeX input extensions it
autoloads, the CHTML fonts, the menu and accessibility components) are copied to
``javascripts/mathjax/`` in the site, where ``mkdocs.yml`` points ``extra_javascript``.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

#: What ``tex-mml-chtml.js`` needs beside itself, relative to MathJax's ``es5`` folder.
PARTS = ("tex-mml-chtml.js", "input", "output/chtml", "a11y", "ui", "sre", "adaptors")
TARGET = Path("javascripts") / "mathjax"


def mathjax_source() -> Path:
    """MathJax's ``es5`` folder from the installed ``django-static-mathjax`` package."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("MathJax is not installed: pip install -e '.[docs]' "
                           "(package django-static-mathjax)")
    es5 = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    if not (es5 / "tex-mml-chtml.js").exists():
        raise RuntimeError(f"MathJax's tex-mml-chtml.js is not in {es5}")
    return es5


def on_config(config, **kwargs):
    mathjax_source()          # fail early, with the install command, when it is missing
    return config


def on_post_build(config, **kwargs) -> None:
    source = mathjax_source()
    target = Path(config["site_dir"]) / TARGET
    for part in PARTS:
        src, dst = source / part, target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
