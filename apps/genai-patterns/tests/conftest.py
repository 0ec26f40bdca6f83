"""Fixtures for the genai-patterns app: headless Chromium, and the app deployed on a live Nimbus."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (no browser download)."""
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run must apt-get install it")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def on_nimbus(tmp_path_factory: pytest.TempPathFactory):
    """The app on a live Nimbus of its own: guardrail and prompt versions published
    (prepare.py), the stack deployed with ``nimbus deploy --json``, the UI uploaded
    (after_deploy.py). Yields a :class:`genai_live.Deployment`."""
    from genai_live import deploy_on_nimbus

    with deploy_on_nimbus(tmp_path_factory.mktemp("genai-nimbus")) as deployment:
        yield deployment
