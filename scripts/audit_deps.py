"""Audit the locked dependencies for known vulnerabilities (`make audit`, part of `make test`).

pip-audit checks every pin of requirements.lock against PyPI's advisory data, then OSV's.
Where neither can be reached (a machine whose package index is a mirror without advisory
data, or no network) pip-audit would report "No known vulnerabilities found" after auditing
nothing; this says plainly that nothing was audited and does not fail the build. A package
with a known vulnerability fails it, naming the advisory and the fixed version.

    python scripts/audit_deps.py [requirements.lock]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SERVICES = ("pypi", "osv")
TIMEOUT_S = 15  # per advisory request
UNREACHABLE = (
    "connection",
    "timed out",
    "timeout",
    "name or service not known",
    "max retries",
    "temporary failure",
    "network is unreachable",
    "ssl",
)


def run_pip_audit(lock: Path, service: str) -> tuple[dict[str, Any] | None, str]:
    """pip-audit's JSON report (None when it produced none) and its error output."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip_audit",
                "-r",
                str(lock),
                "--no-deps",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "-s",
                service,
                "--timeout",
                str(TIMEOUT_S),
                "-f",
                "json",
                "-o",
                str(out),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            return json.loads(out.read_text()), proc.stderr
        except (OSError, ValueError):
            return None, proc.stderr


def summarize(report: dict[str, Any]) -> tuple[list[str], int, int]:
    """(one line per known vulnerability, packages audited, packages in the lock)."""
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    found = [
        f"{d['name']} {d['version']}: {v['id']} (fixed in "
        f"{', '.join(v.get('fix_versions') or []) or 'no release yet'})"
        for d in audited
        for v in d.get("vulns", [])
    ]
    return found, len(audited), len(deps)


def main(argv: list[str]) -> int:
    lock = Path(argv[1] if len(argv) > 1 else "requirements.lock")
    if not lock.is_file():
        print(f"audit: {lock} not found")
        return 2
    reasons = []
    for service in SERVICES:
        report, errors = run_pip_audit(lock, service)
        if report is None:
            last = (errors.strip().splitlines() or ["no output"])[-1]
            if not any(word in errors.lower() for word in UNREACHABLE):
                print(f"audit: pip-audit failed ({service}): {last}")
                return 1
            reasons.append(f"{service}: {last[:160]}")
            continue
        found, audited, total = summarize(report)
        if found:
            print(f"audit: {len(found)} known vulnerabilities in {lock} ({service}):")
            print("\n".join("  " + line for line in found))
            return 1
        if audited == 0:
            reasons.append(f"{service}: no advisory data for any of the {total} packages")
            continue
        skipped = f"; {total - audited} not found there" if audited < total else ""
        print(
            f"audit: {audited} of {total} locked packages checked against {service}'s "
            f"advisories: no known vulnerabilities{skipped}"
        )
        return 0
    print(
        "audit: NOT AUDITED - no advisory database could be reached ("
        + "; ".join(reasons)
        + "). The build goes on; run `make audit` where pypi.org's JSON API or api.osv.dev "
        "answers."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
