"""The console in a real browser: the distribution's Chromium driven by Playwright against a
real server. Saves the screenshots docs/console.md shows (desktop and 375 px wide)."""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
import pytest
import sqlalchemy as sa

from customer_registry.config import Settings
from customer_registry.db import open_database, operator_sessions
from tests.conftest import running_server
from tests.horizon.conftest import customer_url, person

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

pytestmark = pytest.mark.slow

# Taken on every run (each page is checked not to scroll sideways); kept in docs/console only
# when asked, so that a test run does not rewrite the documentation's pictures.
SCREENSHOTS = Path(
    os.environ.get("CONSOLE_SCREENSHOTS_DIR")
    or Path(tempfile.gettempdir()) / f"console-screenshots-{os.getpid()}"
)
CLIENT_ID = 4711  # fixed, so that the screenshots stay the same from run to run
OPERATOR = "ada"
PASSWORD = "correct horse battery staple"
DESKTOP: "ViewportSize" = {"width": 1280, "height": 900}
PHONE: "ViewportSize" = {"width": 375, "height": 812}


def chromium() -> str:
    """The distribution's Chromium; without one a skip, or in CI a failure."""
    found = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if found:
        return found
    reason = "no Chromium to drive: apt-get install chromium (or set CHROMIUM_PATH)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "customer_registry", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


@pytest.fixture
def server(database_url: str, key_file: Path, tmp_path: Path) -> Iterator[str]:
    # Its deliverer sends the webhooks to the test's receiver on 127.0.0.1.
    private = {"CUSTOMER_REGISTRY_WEBHOOK_ALLOW_PRIVATE": "true"}
    with running_server(database_url, key_file, tmp_path, workers=1, **private) as base:
        yield base


class _Hooks(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps the deliverer's connection open
    received: ClassVar[list[bytes]]

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[bytes]]]:
    """A webhook receiver on 127.0.0.1 in a thread (Playwright's loop runs in this one):
    its URL, and the bodies it was sent."""

    class Hooks(_Hooks):
        received: ClassVar[list[bytes]] = []

    http = ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{http.server_address[1]}/hook", Hooks.received
    finally:
        http.shutdown()
        http.server_close()


def _wait_for(received: list[bytes], count: int) -> None:
    deadline = time.monotonic() + 30
    while len(received) < count:
        assert time.monotonic() < deadline, f"{len(received)} webhooks received, not {count}"
        time.sleep(0.05)


@pytest.fixture
def api(server: str, env: dict[str, str]) -> Iterator[httpx.Client]:
    """The Horizon API of CLIENT_ID, as a client of it calls it."""
    issued = json.loads(_cli(env, "credentials", "create", "--client-id", str(CLIENT_ID), "--json"))
    with httpx.Client(base_url=server) as http:
        form = {
            "grant_type": "client_credentials",
            "client_id": issued["oauthClientId"],
            "client_secret": issued["oauthClientSecret"],
        }
        token = http.post("/oauth/token", data=form).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        yield http


def _put(api: httpx.Client, number: str, **body: Any) -> None:
    response = api.put(customer_url(CLIENT_ID, number), json=person(**body))
    assert response.status_code == 200, response.text


def _seed(api: httpx.Client) -> None:
    _put(api, "c-1001")
    people = [("Tora", "Tomasdottir"), ("Tomas", "Berg"), ("Ingrid", "Tomte"), ("Ola", "Nordmann")]
    for i, (first, last) in enumerate(people):
        _put(api, f"c-{1002 + i}", person={"firstName": first, "lastName": last})


def _expire_sessions(database_url: str, key_file: Path) -> None:
    async def expire() -> None:
        database = open_database(Settings(database_url=database_url, key_file=key_file))
        try:
            async with database.transaction() as conn:
                past = datetime.now(UTC) - timedelta(seconds=1)
                await conn.execute(sa.update(operator_sessions).values(expires_at=past))
        finally:
            await database.close()

    # In a thread of its own: Playwright's loop runs in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, expire()).result()


def _shoot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("375px", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"{name} is wider than {size['width']} px"
    page.set_viewport_size(DESKTOP)


def test_an_operator_finds_reveals_and_traces_a_customer(
    server: str,
    api: httpx.Client,
    env: dict[str, str],
    database_url: str,
    key_file: Path,
    receiver: tuple[str, list[bytes]],
) -> None:
    from playwright.sync_api import expect, sync_playwright

    hook, received = receiver
    webhook = api.post(f"/registry/v1/clients/{CLIENT_ID}/webhooks", json={"url": hook})
    assert webhook.status_code == 201, webhook.text
    _seed(api)
    one_time = _cli(env, "operators", "create", "--name", OPERATOR, "--client-id", str(CLIENT_ID))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium())
        page = browser.new_page(viewport=DESKTOP)
        expect.set_options(timeout=15_000)

        # A wrong password is refused; the one-time password asks for a password of one's own.
        page.goto(f"{server}/console")
        expect(page).to_have_title(re.compile("Sign in"))
        _shoot(page, "sign-in")
        page.get_by_label("Operator name").fill(OPERATOR)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
        page.get_by_label("Password").fill(one_time.strip())
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("New password").fill(PASSWORD)
        page.get_by_label("The same password again").fill(PASSWORD)
        page.get_by_role("button", name="Save password").click()
        expect(page.get_by_role("heading", name="Clients")).to_be_visible()
        _shoot(page, "clients")

        # Search by name prefix, with the keyboard only.
        page.get_by_role("link", name=f"Client {CLIENT_ID}").click()
        expect(page.get_by_label("Find a customer")).to_be_focused()
        page.keyboard.type("tom")
        page.keyboard.press("Enter")
        results = page.locator("table.customers tbody tr")
        expect(results).to_have_count(4)
        _shoot(page, "search")

        # The card: national ID masked, then revealed, and the reveal in the history.
        page.get_by_role("link", name="c-1001").click()
        expect(page.get_by_text("*********07").first).to_be_visible()
        assert "02016126007" not in page.content()
        _shoot(page, "customer")
        page.get_by_role("button", name="Reveal national ID").click()
        expect(page.get_by_text("02016126007").first).to_be_visible()
        expect(page.locator(".timeline li.reveal").first).to_contain_text(OPERATOR)
        expect(page.locator(".timeline li.reveal").first).to_contain_text("Revealed ssn")

        # An update through the Horizon API appears in the timeline.
        _put(api, "c-1001", email="tom@new.example")
        page.get_by_role("link", name="Hide it again").click()
        change = page.locator(".timeline li.change").first
        expect(change).to_contain_text("v2")
        expect(change).to_contain_text("tom.customer@mail.com")
        expect(change).to_contain_text("tom@new.example")

        # A forged CSRF token is refused, and reveals nothing.
        page.locator("input[name=csrf]").last.evaluate("input => input.value = 'f' + input.value")
        page.get_by_role("button", name="Reveal national ID").click()
        expect(page.get_by_role("heading", name="Form refused")).to_be_visible()
        assert "02016126007" not in page.content()
        _shoot(page, "problem")

        # The client's events, each delivered to the receiver; Replay sends the newest again.
        _wait_for(received, 6)
        page.goto(f"{server}/console/clients/{CLIENT_ID}")
        page.get_by_role("link", name="Events and webhook deliveries").click()
        expect(page.get_by_role("heading", name="Events and webhooks")).to_be_visible()
        newest = page.locator("table.events tbody tr").first
        expect(newest).to_contain_text("customer.updated")
        expect(newest).to_contain_text("Delivered")
        _shoot(page, "events")
        page.get_by_role("button", name="Replay").click()
        expect(page.get_by_role("status")).to_contain_text("Replay started")
        _wait_for(received, 7)
        assert json.loads(received[-1]) == json.loads(received[5])

        # An expired session sends back to sign in.
        _expire_sessions(database_url, key_file)
        page.goto(f"{server}/console/clients/{CLIENT_ID}")
        expect(page.get_by_role("status")).to_contain_text("Your session has expired")

        # Signed in again, the operator lands where they were going, and signs out.
        page.get_by_label("Operator name").fill(OPERATOR)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name=f"Client {CLIENT_ID}")).to_be_visible()
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_title(re.compile("Sign in"))
        page.goto(f"{server}/console/clients")
        expect(page).to_have_title(re.compile("Sign in"))
        browser.close()
