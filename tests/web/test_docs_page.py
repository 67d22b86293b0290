"""/docs: the OpenAPI description rendered by the vendored Swagger UI, offline, under its own CSP."""
from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

import pytest

from fetalhc.paths import PROJECT_ROOT
from fetalhc.web.api import SWAGGER_UI_VERSION
from fetalhc.web.openapi import openapi_document
from fetalhc.web.security import CONTENT_SECURITY_POLICY, DOCS_CONTENT_SECURITY_POLICY

VENDORED = PROJECT_ROOT / "static" / "swagger-ui"
# CSP violations as the page sees them (some never reach the console).
RECORD_CSP_VIOLATIONS = """window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));"""


def operations() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in openapi_document()["paths"].items() for method in ops}


def directives(policy: str) -> dict[str, set[str]]:
    return {name: set(values) for name, *values in (d.split() for d in policy.split(";"))}


def test_vendored_files_are_the_pinned_release():
    readme = (VENDORED / "README.md").read_text()
    assert readme.startswith(f"# Swagger UI {SWAGGER_UI_VERSION} (vendored)")
    assert f"swagger-ui-dist@{SWAGGER_UI_VERSION}" in readme
    digests = dict(re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|$", readme, re.M))
    assert set(digests) == {"swagger-ui-bundle.js", "swagger-ui.css"}
    for name, digest in digests.items():
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == digest, name
    assert "Apache License" in (VENDORED / "LICENSE").read_text()
    assert {p.name for p in VENDORED.iterdir()} == {*digests, "README.md", "LICENSE", "NOTICE",
                                                     "swagger-ui-bundle.js.LICENSE.txt"}


def test_docs_page_is_served_with_local_files_under_its_own_policy(client):
    response = client.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert re.findall(r'(?:src|href)="([^"]*swagger[^"]*)"', html) == [
        "/static/swagger-ui/swagger-ui.css", "/static/swagger-ui/swagger-ui-bundle.js"]
    assert 'data-spec="/openapi.json"' in html and "/static/docs.js" in html
    assert response.headers["Content-Security-Policy"] == DOCS_CONTENT_SECURITY_POLICY
    for name in ("swagger-ui/swagger-ui.css", "swagger-ui/swagger-ui-bundle.js", "docs.js"):
        assert client.get(f"/static/{name}").status_code == 200, name


def test_docs_policy_allows_nothing_the_other_pages_do_not():
    docs, pages = directives(DOCS_CONTENT_SECURITY_POLICY), directives(CONTENT_SECURITY_POLICY)
    assert docs.keys() == pages.keys()
    for name, allowed in docs.items():
        # 'none' is stricter than anything; otherwise the docs page allows a subset.
        assert allowed == {"'none'"} or allowed <= pages[name], name
    assert not any("unsafe" in v or v.startswith("http") for values in docs.values() for v in values)


def test_the_other_pages_keep_the_page_policy(client):
    for path in ("/", "/health", "/openapi.json", "/model", "/static/swagger-ui/swagger-ui-bundle.js"):
        assert client.get(path).headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path


sync_api = pytest.importorskip("playwright.sync_api")


def test_docs_renders_every_operation_offline(browser, live_url, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    own = urlsplit(live_url).netloc

    def only_this_server(route):  # offline: anything for another host fails, and is counted
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_server)
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    try:
        page.goto(f"{live_url}/docs")
        blocks = page.locator(".opblock")
        sync_api.expect(blocks).to_have_count(len(operations()))
        shown = {(block.locator(".opblock-summary-method").inner_text().strip(),
                  block.locator(".opblock-summary-path").get_attribute("data-path"))
                 for block in blocks.all()}
        assert shown == operations()
        text = page.locator("#swagger-ui").inner_text()
        assert all(path in text for _, path in operations())
        # Open every operation and the schemas, and run one request: still nothing blocked.
        for control in page.locator(".opblock-summary-control").all():
            control.click()
        page.locator(".models-control").click()
        health = page.locator(".opblock", has=page.locator('[data-path="/health"]'))
        health.locator(".try-out__btn").click()
        health.locator(".execute").click()
        sync_api.expect(health.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
        page.screenshot(path=str(tmp_path / "docs.png"), full_page=True)
        violations = page.evaluate("window.__csp")
    finally:
        context.close()
    assert violations == [] and outside == [] and problems == [], (violations, outside, problems)
