"""A live Qinglang server and a headless Chromium for the browser tests.

The server is the real app (`create_app`) under uvicorn in a thread, on a migrated SQLite
file and a free loopback port. The browser is Debian's Chromium driven by Playwright (its
own browser builds cannot be downloaded here); the tests skip with a clear reason when
Chromium or Playwright is missing. Screenshots go to QINGLANG_SCREENSHOT_DIR
(default `test-artifacts/screenshots`, ignored by git).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(
    os.environ.get("QINGLANG_SCREENSHOT_DIR", ROOT / "test-artifacts" / "screenshots")
)


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Debian's Chromium is not installed (apt-get install chromium; .ci/run does)")
    return path


@dataclass
class LiveServer:
    url: str
    database: object
    settings: object
    server: object
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp: Path, prepare=None) -> LiveServer:
    """Migrate a fresh SQLite database, let `prepare(db, settings)` fill it, serve it."""
    import uvicorn

    from qinglang.settings import Settings
    from qinglang.store.db import Database
    from qinglang.store.migrate import upgrade
    from qinglang.web.app import create_app

    settings = Settings(
        database_url=f"sqlite:///{tmp / 'browser.db'}",
        blob_dir=tmp / "blobs",
        rate_limit_per_minute=0,
        report_rate_limit_per_hour=0,
    )
    db = Database(settings.database_url)
    upgrade(db)
    if prepare is not None:
        prepare(db, settings)
    port = _free_port()
    # No logging set-up by uvicorn: it would change the levels of its loggers for the whole
    # test session (the logging tests read uvicorn.access records).
    config = uvicorn.Config(
        create_app(settings, db),
        host="127.0.0.1",
        port=port,
        log_config=None,
        log_level=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    return LiveServer(f"http://127.0.0.1:{port}", db, settings, server, thread)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    playwright = pytest.importorskip("playwright.sync_api")
    executable = chromium_path()
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield b
        b.close()


def shot(page, name: str) -> Path:
    """Save a full-page screenshot under SCREENSHOTS (kept out of git)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# Run in the page: every visible form control needs a label (a <label for>, a wrapping
# <label>, aria-label or aria-labelledby). Returns the controls that have none.
UNLABELLED_JS = """
() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML.slice(0, 120))
"""

# Run in the page: WCAG 2 contrast of the text of each visible element with its own text
# against the first opaque background up the tree; returns those under 4.5:1 (3:1 when
# large: >= 24px, or >= 18.66px bold).
LOW_CONTRAST_JS = """
() => {
  const lum = c => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const L = ([r, g, b]) => 0.2126 * lum(r) + 0.7152 * lum(g) + 0.0722 * lum(b);
  const bg = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const st = getComputedStyle(el);
    if (st.visibility === 'hidden' || st.display === 'none') continue;
    if (el.getClientRects().length === 0) continue;
    const fg = rgb(st.color), back = bg(el);
    const [a, b] = [L(fg), L(back)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight) >= 700;
    const need = (size >= 24 || (size >= 18.66 && bold)) ? 3 : 4.5;
    const text = el.textContent.trim().slice(0, 30);
    if (ratio < need) out.push(`${el.tagName} "${text}" ${ratio.toFixed(2)}`);
  }
  return out;
}
"""


def check_accessible(page) -> None:
    """Every form field labelled, every text in sufficient contrast (fails the test if not)."""
    unlabelled = page.evaluate(UNLABELLED_JS)
    assert unlabelled == [], f"{page.url}: form fields without a label: {unlabelled}"
    low = page.evaluate(LOW_CONTRAST_JS)
    assert low == [], f"{page.url}: text with too little contrast: {low[:10]}"
