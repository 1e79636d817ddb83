"""analysis/ and rendition/ are pure: they never import Flask (STYLE.md's layers)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB_MODULES = {"flask", "apiflask", "flask_wtf", "flask_login", "flask_sqlalchemy", "werkzeug"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", ["analysis", "rendition"])
def test_pure_layers_do_not_import_the_web_framework(layer):
    sources = sorted((ROOT / layer).rglob("*.py"))
    assert sources, f"{layer}/ has no modules"
    offenders = {
        str(p.relative_to(ROOT)): sorted(imported_modules(p) & WEB_MODULES)
        for p in sources
        if imported_modules(p) & WEB_MODULES
    }
    assert offenders == {}


@pytest.mark.parametrize("module", [
    "upload/trash.py", "store/audit.py", "upload/writers.py", "upload/report_life.py",
    "store/objects.py", "store/s3_objects.py", "store/disk_cache.py", "store/storage.py"])
def test_life_cycle_modules_do_not_import_the_web_framework(module):
    """The trash, the audit log, the table writers, the reports' life cycle and the object
    store serve pages, API, CLI and workers alike."""
    assert imported_modules(ROOT / module) & WEB_MODULES == set()


def test_the_scan_would_catch_a_flask_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from flask import request\nimport werkzeug.utils\n")
    assert imported_modules(module) & WEB_MODULES == {"flask", "werkzeug"}


# Which of our own packages each layer may never import (issue 16): the life cycles, the job
# kinds and the stored data serve pages, API, CLI and workers alike, so they never reach into the
# web layer; computation never draws; drawing never serves.
FORBIDDEN = {
    "upload": {"web"},
    "jobs": {"web"},
    "store": {"web"},
    "analysis": {"web", "rendition", "solver"},
    "rendition": {"web"},
}


def layer_offenders(layer: str) -> dict[str, list[str]]:
    found = {}
    for path in sorted((ROOT / layer).rglob("*.py")):
        bad = imported_modules(path) & FORBIDDEN[layer]
        if bad:
            found[str(path.relative_to(ROOT))] = sorted(bad)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_only_downwards(layer):
    assert any((ROOT / layer).rglob("*.py")), f"{layer}/ has no modules"
    assert layer_offenders(layer) == {}


def test_the_scan_catches_an_import_inside_a_function(tmp_path):
    """Lazy imports count: `jobs/tasks.py` once reached web/ from inside a task."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from web.report_build import build_for_job\n"
                      "    import rendition.charts\n")
    assert imported_modules(module) == {"web", "rendition"}
