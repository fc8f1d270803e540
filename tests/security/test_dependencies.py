"""Item 11: no dependency may be installed at a version with a published advisory, and the
locked versions are audited (`make audit`, run by `make test`).

Before: only lower bounds, no lock file, and `chainlit>=2.8` allowed releases with public
advisories fixed in 2.9.4+.
"""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
# the first release without the advisories named in pyproject.toml
FIXED_IN = {
    "chainlit": "2.9.4",
    "langchain-core": "1.2.5",
    "langgraph-checkpoint": "3.0.0",
    "langgraph-checkpoint-sqlite": "3.0.1",
    "cryptography": "44.0.1",
    "starlette": "0.49.1",
    "pypdf": "6.4.0",
    "python-socketio": "5.14.0",
    "uv": "0.8.6",
}


def _declared() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    texts = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        texts += extra
    return {canonicalize_name(Requirement(t).name): Requirement(t) for t in texts}


@pytest.mark.parametrize(("name", "fixed"), sorted(FIXED_IN.items()))
def test_no_version_with_a_known_advisory_is_allowed(name: str, fixed: str) -> None:
    req = _declared()[name]
    allowed_floor = min(
        (Version(s.version) for s in req.specifier if s.operator == ">="), default=Version("0")
    )
    assert allowed_floor >= Version(fixed), f"{req} allows versions before {fixed}"


def _audit_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_deps", REPO / "scripts/audit_deps.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_audit_fails_on_a_known_vulnerability(monkeypatch, capsys) -> None:
    audit = _audit_module()
    report = {
        "dependencies": [
            {
                "name": "chainlit",
                "version": "2.8.0",
                "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["2.9.4"]}],
            },
            {"name": "rich", "version": "14.0.0", "vulns": []},
        ]
    }
    monkeypatch.setattr(audit, "run_pip_audit", lambda lock, service: (report, ""))
    assert audit.main(["audit", str(REPO / "requirements.lock")]) == 1
    out = capsys.readouterr().out
    assert "chainlit 2.8.0: GHSA-xxxx (fixed in 2.9.4)" in out


def test_audit_says_when_nothing_could_be_audited(monkeypatch, capsys) -> None:
    """A mirror without advisory data makes pip-audit skip every package and still print
    'No known vulnerabilities found': the audit must not pass that off as a clean result."""
    audit = _audit_module()
    skipped = {"dependencies": [{"name": "rich", "skip_reason": "Dependency not found on PyPI"}]}
    answers = {
        "pypi": (skipped, ""),
        "osv": (None, "requests.exceptions.ConnectionError: Max retries exceeded"),
    }
    monkeypatch.setattr(audit, "run_pip_audit", lambda lock, service: answers[service])
    assert audit.main(["audit", str(REPO / "requirements.lock")]) == 0
    out = capsys.readouterr().out
    assert "NOT AUDITED" in out and "could be reached" in out


def test_audit_passes_a_clean_report(monkeypatch, capsys) -> None:
    audit = _audit_module()
    clean = {"dependencies": [{"name": "rich", "version": "14.0.0", "vulns": []}]}
    monkeypatch.setattr(audit, "run_pip_audit", lambda lock, service: (clean, ""))
    assert audit.main(["audit", str(REPO / "requirements.lock")]) == 0
    assert "no known vulnerabilities" in capsys.readouterr().out


def test_the_audit_runs_here() -> None:
    """The real pip-audit against the lock: audited, or plainly NOT AUDITED; never a crash."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts/audit_deps.py"), str(REPO / "requirements.lock")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stdout.startswith("audit: "), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
