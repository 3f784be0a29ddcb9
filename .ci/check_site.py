"""Opens the built documentation site in headless Chromium and checks it.

Usage: python .ci/check_site.py SITE_DIR

Serves SITE_DIR over HTTP on 127.0.0.1 (the search index is fetched by a web
worker, which file:// pages may not start), loads the home page and the `VAE`
API page with JavaScript running, and fails unless each has the search box and
the navigation, the `VAE` page shows the rendered signature, no page logs
anything to the browser console, and no request the pages make fails.
"""

import functools
import http.server
import re
import shutil
import subprocess
import sys
import tempfile
import threading

PAGES = {
    "": ["md-search__input", "md-nav"],
    "api/vae/": ["md-search__input", "md-nav", "keras_vae.models.VAE", "encoder"],
}


FAILED_REQUESTS = []


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site silently, recording every request that fails."""

    def log_request(self, code="-", size="-"):
        if not str(code).startswith(("2", "3")):
            FAILED_REQUESTS.append(f"{self.path} answered {code}")

    def log_message(self, *arguments):
        pass


def browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("check_site: no Chromium found (apt-get install chromium)")


def render(chromium, url):
    """The page's DOM after its scripts ran, and the console lines it logged."""
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=10000",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return result.returncode, result.stdout, console


def main(site):
    handler = functools.partial(QuietHandler, directory=site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    chromium = browser()
    failures = []
    for page, markers in PAGES.items():
        code, dom, console = render(chromium, base + page)
        text = re.sub(r"<[^>]+>", "", dom)
        if code != 0 or not dom:
            failures.append(f"/{page}: Chromium exited with {code}")
        for marker in markers:
            if marker not in dom and marker not in text:
                failures.append(f"/{page}: {marker!r} is missing")
        if page.startswith("api/vae") and not re.search(r"VAE\s*\(\s*encoder", text):
            failures.append(
                f"/{page}: the rendered signature VAE(encoder, ...) is missing"
            )
        failures += [f"/{page}: console: {line}" for line in console]
        print(f"/{page}: {len(dom)} characters of DOM, {len(console)} console lines")
    server.shutdown()
    failures += [f"request: {failure}" for failure in FAILED_REQUESTS]
    if failures:
        sys.exit("check_site: " + "\n".join(failures))
    print(
        "check_site: the home page and the VAE page render, with search and navigation"
    )


if __name__ == "__main__":
    main(sys.argv[1])
