"""Page weight of a list page as a browser sees it: bytes transferred (compressed, with
headers) and requests, cold (empty cache) and warm (the same browser opening a second list).

    python -m bench.page_weight http://127.0.0.1:5000 [/query_overdue/ /collection_search/]

Logs in as admin with the demo password; uses the system Chromium."""
from __future__ import annotations

import os
import shutil
import sys


def measure(base: str, first: str, second: str, user: str = "admin", password: str = "demo12345") -> dict:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
        ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page = ctx.new_page()
        page.goto(base + "/login")
        page.fill("#username", user)
        page.fill("#password", password)
        with page.expect_navigation():
            page.click("#login-submit")
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.clearBrowserCache")
        seen: dict[str, dict] = {}

        def on_response(ev):
            seen.setdefault(ev["requestId"], {})["url"] = ev["response"]["url"]
            seen[ev["requestId"]]["cached"] = ev["response"].get("fromDiskCache") or ev["response"].get("fromMemoryCache")

        def on_finished(ev):
            seen.setdefault(ev["requestId"], {})["bytes"] = ev["encodedDataLength"]

        def on_cache(ev):
            seen.setdefault(ev["requestId"], {})["cached"] = True

        cdp.on("Network.responseReceived", on_response)
        cdp.on("Network.loadingFinished", on_finished)
        cdp.on("Network.requestServedFromCache", on_cache)
        out = {}
        for label, path in (("cold", first), ("warm", second)):
            seen.clear()
            page.goto(base + path, wait_until="networkidle")
            # A file taken from the browser's cache moves no bytes (memory-cache hits report 0).
            net = [r for r in seen.values() if not r.get("cached") and r.get("url", "").startswith("http")
                   and r.get("bytes", 0) > 0]
            out[label] = {"path": path, "requests": len(net), "bytes": sum(r.get("bytes", 0) for r in net),
                          "files": sorted((r.get("bytes", 0), r["url"].replace(base, "")) for r in net)}
        browser.close()
    return out


def main(argv: list[str]) -> None:
    base = argv[1] if len(argv) > 1 else "http://127.0.0.1:5000"
    first = argv[2] if len(argv) > 2 else "/query_overdue/"
    second = argv[3] if len(argv) > 3 else "/collection_search/"
    result = measure(base, first, second)
    for label, r in result.items():
        print(f"{label}: {r['path']} {r['requests']} requests, {r['bytes'] / 1024:.1f} KB transferred")
        for size, url in r["files"]:
            print(f"    {size / 1024:8.1f} KB  {url}")


if __name__ == "__main__":
    main(sys.argv)
