"""The book's ch06 reference app, set up and served for `bench_reference` (nothing of it is kept
in this repository).

Its code is copied from a local copy of PacktPublishing/Mastering-Flask-Web-Development (a
bare git mirror or a checkout) into a temporary directory; its own venv (cached under
`.cache/reference-ch06/`) gets only what the upload, rendition and equations views import, at
the versions Quartile's venv has (so both sides run the same pandas, matplotlib, bokeh...). A
launcher written next to it registers those three blueprints only: the Julia, realtime (Redis,
WebSocket) and Celery parts stay out. It is served the way the book runs it: Flask's threaded
development server in one process.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REPO = "/work/.mirror/PacktPublishing+Mastering-Flask-Web-Development/repo"
APP_PATH = "ch06/ch06-web"
VENV = ROOT / ".cache" / "reference-ch06" / "venv"
PACKAGES = ["flask[async]", "toml", "pandas", "openpyxl", "matplotlib", "seaborn",
            "statsmodels", "bokeh", "plotly", "sympy", "pylatex", "latex", "gladiator"]

LAUNCHER = '''"""Written by Quartile's bench_reference: main.py minus Celery, Julia and realtime."""
import sys

import toml
from flask import Flask, make_response, render_template

from exceptions.custom import (FileSavingException, InvalidTypeException,
                               MissingFileException, NoneFilenameException, TooLargeException)

app = Flask("main", template_folder="pages", static_folder="resources")
app.config.from_file("config_dev.toml", toml.load)


@app.errorhandler(404)
def not_found(e):
    return make_response(render_template("error/404.html", title="Page not found"), 404)


for exception in (MissingFileException, InvalidTypeException, TooLargeException,
                  NoneFilenameException, FileSavingException):
    app.register_error_handler(exception, lambda e: e.get_response())

from modules.equations import eqn_bp  # noqa: E402
from modules.rendition import rendition_bp  # noqa: E402
from modules.upload import upload_bp  # noqa: E402

with app.app_context():
    for blueprint in (eqn_bp, rendition_bp, upload_bp):
        app.register_blueprint(blueprint, url_prefix="/ch06")

app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
'''


class ReferenceMissing(RuntimeError):
    """The repository is not where we were told; the bench prints a `skipped` row."""


def reference_repo(cli_value: str | None) -> Path:
    return Path(cli_value or os.environ.get("QUARTILE_REFERENCE_REPO") or DEFAULT_REPO)


def copy_app(repo: Path, into: Path) -> Path:
    """ch06/ch06-web of a checkout or of a bare git directory, copied under `into`."""
    target = into / "ch06-web"
    if (repo / APP_PATH / "main.py").is_file():
        shutil.copytree(repo / APP_PATH, target)
    elif (repo / "HEAD").is_file() and (repo / "objects").is_dir():
        archive = subprocess.run(
            ["git", f"--git-dir={repo}", "archive", "--format=tar", f"HEAD:{APP_PATH}"],
            capture_output=True, check=False)
        if archive.returncode != 0:
            raise ReferenceMissing(f"git archive failed: {archive.stderr.decode()[:200]}")
        target.mkdir()
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(target, filter="data")
    else:
        raise ReferenceMissing(f"reference repo not found at {repo}")
    if not (target / "main.py").is_file():
        raise ReferenceMissing(f"no {APP_PATH}/main.py in {repo}")
    for folder in ("files/csv", "files/xlsx", "files/latex"):  # where its views save uploads
        (target / folder).mkdir(parents=True, exist_ok=True)
    (target / "quartile_bench_launcher.py").write_text(LAUNCHER)
    return target


def ensure_venv() -> Path:
    """The reference's venv, made once: Quartile's versions of every package both use."""
    python = VENV / "bin" / "python"
    stamp = VENV / "quartile-packages.txt"
    wanted = " ".join(PACKAGES)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    shutil.rmtree(VENV, ignore_errors=True)
    print(f"setting up the reference's venv in {VENV} (once; about a minute)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    freeze = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
                            capture_output=True, text=True, check=True).stdout
    constraints = VENV / "constraints.txt"
    constraints.write_text("\n".join(line for line in freeze.splitlines()
                                     if "==" in line and " @ " not in line))
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "-c", str(constraints),
                              *PACKAGES], capture_output=True, text=True, check=False)
    if install.returncode != 0:
        raise RuntimeError(f"pip install for the reference failed:\n{install.stderr[-2000:]}")
    stamp.write_text(wanted)
    return python


def start(app_dir: Path, python: Path, port: int) -> subprocess.Popen:
    return subprocess.Popen([str(python), "quartile_bench_launcher.py", str(port)],
                            cwd=app_dir, env={**os.environ, "MPLBACKEND": "agg"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def wait_up(base: str, server: subprocess.Popen, timeout: float = 120) -> None:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if server.poll() is not None:
            raise RuntimeError("the reference app exited at start-up")
        try:
            if requests.get(f"{base}/ch06/upload/csv/pie", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError("the reference app did not answer")
