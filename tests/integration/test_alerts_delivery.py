"""Alert delivery over real sockets: a webhook server and an SMTP server on the loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, col, select

from tests.unit.alert_helpers import NOW, put_deal, seller
from tools.alerts import store
from tools.alerts.channels import sign
from tools.alerts.delivery import Senders, deliver_due, store_webhook
from tools.alerts.engine import match_queued, queue_deals
from tools.db import get_engine
from tools.models import AlertOutbox
from tools.settings import Settings, get_settings, reset_settings_cache

pytestmark = pytest.mark.integration

NURSING = {"text": "nursing", "max_price": 30}


class Hook:
    """A webhook receiver that records what it got and answers with the next status."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.received.append({"headers": dict(self.headers), "body": body})
                status = hook.statuses.pop(0) if hook.statuses else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.server.shutdown()


def _allow_loopback(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("ALERTS_ALLOWED_NETWORKS", "127.0.0.1")
    reset_settings_cache()
    return get_settings()


def _seller_with_webhook(session: Session, settings: Settings, url: str) -> tuple[int, str]:
    nina = seller(session)
    row = store.get_alert_settings(session, nina.id or 0)
    secret = store_webhook(row, url, settings)
    session.add(row)
    store.create_search(session, nina.id or 0, NURSING, name="cheap nursing")
    put_deal(session, "B000000001", 14.0)
    session.commit()
    assert secret
    return nina.id or 0, secret


def _match(session: Session, asins: list[str]) -> None:
    queue_deals(session, asins, NOW)
    match_queued(session, NOW)
    session.commit()


def test_webhook_is_signed_and_sent_once(monkeypatch: pytest.MonkeyPatch, hook: Hook) -> None:
    settings = _allow_loopback(monkeypatch)
    with Session(get_engine(settings)) as session:
        _, secret = _seller_with_webhook(session, settings, hook.url)
        _match(session, ["B000000001"])
        report = deliver_due(session, settings, NOW)
        assert (report.sent, report.failed) == (1, 0)
        assert deliver_due(session, settings, NOW).sent == 0  # nothing twice
    (got,) = hook.received
    body = json.loads(got["body"])
    assert "cheap nursing" in body["content"] and body["text"] == body["content"]
    assert body["data"]["deals"][0]["asin"] == "B000000001"
    stamp = got["headers"]["X-AA-Timestamp"]
    assert got["headers"]["X-AA-Signature"] == sign(secret, stamp, got["body"])


def test_internal_webhook_refused_unless_an_admin_allows_it(settings: Settings, hook: Hook) -> None:
    with Session(get_engine(settings)) as session:
        _seller_with_webhook(session, settings, hook.url)
        _match(session, ["B000000001"])
        report = deliver_due(session, settings, NOW)
        assert report.failed == 1 and hook.received == []
        row = session.exec(select(AlertOutbox).where(AlertOutbox.channel == "webhook")).one()
        assert "internal address" in (row.last_error or "")
        assert row.sent_at is None and row.due_at > NOW  # retried later, not lost


def test_failing_webhook_backs_off_then_is_disabled_with_a_note(
    monkeypatch: pytest.MonkeyPatch, hook: Hook
) -> None:
    settings = _allow_loopback(monkeypatch)
    hook.statuses = [500] * 10
    with Session(get_engine(settings)) as session:
        owner, _ = _seller_with_webhook(session, settings, hook.url)
        _match(session, ["B000000001"])
        at, waits = NOW, []
        for _ in range(settings.alerts_max_failures):
            row = session.exec(select(AlertOutbox).where(AlertOutbox.channel == "webhook")).one()
            at = max(at, row.due_at)
            assert deliver_due(session, settings, at).failed == 1
            session.refresh(row)
            waits.append((row.due_at - at).total_seconds())
        assert waits[:4] == [30, 60, 120, 240]  # doubling backoff
        target = store.get_alert_settings(session, owner)
        assert target.webhook_disabled_at is not None
        notes = session.exec(
            select(AlertOutbox).where(AlertOutbox.kind == "notice", AlertOutbox.owner_id == owner)
        ).all()
        assert len(notes) == 1 and "turned off" in notes[0].payload["subject"]
        # later alerts go to the app only; the stuck message is closed with the reason
        assert deliver_due(session, settings, at + (at - NOW) * 10).sent == 0
        row = session.exec(select(AlertOutbox).where(AlertOutbox.channel == "webhook")).one()
        assert row.sent_at is not None and "disabled" in (row.last_error or "")
    assert len(hook.received) == settings.alerts_max_failures


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 Message accepted for delivery"


def test_email_reaches_a_local_smtp_server(monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port on the loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SMTP_PORT", str(port))
        monkeypatch.setenv("SMTP_TLS", "none")
        settings = _allow_loopback(monkeypatch)
        with Session(get_engine(settings)) as session:
            nina = seller(session)
            store.update_alert_settings(
                session, nina.id or 0, email="nina@example.com", digest="hourly"
            )
            store.create_search(session, nina.id or 0, NURSING, name="cheap nursing")
            store.create_search(
                session, nina.id or 0, {"text": "fundamentals"}, name="fundamentals"
            )
            put_deal(session, "B000000001", 14.0)
            session.commit()
            _match(session, ["B000000001"])
            assert deliver_due(session, settings, NOW).sent == 0  # the digest waits for the hour
            report = deliver_due(session, settings, NOW.replace(hour=13))
            assert (report.sent, report.rows) == (1, 2)  # two matches, one digest email
    finally:
        controller.stop()
    (raw,) = inbox.messages
    mail = message_from_bytes(raw)
    assert mail["To"] == "nina@example.com" and "digest: 2 updates" in mail["Subject"]
    text = str(mail.get_payload())
    assert "cheap nursing" in text and "fundamentals" in text and "B000000001" in text


KILL_AFTER_MATCH = """
import os, signal, sys
from sqlmodel import Session
from tools.db import get_engine
from tools.alerts.engine import match_queued, queue_deals
from tools.settings import get_settings
from tests.unit.alert_helpers import NOW
with Session(get_engine(get_settings())) as session:
    queue_deals(session, ["B000000001"], NOW)
    match_queued(session, NOW)
    session.commit()
os.kill(os.getpid(), signal.SIGKILL)  # dies between the match and the send
"""


def test_kill_between_match_and_send_delivers_exactly_once(
    monkeypatch: pytest.MonkeyPatch, hook: Hook, settings: Settings
) -> None:
    settings = _allow_loopback(monkeypatch)
    with Session(get_engine(settings)) as session:
        _seller_with_webhook(session, settings, hook.url)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run([sys.executable, "-c", KILL_AFTER_MATCH], env=env, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert hook.received == []
    with Session(get_engine(settings)) as session:  # "after the restart"
        assert deliver_due(session, settings, NOW).sent == 1
        assert deliver_due(session, settings, NOW).sent == 0
        rows = session.exec(select(AlertOutbox).order_by(col(AlertOutbox.id))).all()
        assert [(r.channel, r.sent_at is not None) for r in rows] == [
            ("app", True),
            ("webhook", True),
        ]
    time.sleep(0.1)
    assert len(hook.received) == 1


def test_senders_use_the_injected_policy(hook: Hook, settings: Settings) -> None:
    """The address policy is one place: a Senders with an explicit policy overrides settings."""
    with Session(get_engine(settings)) as session:
        _seller_with_webhook(session, settings, hook.url)
        _match(session, ["B000000001"])
        senders = Senders(settings, is_allowed=lambda ip: ip.is_loopback)
        assert deliver_due(session, settings, NOW, senders).sent == 1
    assert len(hook.received) == 1
