"""The pages in headless Chromium (Debian's chromium, driven by Playwright): an
annotator labels five items with the keyboard and undoes one; the admin page shows
the counts and the consensus; a later annotator never gets an item beyond its overlap."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from _service import live_server, new_service, text_project

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield b
        b.close()


def _wait_item(page: Any, previous: str | None) -> str:
    page.wait_for_function(
        "prev => !['busy', 'loading'].includes(document.body.dataset.state)"
        " && document.getElementById('item').dataset.itemId !== prev",
        arg=previous,
        timeout=30_000,
    )
    return str(page.get_attribute("#item", "data-item-id"))


def test_label_undo_admin_and_overlap(tmp_path: Path, browser: Any) -> None:
    svc = new_service(tmp_path)
    tokens = text_project(
        svc, n_items=12, overlap=2, annotators=("ann1", "ann2", "ann3"), instructions=HOSTILE
    )
    with live_server(svc) as base:
        page = browser.new_page(viewport={"width": 390, "height": 800})  # a phone screen
        page.goto(f"{base}/annotate?project=t#token={tokens['ann1']}")
        current = _wait_item(page, None)
        # the token left the address bar; hostile instructions are shown as text
        assert "token" not in page.url
        assert page.text_content("#instructions") == HOSTILE
        assert page.evaluate("window.__xss") is None
        seen, pressed = [], []
        for j in range(5):
            seen.append(current)
            key = "1" if j % 2 == 0 else "2"  # cat, dog, cat, dog, cat
            pressed.append(key)
            page.keyboard.press(key)
            current = _wait_item(page, current)
        page.keyboard.press("u")
        back = _wait_item(page, current)
        assert back == seen[-1]  # undo brings the last item back
        page.wait_for_function("() => document.getElementById('progress').dataset.mine === '4'")
        # every button is on screen at phone width
        box = page.locator("#classes button").last.bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390

        h = {"Authorization": f"Bearer {tokens['admin']}"}
        stats = httpx.get(f"{base}/api/admin/projects/t/stats", headers=h).json()
        assert stats["answers"] == 4
        assert stats["consensus_counts"] == {"cat": 2, "dog": 2, "bird": 0}

        admin = browser.new_page()
        admin.goto(f"{base}/admin?project=t#token={tokens['admin']}")
        admin.wait_for_function("() => document.body.dataset.state === 'ready'")
        assert admin.text_content("#answers .v") == "4"
        assert admin.text_content("#items-done .v") == "0 / 12"
        cards = admin.locator("#consensus .card").all_text_contents()
        assert cards == ["2cat", "2dog", "0bird"]
        rows = admin.locator("#annotators tr").all_text_contents()
        assert any(r.startswith("ann1") and "4" in r for r in rows)

        # ann2 answers everything they are given through the API ...
        h2 = {"Authorization": f"Bearer {tokens['ann2']}"}
        n2 = 0
        while (
            t := httpx.post(f"{base}/api/projects/t/next", headers=h2).json()["task"]
        ) is not None:
            r = httpx.post(
                f"{base}/api/projects/t/answers",
                json={"item_id": t["item_id"], "label": "bird", "client_key": f"b{n2}"},
                headers=h2,
            )
            assert r.status_code == 201
            n2 += 1
        assert n2 == 12  # overlap 2: every item is open to a second person
        # ... so ann3, in the browser, may only get the items still short of 2 answers
        # and not leased to ann1 (who still holds the undone item)
        p3 = browser.new_page()
        p3.goto(f"{base}/annotate?project=t#token={tokens['ann3']}")
        got, cur = [], _wait_item(p3, None)
        while cur:
            got.append(cur)
            p3.keyboard.press("3")
            cur = _wait_item(p3, cur)
        assert p3.get_attribute("body", "data-state") == "done"
        assert len(got) == 12 - 5
        assert not set(got) & set(seen)
        answers = httpx.get(f"{base}/api/admin/projects/t/export/answers.csv", headers=h).text
        per_item: dict[str, int] = {}
        for line in answers.splitlines()[1:]:
            per_item[line.split(",")[0]] = per_item.get(line.split(",")[0], 0) + 1
        assert max(per_item.values()) == 2
        assert sum(per_item.values()) == 4 + 12 + 7
