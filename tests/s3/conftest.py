from __future__ import annotations

from pathlib import Path

import pytest

from nimbus.services.s3.provider import S3Provider

from .helpers import make_provider


@pytest.fixture
def provider(tmp_path: Path) -> S3Provider:
    p = make_provider(tmp_path / "s3")
    yield p
    p.close()
