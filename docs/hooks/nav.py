"""mkdocs hook: add every page of docs/methods/ and docs/data/ to its nav section.

Each engineer writes the methods and data pages of their own module; listing them here by
hand would break the strict build whenever a page is added. Pages already in the nav keep
their place and title; new ones are appended under "Methods" or "Data", titled by their
first heading.
"""

from __future__ import annotations

import re
from pathlib import Path

SECTIONS = {"Methods": "methods", "Data": "data"}


def title_of(path: Path) -> str:
    match = re.search(r"^#\s+(.+?)\s*$", path.read_text(encoding="utf-8"), flags=re.M)
    return match.group(1) if match else path.stem.replace("_", " ").capitalize()


def _listed(items) -> set[str]:
    found = set()
    for item in items:
        if isinstance(item, dict):
            for value in item.values():
                found |= _listed(value) if isinstance(value, list) else {value}
        elif isinstance(item, str):
            found.add(item)
    return found


def complete_nav(nav: list, docs_dir: Path) -> list:
    """Return ``nav`` with the missing methods and data pages appended to their sections."""
    for entry in nav:
        if not isinstance(entry, dict):
            continue
        for section, folder in SECTIONS.items():
            if section in entry and isinstance(entry[section], list):
                listed = _listed(entry[section])
                for page in sorted((docs_dir / folder).glob("*.md")):
                    rel = f"{folder}/{page.name}"
                    if rel not in listed:
                        entry[section].append({title_of(page): rel})
    return nav


def on_config(config, **kwargs):
    if config.nav:
        complete_nav(config.nav, Path(config.docs_dir))
    return config
