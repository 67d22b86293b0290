"""A browser page for the browser tests that fails the test on a script error or a CSP violation."""
from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def watched_page(browser, url: str, width: int = 1280, height: int = 900) -> Iterator:
    """A fresh context and page at ``url``; on leaving, every console error and page error is a failure.

    The browser also logs each 4xx answer as a console error: those are answers the tests ask for,
    not problems, so they are left out.
    """
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and "server responded with a status of 4" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url)
    try:
        yield page
    finally:
        context.close()
    assert not problems, problems
