"""One real browser pass: Debian's Chromium, headless, through the login page to a deal table."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import ChatServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
]


def test_seller_logs_in_asks_and_sees_the_deal_table(
    chat_server: ChatServer, credentials: dict[str, str], chromium_path: Path, output_dir: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(chat_server.url + "/login", wait_until="domcontentloaded")
            page.locator("input#email, input[name='email'], input[type='text']").first.fill(
                "seller"
            )
            page.locator("input[type='password']").first.fill(credentials["seller"])
            page.locator("button[type='submit']").first.click()

            composer = page.locator("#chat-input")
            composer.wait_for(state="visible", timeout=30_000)
            # a new chat shows the profile's starters (nothing hides them)
            page.get_by_text("Best textbook deals I can sell right now").first.wait_for(
                timeout=30_000
            )
            # a seller's files would be ignored: no paperclip (admins have it, to teach)
            expect(page.locator("#upload-button")).to_have_count(0, timeout=10_000)
            # the flagship starter, clicked as a seller would (it sends its message)
            page.locator("#starter-best-textbook-deals-i-can-sell-right-now").click()

            table = page.locator("#deal-table")
            table.wait_for(state="visible", timeout=45_000)
            assert table.get_by_text("Price now").count() == 1
            rows = table.locator("tbody tr")
            assert rows.count() >= 3
            first_links = rows.first.locator("a")
            hrefs = [first_links.nth(i).get_attribute("href") for i in range(first_links.count())]
            assert any(h and h.startswith("https://www.amazon.com/dp/") for h in hrefs)
            assert any(h and h.startswith("https://keepa.com/") for h in hrefs)
            page.get_by_text("search_deals").first.wait_for(timeout=10_000)  # the tool step
            page.screenshot(path=str(output_dir / "deal-table.png"), full_page=True)

            # a phone-wide chat: the links are still on screen (the numbers scroll sideways)
            page.set_viewport_size({"width": 420, "height": 900})
            page.wait_for_timeout(300)
            for link in (first_links.nth(i) for i in range(first_links.count())):
                box = link.bounding_box()
                assert box and box["x"] >= 0 and box["x"] + box["width"] <= 420, box
        finally:
            page.screenshot(path=str(output_dir / "deal-table-narrow.png"), full_page=True)
            browser.close()
    assert (output_dir / "deal-table.png").stat().st_size > 10_000


def test_seller_adds_a_deal_to_the_buy_list_and_records_a_purchase_by_clicking(
    chat_server: ChatServer, credentials: dict[str, str], chromium_path: Path, output_dir: Path
) -> None:
    """The buttons in the custom elements really call the server: "+ Buy list" on a deal row,
    "Bought" on the buy list, the purchase form's fields and "Record purchase"."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(chat_server.url + "/login", wait_until="domcontentloaded")
            page.locator("input#email, input[name='email'], input[type='text']").first.fill(
                "seller"
            )
            page.locator("input[type='password']").first.fill(credentials["seller"])
            page.locator("button[type='submit']").first.click()
            composer = page.locator("#chat-input")
            composer.wait_for(state="visible", timeout=30_000)
            # a new chat shows the profile's starters (nothing hides them)
            page.get_by_text("Best textbook deals I can sell right now").first.wait_for(
                timeout=30_000
            )
            composer.fill("top 5 deals by profit")
            page.locator("#chat-submit").click()
            table = page.locator("#deal-table")
            table.wait_for(state="visible", timeout=45_000)
            button = table.locator("button[id^='buy-list-add-']").first
            asin = str(button.get_attribute("id")).removeprefix("buy-list-add-")
            button.click()
            page.get_by_text("to your buy list").first.wait_for(timeout=20_000)
            assert table.locator(f"#buy-list-add-{asin}").inner_text() == "On buy list"

            composer.fill("show my buy list")
            composer.press("Enter")
            buy_list = page.locator("#buy-list")
            buy_list.wait_for(state="visible", timeout=30_000)
            buy_list.locator(f"#bought-{asin}").click()
            form = page.locator("#purchase-form")
            form.wait_for(state="visible", timeout=20_000)
            form.locator("#pf-qty").fill("2")
            form.locator("#pf-cost").fill("7.25")
            form.locator("#pf-sku").fill("BROWSER-1")
            form.locator("#pf-save").click()
            page.get_by_text("Recorded purchase").first.wait_for(timeout=20_000)
        finally:
            page.screenshot(path=str(output_dir / "purchase.png"), full_page=True)
            browser.close()
    import sqlite3

    row = (
        sqlite3.connect(chat_server.data_dir / "arbitrage.db")
        .execute("SELECT asin, quantity, unit_cost FROM purchase WHERE sku = 'BROWSER-1'")
        .fetchone()
    )
    assert row == (asin, 2, 7.25)
