"""What gets stored for each SP-API answer, and what the UI sees for unchecked ASINs."""

from __future__ import annotations

from sqlmodel import select

from tools.db import session_scope
from tools.models import UserCredential, UserRestriction
from tools.restrictions.client import RestrictionReason, RestrictionsAnswer, parse_answer
from tools.restrictions.store import (
    error_result,
    result_from_answer,
    stored_results,
    upsert_result,
)
from tools.settings import Settings
from tools.users import add_user

APPROVE_PATH = "/hz/approvalrequest/restrictions/approve?asin=0131103628"


def test_parse_joins_relative_links_and_skips_other_marketplaces() -> None:
    body = {
        "restrictions": [
            {
                "marketplaceId": "A1F83G8C2ARO7P",
                "reasons": [{"reasonCode": "NOT_ELIGIBLE", "message": "UK only"}],
            },
            {
                "marketplaceId": "ATVPDKIKX0DER",
                "conditionType": "used_good",
                "reasons": [
                    {
                        "reasonCode": "APPROVAL_REQUIRED",
                        "message": "Need approval",
                        "links": [
                            {
                                "resource": APPROVE_PATH,
                                "verb": "GET",
                                "title": "Request Approval via Seller Central.",
                                "type": "text/html",
                            }
                        ],
                    }
                ],
            },
        ]
    }
    answer = parse_answer("0131103628", "used_good", body, "ATVPDKIKX0DER")
    assert answer.reasons == [
        RestrictionReason(
            "APPROVAL_REQUIRED", "Need approval", "https://sellercentral.amazon.com" + APPROVE_PATH
        )
    ]


def test_most_blocking_reason_wins_and_not_found_has_no_approval_link() -> None:
    both = RestrictionsAnswer(
        "0131103628",
        "new_new",
        [
            RestrictionReason("APPROVAL_REQUIRED", "approval", None),
            RestrictionReason("NOT_ELIGIBLE", "never", None),
        ],
    )
    r = result_from_answer(both)
    assert (r.status, r.reason_code) == (1, "NOT_ELIGIBLE")
    assert r.approval_url == "https://sellercentral.amazon.com/hz/approvalrequest?asin=0131103628"
    assert r.message == "approval | never"
    missing = result_from_answer(
        RestrictionsAnswer(
            "0131103628", "new_new", [RestrictionReason("ASIN_NOT_FOUND", "not in catalog", None)]
        )
    )
    assert (missing.status, missing.approval_url, missing.state) == (1, None, "asin_not_found")
    assert result_from_answer(RestrictionsAnswer("0131103628", "new_new")).state == "allowed"


def test_upsert_is_idempotent_and_pending_or_reconnect_is_visible(settings: Settings) -> None:
    with session_scope() as session:
        uid = add_user(session, "seller1", "password123").id
        assert uid is not None
        upsert_result(
            session, uid, error_result("0131103628", "used_very_good", "SPAPI_ERROR", "HTTP 500")
        )
        upsert_result(
            session, uid, result_from_answer(RestrictionsAnswer("0131103628", "used_very_good"))
        )
    with session_scope() as session:
        rows = list(session.exec(select(UserRestriction)))
        assert [(r.status, r.message) for r in rows] == [(0, None)]
        shown = stored_results(session, uid, ["0131103628", "B00000000X"])
        assert shown["0131103628"].state == "allowed"
        assert shown["B00000000X"].state == "pending"
        session.add(
            UserCredential(
                user_id=uid,
                seller_id="A1SELLER0001",
                refresh_token_enc="x",
                state="reconnect_required",
                last_error="invalid_grant",
            )
        )
    with session_scope() as session:
        shown = stored_results(session, uid, ["0131103628", "B00000000X"])
    assert shown["0131103628"].state == "allowed"  # a real answer stays true
    assert shown["B00000000X"].state == "reconnect_required"
    assert shown["B00000000X"].message == "invalid_grant"
