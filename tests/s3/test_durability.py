"""Storage rules: keys never become paths, crash leftovers vanish, acknowledged writes survive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nimbus.services.s3.provider import S3Provider

from .helpers import body_stream, call, make_provider, read_body


def test_hostile_keys_never_touch_the_filesystem(provider: S3Provider, tmp_path: Path) -> None:
    call(provider, "create_bucket", Bucket="bkt")
    keys = ["../../escape", "/abs/path", "x" * 1000, "..", "con/aux.txt"]
    for key in keys:
        call(provider, "put_object", Bucket="bkt", Key=key, Body=body_stream(key.encode()))
    for key in keys:
        got = call(provider, "get_object", Bucket="bkt", Key=key)
        assert read_body(got["Body"]) == key.encode()
    names = {p.name for p in tmp_path.rglob("*")}
    assert "escape" not in names and "abs" not in names
    blobs = [p for p in provider.engine.blobs.blob_dir.rglob("*") if p.is_file()]
    assert all(len(p.name) == 32 for p in blobs) and len(blobs) == len(keys)


def test_startup_removes_temp_and_unreferenced_blobs(tmp_path: Path) -> None:
    provider = make_provider(tmp_path / "s3")
    call(provider, "create_bucket", Bucket="bkt")
    call(provider, "put_object", Bucket="bkt", Key="keep", Body=body_stream(b"kept"))
    blobs = provider.engine.blobs
    (blobs.tmp_dir / "deadbeef.part").write_bytes(b"half-written")
    orphan = blobs.path("ff" + "0" * 30)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"renamed but never committed")
    provider.close()
    reopened = make_provider(tmp_path / "s3")
    assert list(reopened.engine.blobs.tmp_dir.iterdir()) == []
    assert not orphan.exists()
    got = call(reopened, "get_object", Bucket="bkt", Key="keep")
    assert read_body(got["Body"]) == b"kept"
    reopened.close()


def test_acknowledged_write_survives_kill_9(fresh_nimbus: Any) -> None:
    s3 = fresh_nimbus.client("s3")
    s3.create_bucket(Bucket="durable")
    s3.put_object(Bucket="durable", Key="k", Body=b"x" * 100_000, Metadata={"a": "1"})
    fresh_nimbus.kill9()
    fresh_nimbus.start()
    s3 = fresh_nimbus.client("s3")
    got = s3.get_object(Bucket="durable", Key="k")
    assert got["Body"].read() == b"x" * 100_000 and got["Metadata"] == {"a": "1"}
