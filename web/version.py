"""The version Quartile reports (health check, reports' provenance)."""

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("quartile")
except PackageNotFoundError:  # run from a checkout that was not pip-installed
    VERSION = "0.1.0+checkout"
