"""upload_web.py with a fake S3 client passed in: the UI files with their content types and
config.json with both endpoints."""

from __future__ import annotations

import json

from genai_support import APP, load

upload_web = load("genai_upload_web", APP / "scripts" / "upload_web.py")


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, dict] = {}

    def put_object(self, **kwargs) -> dict:
        self.objects[kwargs["Key"]] = kwargs
        return {}


def test_upload_writes_the_ui_and_its_endpoints() -> None:
    s3 = FakeS3()
    keys = upload_web.upload("site", "http://api/", "ws://sock/prod/", s3)
    assert set(keys) == {"index.html", "app.js", "markdown.js", "app.css", "config.json"}
    config = json.loads(s3.objects["config.json"]["Body"])
    assert config == {"apiUrl": "http://api", "webSocketUrl": "ws://sock/prod"}
    assert s3.objects["config.json"]["CacheControl"] == "no-store"
    assert s3.objects["index.html"]["ContentType"].startswith("text/html")
    assert s3.objects["app.js"]["ContentType"].startswith("text/javascript")
    assert s3.objects["app.css"]["ContentType"].startswith("text/css")
