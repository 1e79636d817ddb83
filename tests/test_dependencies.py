"""pyproject.toml and environment.yml must declare the same packages."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# conda-forge names that differ from PyPI's
CONDA_TO_PYPI = {"redis-py": "redis"}
NOT_PACKAGES = {"python", "pip"}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement.strip(), maxsplit=1)[0].lower()


def pyproject_packages() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    return {_name(r) for r in requirements}


def environment_packages() -> set[str]:
    names = set()
    text = (ROOT / "environment.yml").read_text()
    dependencies = text.split("dependencies:", 1)[1]
    for line in dependencies.splitlines():
        match = re.match(r"^\s+- ([A-Za-z0-9_.\-\[\]]+)", line)
        if match and match.group(1) != "pip:":
            name = _name(match.group(1))
            names.add(CONDA_TO_PYPI.get(name, name))
    return names - NOT_PACKAGES


def test_pyproject_and_environment_yml_agree():
    pip, conda = pyproject_packages(), environment_packages()
    assert pip - conda == set(), "in pyproject.toml but not environment.yml"
    assert conda - pip == set(), "in environment.yml but not pyproject.toml"
    assert len(pip) > 20
