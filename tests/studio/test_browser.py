"""The studio in a real browser: Debian's chromium driven by Playwright (no browser download).

Screenshots of the main pages land in ``tests/studio/artifacts/`` (gitignored;
``DBOPS_STUDIO_ARTIFACTS`` overrides), one PNG per page, named after the step.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dbops.studio import StudioOptions, StudioServer, Target
from tests.studio.conftest import db_row

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(os.environ.get("DBOPS_STUDIO_ARTIFACTS") or Path(__file__).parent / "artifacts")


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (scripts/bootstrap installs it)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            viewport={"width": 1360, "height": 860},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser):
    tab = browser.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)  # a CSP violation, a JS error
    tab.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    tab.unexpected = errors  # a test that provokes an error clears what it expected
    yield tab
    tab.close()
    assert errors == []


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def seed(healthcare_url: str, fashion_url: str) -> None:
    with psycopg.connect(healthcare_url) as conn:
        conn.execute(
            "INSERT INTO clinics (name, address, phone) VALUES ('Main Clinic', '1 Main St', '555-0100'), "
            "('Riverside', '2 River Rd', NULL)"
        )
        conn.execute("""
            INSERT INTO users (clinic_id, name, email, role_type, password_hash)
            SELECT 1 + (g % 2), 'Person ' || g, 'p' || g || '@example.test',
                   (ARRAY['DOCTOR', 'NURSE', 'PATIENT'])[1 + g % 3]::role_type, 'HASH-' || g
            FROM generate_series(1, 130) g""")
        conn.execute("ANALYZE")
    with psycopg.connect(fashion_url) as conn:
        conn.execute("INSERT INTO studios (name, city) VALUES ('Atelier Nord', 'Oslo')")


@pytest.fixture
def studio(healthcare_db, fashion_db) -> Iterator:
    servers = []

    def start(*, write: bool) -> StudioServer:
        server = (
            StudioServer(
                [Target("healthcare", healthcare_db), Target("fashion", fashion_db)], StudioOptions(write=write)
            )
            .check()
            .start()
        )
        servers.append(server)
        return server

    seed(healthcare_db, fashion_db)
    yield start
    for server in servers:
        server.close()


def grid_ids(page) -> list[int]:
    return [int(t) for t in page.locator("table.rows tbody tr td:nth-child(2)").all_inner_texts()]


def test_browse_switch_filter_paginate_follow_foreign_keys(page, studio, healthcare_db):
    server = studio(write=False)
    page.goto(server.login_url)
    assert page.url == server.url + "healthcare/"
    page.get_by_role("link", name="users").wait_for()
    shot(page, "01-tables")

    page.locator("nav.schemas").get_by_role("link", name="fashion").click()
    page.get_by_role("link", name="orders").wait_for()
    assert page.url.endswith("/fashion/")
    page.get_by_role("link", name="studios").click()
    page.get_by_text("Atelier Nord").wait_for()
    page.locator("nav.schemas").get_by_role("link", name="healthcare").click()

    page.get_by_role("link", name="users", exact=True).click()
    page.locator("table.rows").wait_for()
    assert grid_ids(page) == list(range(1, 51))
    assert "HASH-" not in page.content()
    shot(page, "02-table")

    page.locator("details.filters-box summary").click()
    page.locator("form.filters select[name=fc]").first.select_option("role_type")
    page.locator("form.filters select[name=fo]").first.select_option("eq")
    page.locator("form.filters input[name=fv]").first.fill("DOCTOR")
    page.get_by_role("button", name="Apply").click()
    page.locator("table.rows").wait_for()
    roles = page.locator("table.rows tbody tr td:nth-child(6)").all_inner_texts()
    assert roles and set(roles) == {"DOCTOR"} and len(roles) == 43
    assert page.get_by_test_id("count").inner_text() == "43 matching"
    shot(page, "03-filtered")

    page.get_by_role("link", name="clear filters").click()
    page.get_by_role("link", name="next →").click()
    page.wait_for_url("**after=**")
    assert grid_ids(page) == list(range(51, 101))
    page.get_by_role("link", name="next →").click()
    page.wait_for_url("**page=3**")
    assert grid_ids(page) == list(range(101, 131))
    assert page.locator(".pager .off", has_text="next →").count() == 1
    page.get_by_role("link", name="← previous").click()
    page.wait_for_url("**before=**")
    assert grid_ids(page) == list(range(51, 101))

    # a foreign key, forward: user 51's clinic
    page.locator("table.rows tbody tr").first.locator("a.fk").click()
    page.wait_for_url("**/clinics/row?k.id=2")
    page.get_by_text("Riverside").first.wait_for()
    shot(page, "04-row")
    # … and back: the users of that clinic
    page.locator("section.referencing").get_by_role("link", name="users").click()
    page.locator("table.rows").wait_for()
    clinic_ids = set(page.locator("table.rows tbody tr td:nth-child(3)").all_inner_texts())
    assert clinic_ids == {"2"}
    assert page.get_by_test_id("count").inner_text() == "65 matching"


def test_insert_edit_set_null_and_delete(page, studio, healthcare_db):
    server = studio(write=True)
    page.goto(server.login_url)
    page.get_by_role("link", name="clinics").click()
    page.get_by_role("link", name="Insert row").click()
    page.locator("input[name='v.name']").fill("Playwright Clinic")
    page.locator("input[name='v.address']").fill("3 Test Lane")  # typing unticks its NULL box
    page.locator("input[name='v.phone']").fill("")
    shot(page, "05-insert")
    page.get_by_role("button", name="Insert").click()
    page.get_by_text("Row inserted.").wait_for()
    clinic_id = int(page.url.split("k.id=")[1].split("&")[0])
    assert db_row(healthcare_db, "SELECT name, address, phone FROM clinics WHERE id = %s", clinic_id) == (
        "Playwright Clinic",
        "3 Test Lane",
        None,
    )

    page.locator("input[name='n.address']").check()
    page.locator("input[name='v.phone']").fill("555-0199")
    assert page.locator("input[name='n.phone']").is_checked() is False
    shot(page, "06-edit")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    assert db_row(healthcare_db, "SELECT address, phone FROM clinics WHERE id = %s", clinic_id) == (None, "555-0199")

    # a bad value: the studio says which field, and keeps what was typed
    page.locator("input[name='v.created_at']").fill("not a date")
    page.locator("input[name='v.name']").fill("Renamed Clinic")
    page.get_by_role("button", name="Save").click()
    page.locator("p.error").wait_for()
    assert "created_at:" in page.locator("p.error").inner_text()
    assert page.locator("input[name='v.name']").input_value() == "Renamed Clinic"
    assert db_row(healthcare_db, "SELECT name FROM clinics WHERE id = %s", clinic_id) == ("Playwright Clinic",)
    assert [e for e in page.unexpected if not e.startswith("400 ") and "status of 400" not in e] == []
    page.unexpected.clear()

    page.goto(f"{server.url}healthcare/t/public/clinics/row?k.id={clinic_id}")
    page.get_by_role("link", name="Delete this row…").click()
    page.get_by_text("Delete this row of clinics?").wait_for()
    shot(page, "07-delete")
    page.get_by_role("button", name="Delete row").click()
    page.get_by_text("Row deleted.").wait_for()
    assert db_row(healthcare_db, "SELECT count(*) FROM clinics WHERE id = %s", clinic_id) == (0,)
