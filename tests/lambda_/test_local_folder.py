"""The in-process API: functions from local folders (SAM deployer), edits apply on next invoke."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from .conftest import TRUST


def test_folder_function_reloads_edited_handler(registry, ctx, tmp_path: Path):
    iam = registry.get("iam")
    role = iam.create_role(
        {"RoleName": "folder-fn", "AssumeRolePolicyDocument": json.dumps(TRUST)}, ctx
    )["Role"]["Arn"]
    folder = tmp_path / "src"
    folder.mkdir()
    handler = folder / "app.py"
    handler.write_text("def handler(event, context):\n    return 'one'\n")
    lam = registry.get("lambda")

    async def scenario() -> list[tuple[int, bytes, str | None]]:
        cfg = await lam.create_function_from_folder(
            "folder-fn", folder, handler="app.handler", role=role
        )
        assert cfg["FunctionName"] == "folder-fn" and cfg["CodeSha256"]
        results = []
        first = await lam.invoke_function("folder-fn", b"{}")
        results.append((first.status_code, first.payload, first.function_error))
        handler.write_text("def handler(event, context):\n    return 'two'\n")
        later = time.time() + 5  # an mtime clearly newer, whatever the file system's resolution
        os.utime(handler, (later, later))
        second = await lam.invoke_function("folder-fn", b"{}")
        results.append((second.status_code, second.payload, second.function_error))
        dry = await lam.invoke_function("folder-fn", b"{}", invocation_type="DryRun")
        results.append((dry.status_code, dry.payload, dry.function_error))
        lam.invoker.stop()
        await lam.engine.runtime.aclose()
        return results

    results = asyncio.run(scenario())
    assert results == [(200, b'"one"', None), (200, b'"two"', None), (204, b"", None)]
