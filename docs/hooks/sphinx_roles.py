"""Griffe extension: Sphinx roles in docstrings become the docs tool's own references and maths.

harvest's docstrings follow numpydoc, whose cross-references are Sphinx roles
(``:func:`harvest.compare.trend```, ``:class:`~harvest.SurveyDesign```, ``:meth:`aggregate```).
mkdocstrings does not read roles, so without this extension they show literally on the API
pages. Here every role is resolved with griffe, in the scope of the object whose docstring
holds it (so ``:meth:`aggregate``` in a method of ``BayesFit`` finds ``BayesFit.aggregate``),
and replaced by an autorefs cross-reference to the object's canonical path: a link when the
object is rendered on some page, plain code otherwise (``optional``: an object the site does
not document, such as a private helper or a numpy function, is never a broken link or a
strict-build warning). ``~`` shows the last component only, as in Sphinx.

The numpydoc maths markup is turned into the ``$...$`` / ``$$...$$`` that the site's
``pymdownx.arithmatex`` hands to MathJax: ``:math:`x``` inline, and ``.. math::`` blocks
(on one line or indented below the directive).

Loaded by mkdocstrings-python (``extensions:`` in ``mkdocs.yml``); the docstrings in the
source are not changed, so ``help()`` and IDEs show the usual numpydoc text.
"""

from __future__ import annotations

import html
import re

import griffe

ROLE = re.compile(r":(?:py:)?(?P<role>func|meth|class|mod|attr|data|exc|obj|const):"
                  r"`(?P<tilde>~?)(?P<target>[\w.]+)(?:\(\))?`")


MATH_ROLE = re.compile(r":math:`(?P<tex>[^`]+)`")
MATH_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)\n"
                        r"(?P<body>(?:(?:(?P=indent)[ \t]+.*)?\n)*)", flags=re.M)


def _maths(text: str) -> str:
    """numpydoc ``:math:`` roles and ``.. math::`` blocks as arithmatex ``$`` maths."""

    def block(match: re.Match) -> str:
        lines = [match["first"], *match["body"].splitlines()]
        tex = "\n".join(line.strip() for line in lines if line.strip())
        indent = match["indent"]
        return f"{indent}$$\n{indent}{tex}\n{indent}$$\n\n"

    text = MATH_BLOCK.sub(block, text)
    return MATH_ROLE.sub(lambda m: f"${m['tex'].strip()}$", text)


def _canonical(path: str, loader) -> str | None:
    """The canonical path of the object at ``path``, or None if griffe does not know it."""
    try:
        obj = loader.modules_collection[path]
    except (KeyError, ValueError, AttributeError):
        return None
    try:
        return obj.final_target.path if obj.is_alias else obj.path
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def _resolve(target: str, scope, loader) -> str | None:
    """Where ``target`` (as written in a docstring of ``scope``) points, if anywhere."""
    if target.split(".")[0] in loader.modules_collection.members:
        return _canonical(target, loader)
    head, _, rest = target.partition(".")
    while scope is not None:
        try:
            found = scope.resolve(head)
        except (griffe.NameResolutionError, AttributeError):
            found = None
        if found:
            return _canonical(f"{found}.{rest}" if rest else found, loader)
        scope = scope.parent
    return None


def rewrite(text: str, scope, loader) -> str:
    """``text`` with every Sphinx role replaced by an (optional) autorefs reference."""

    def replace(match: re.Match) -> str:
        target = match["target"]
        shown = target.rsplit(".", 1)[-1] if match["tilde"] else target
        if match["role"] in ("func", "meth"):
            shown += "()"
        path = _resolve(target, scope, loader)
        code = f"<code>{html.escape(shown)}</code>"
        if path is None:
            return code
        return f'<autoref identifier="{html.escape(path)}" optional>{code}</autoref>'

    return ROLE.sub(replace, text)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring once the object tree is complete."""

    def on_object(self, *, obj, loader, **kwargs) -> None:
        if obj.is_alias or obj.docstring is None:
            return
        value = obj.docstring.value
        if ":" in value and ("`" in value or ".. math::" in value):
            obj.docstring.value = rewrite(_maths(value), obj, loader)
