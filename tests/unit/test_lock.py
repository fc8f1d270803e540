"""requirements.lock covers pyproject.toml: `make` installs only the lock (then the project with
--no-deps), so a dependency added to pyproject.toml without `make lock` would be missing on a
fresh machine while a developer's older venv still has it."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
LOCKED_EXTRAS = ("dev", "postgres")  # the extras the Makefile's `make lock` resolves


def _locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        req = Requirement(line)
        (spec,) = req.specifier  # every line is one exact pin
        assert spec.operator == "==", line
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def test_every_declared_dependency_is_pinned_at_an_allowed_version() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in LOCKED_EXTRAS:
        declared += project["optional-dependencies"][extra]
    pins = _locked()
    problems = []
    for text in declared:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        if name not in pins:
            problems.append(f"{req.name} is not in requirements.lock")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{req.name}: locked {pins[name]} is outside {req.specifier}")
    assert not problems, "run `make lock`: " + "; ".join(problems)
