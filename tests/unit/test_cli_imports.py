"""`arbitrage ask` loads only what an offline question needs (issue 17, item 10: 4-9 s, most of
it imports). Its latency is measured in bench/cli.py; this holds the cheap parts in place: no
alembic for a database already at the head, and no numpy (analytics), redis or the SP-API
sandbox (gating checks) for a search that checks no gating."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tools.db import migrate
from tools.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
sys.argv = ["arbitrage", "ask", "textbooks under $30 with roi over 40%", "--json"]
from chat_ui.cli import app
try:
    app()
except SystemExit:
    pass
heavy = ["alembic", "numpy", "redis", "starlette", "chainlit", "celery", "keepa", "openai"]
print(json.dumps(sorted(m for m in heavy if m in sys.modules)), file=sys.stderr)
"""


def test_an_offline_ask_imports_no_more_than_it_needs(settings: Settings) -> None:
    migrate(settings)
    env = {**os.environ, "DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["model"] == "offline" and answer["tool_calls"][0]["name"] == "search_deals"
    assert json.loads(out.stderr.strip().splitlines()[-1]) == []


def test_the_deals_package_names_every_export() -> None:
    import tools.deals

    assert set(tools.deals.__all__) == set(tools.deals._HOME)
    assert tools.deals.search_deals is tools.deals.search.search_deals
