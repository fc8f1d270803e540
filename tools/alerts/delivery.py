"""Send the outbox: due webhook and email messages, retried with backoff, dead targets disabled.

Each send is committed on its own (sent_at set) before the next, so a crash re-sends at most
the one message in flight (its outbox id travels with it, so a receiver can drop the repeat).
A failure pushes the row's due time back (BACKOFF_BASE_S doubling, at most BACKOFF_MAX_S);
after `alerts_max_failures` failures in a row the seller's webhook or email is disabled, its
waiting messages are closed with the reason, and a note in the app says so (the app copy of
every alert is already in the seller's inbox, so nothing is lost).
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from tools.alerts.channels import DeliveryError, post_webhook, send_email, webhook_body
from tools.alerts.messages import render, render_digest
from tools.alerts.schedule import PUSH_CHANNELS
from tools.models import AlertOutbox, AlertSettings
from tools.netguard import AddressPolicy, Resolver, allowing, system_resolver
from tools.security import DecryptionError, decrypt, encrypt
from tools.settings import Settings

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 30.0
BACKOFF_MAX_S = 3600.0


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(24)


def store_webhook(row: AlertSettings, url: str | None, settings: Settings) -> str | None:
    """Set (or clear) a seller's webhook; returns the new signing secret to show them once."""
    row.webhook_url = url
    row.webhook_failures, row.webhook_disabled_at = 0, None
    if not url:
        row.webhook_secret_enc = None
        return None
    secret = new_webhook_secret()
    row.webhook_secret_enc = encrypt(secret, settings.resolved_secret_key())
    return secret


@dataclass
class DeliveryReport:
    sent: int = 0  # messages delivered (a digest counts once)
    rows: int = 0  # outbox rows closed by those messages
    failed: int = 0
    disabled: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


Sender = Callable[[AlertSettings, str, str, str, dict[str, Any], str], None]


@dataclass
class Senders:
    """How messages leave: real webhooks and SMTP, with the address policy from settings."""

    settings: Settings
    is_allowed: AddressPolicy | None = None
    resolver: Resolver = system_resolver

    def policy(self) -> AddressPolicy:
        return self.is_allowed or allowing(self.settings.alerts_allowed_networks)

    def send(
        self,
        target: AlertSettings,
        channel: str,
        subject: str,
        text: str,
        data: dict[str, Any],
        delivery_id: str,
    ) -> None:
        if channel == "webhook":
            if not target.webhook_url or not target.webhook_secret_enc:
                raise DeliveryError("no webhook set")
            try:
                secret = decrypt(target.webhook_secret_enc, self.settings.resolved_secret_key())
            except DecryptionError:
                raise DeliveryError(
                    "the webhook's secret cannot be read (SECRET_KEY changed?)"
                ) from None
            post_webhook(
                target.webhook_url,
                webhook_body(subject, text, data),
                secret=secret,
                delivery_id=delivery_id,
                timeout=self.settings.alerts_timeout_s,
                is_allowed=self.policy(),
                resolver=self.resolver,
            )
        elif channel == "email":
            if not target.email:
                raise DeliveryError("no email address set")
            send_email(
                self.settings,
                target.email,
                subject,
                text,
                is_allowed=self.policy(),
                resolver=self.resolver,
            )
        else:
            raise DeliveryError(f"unknown channel {channel!r}")


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1)))


def _due_rows(session: Session, now: datetime, limit: int) -> list[AlertOutbox]:
    stmt = (
        select(AlertOutbox)
        .where(
            col(AlertOutbox.sent_at).is_(None),
            col(AlertOutbox.due_at) <= now,
            col(AlertOutbox.channel).in_(PUSH_CHANNELS),
        )
        .order_by(col(AlertOutbox.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":  # two deliverers never take one row
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.exec(stmt))


def deliver_due(
    session: Session,
    settings: Settings,
    now: datetime,
    senders: Senders | None = None,
    *,
    limit: int = 200,
) -> DeliveryReport:
    """Send every due webhook/email message (digests gathered); commits after each send."""
    senders = senders or Senders(settings)
    report = DeliveryReport()
    groups: dict[tuple[int, str], list[AlertOutbox]] = defaultdict(list)
    for row in _due_rows(session, now, limit):
        groups[(row.owner_id, row.channel)].append(row)
    for (owner, channel), rows in groups.items():
        target = session.get(AlertSettings, owner) or AlertSettings(user_id=owner)
        if _closed(session, target, channel, rows, now):
            continue
        batches = [rows] if target.digest != "off" and len(rows) > 1 else [[r] for r in rows]
        for batch in batches:
            if not _send_one(session, senders, target, channel, batch, now, report):
                break  # this target is failing: the rest wait for their own retry time
    return report


def _closed(
    session: Session, target: AlertSettings, channel: str, rows: list[AlertOutbox], now: datetime
) -> bool:
    """Close messages whose channel was removed or disabled since they were written."""
    gone = (
        not target.webhook_url or target.webhook_disabled_at is not None
        if channel == "webhook"
        else not target.email or target.email_disabled_at is not None
    )
    if gone:
        for row in rows:
            row.sent_at, row.last_error = now, f"not sent: the {channel} was removed or disabled"
            session.add(row)
        session.commit()
    return gone


def _send_one(
    session: Session,
    senders: Senders,
    target: AlertSettings,
    channel: str,
    batch: list[AlertOutbox],
    now: datetime,
    report: DeliveryReport,
) -> bool:
    if len(batch) == 1:
        subject, text = render(batch[0].kind, batch[0].payload)
        data: dict[str, Any] = {"kind": batch[0].kind, **batch[0].payload}
    else:
        subject, text = render_digest([(r.kind, r.payload) for r in batch])
        data = {"kind": "digest", "items": [{"kind": r.kind, **r.payload} for r in batch]}
    delivery_id = ",".join(str(r.id) for r in batch)
    try:
        senders.send(target, channel, subject, text, data, delivery_id)
    except DeliveryError as err:
        _failed(session, senders.settings, target, channel, batch, now, str(err), report)
        return False
    for row in batch:
        row.sent_at, row.attempts, row.last_error = now, row.attempts + 1, None
        session.add(row)
    setattr(target, f"{channel}_failures", 0)
    session.add(target)
    session.commit()
    report.sent += 1
    report.rows += len(batch)
    return True


def _failed(
    session: Session,
    settings: Settings,
    target: AlertSettings,
    channel: str,
    batch: list[AlertOutbox],
    now: datetime,
    error: str,
    report: DeliveryReport,
) -> None:
    report.failed += 1
    failures = getattr(target, f"{channel}_failures") + 1
    setattr(target, f"{channel}_failures", failures)
    for row in batch:
        row.attempts += 1
        row.last_error = error[:500]
        row.due_at = now + _backoff(row.attempts)
        session.add(row)
    if failures >= settings.alerts_max_failures:
        setattr(target, f"{channel}_disabled_at", now)
        report.disabled.append(f"{target.user_id}:{channel}")
        what = "webhook" if channel == "webhook" else "email alerts"
        session.add(
            AlertOutbox(
                owner_id=target.user_id,
                kind="notice",
                channel="app",
                payload={
                    "subject": f"Your {what} were turned off",
                    "text": (
                        f"Your {what} failed {failures} times in a row (last error: "
                        f"{error[:200]}), so I stopped sending there. Your alerts are still in "
                        f"the app. Set the {channel} again to turn it back on."
                    ),
                },
                created_at=now,
                due_at=now,
                sent_at=now,
            )
        )
        log.warning(
            "alerts: %s of user %s disabled after %s failures", channel, target.user_id, failures
        )
    session.add(target)
    session.commit()
