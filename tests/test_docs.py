"""Every QUARTILE_* setting the code reads is documented in the README."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ["config.py", "gunicorn.conf.py", "app.py", "sandbox.py", "warmup.py"] + [
    str(p.relative_to(ROOT))
    for folder in ("jobs", "web", "upload", "analysis", "solver", "rendition", "store")
    for p in (ROOT / folder).rglob("*.py")
]


def settings_in_code() -> set[str]:
    names = set()
    for relative in CODE:
        text = (ROOT / relative).read_text()
        names.update(re.findall(r"QUARTILE_[A-Z][A-Z_]*[A-Z]", text))
        if relative == "config.py":
            names.update(
                f"QUARTILE_{n}" for n in re.findall(r"_env(?:_bool)?\(\s*\"([A-Z_]+)\"", text)
            )
    return {n for n in names if not n.startswith("QUARTILE_TEST_")}


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in settings_in_code() if name not in readme)
    assert missing == []


def test_the_scan_finds_the_core_settings():
    assert {
        "QUARTILE_FILES_DIR",
        "QUARTILE_DATABASE_URL",
        "QUARTILE_SECRET_KEY",
        "QUARTILE_AUTH",
    } <= settings_in_code()
