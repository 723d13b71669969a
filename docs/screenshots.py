"""Take the README's screenshots: `python docs/screenshots.py` (needs Debian's chromium).

Starts `rag chat` on a free loopback port over the current index (RAG_DATA_DIR), asks a question,
and saves docs/chat.png and docs/library.png.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).parent
QUESTION = "Which papers propose post-training quantization methods?"


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "chat", "--port", str(port)])
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 950})
            page.goto(url)
            page.locator("#question textarea").fill(QUESTION)
            page.locator("#question textarea").press("Enter")
            page.locator("#sources .ref").first.wait_for(timeout=120_000)
            page.locator("#sources details").first.click()
            page.screenshot(path=str(DOCS / "chat.png"), full_page=True)
            page.get_by_role("tab", name="Library").click()
            page.locator("#library-stats").get_by_text("papers").first.wait_for(timeout=30_000)
            time.sleep(2)
            page.screenshot(path=str(DOCS / "library.png"), full_page=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
