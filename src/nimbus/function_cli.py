"""``nimbus invoke`` and ``nimbus logs``: thin boto3 clients of a running Nimbus.

Exit status of ``invoke``: 0 on success, 1 when the function raised (``FunctionError``), 2 when
the request itself failed (the AWS error message is printed) or Nimbus does not answer.
"""

from __future__ import annotations

import base64
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SINCE = re.compile(r"(\d+)\s*([smhdw])\Z")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def client(service: str, endpoint: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service, endpoint_url=endpoint, region_name=region,
        aws_access_key_id="nimbus", aws_secret_access_key="nimbus",
        config=Config(retries={"max_attempts": 1}, read_timeout=900),
    )  # fmt: skip


def _payload(text: str) -> bytes:
    """``--payload '{"a": 1}'`` or ``--payload @event.json``."""
    if text.startswith("@"):
        return Path(text[1:]).read_bytes()
    return text.encode()


def invoke(function: str, payload: str, endpoint: str, region: str) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        reply = client("lambda", endpoint, region).invoke(
            FunctionName=function, Payload=_payload(payload), LogType="Tail"
        )
        body = reply["Payload"].read()
    except ClientError as exc:
        error = exc.response["Error"]
        print(f"{error.get('Code')}: {error.get('Message')}", file=sys.stderr)
        return 2
    except (BotoCoreError, OSError) as exc:
        print(f"Nimbus did not answer at {endpoint}: {exc}", file=sys.stderr)
        return 2
    if reply.get("LogResult"):
        sys.stderr.write(base64.b64decode(reply["LogResult"]).decode("utf-8", "replace"))
        sys.stderr.flush()
    sys.stdout.write(body.decode("utf-8", "replace") + "\n")
    sys.stdout.flush()
    return 1 if reply.get("FunctionError") else 0


def since_ms(text: str, now: float | None = None) -> int:
    """``10m``, ``30s``, ``2h``, ``1d``, ``1w`` ago, in epoch milliseconds."""
    found = _SINCE.match(text.strip())
    if not found:
        raise SystemExit(f"--since takes a duration like 30s, 10m, 2h or 1d, not {text!r}")
    seconds = int(found.group(1)) * _UNIT_SECONDS[found.group(2)]
    return int(((now if now is not None else time.time()) - seconds) * 1000)


def _line(event: dict[str, Any]) -> str:
    stamp = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).isoformat(
        timespec="milliseconds"
    )
    return f"{stamp.replace('+00:00', 'Z')} {event['message'].rstrip()}"


def logs(function: str, follow: bool, since: str, endpoint: str, region: str) -> int:
    """Print ``/aws/lambda/FUNCTION``'s events since ``since``; with ``follow`` keep tailing."""
    from botocore.exceptions import BotoCoreError, ClientError

    from nimbus.services.logs.tail import follow_via_api

    group = f"/aws/lambda/{function}"
    start = since_ms(since)
    cw = client("logs", endpoint, region)
    try:
        if follow:
            for event in follow_via_api(cw, group, since_ms=start, poll_interval=0.5):
                print(_line(event), flush=True)
            return 0
        pages = cw.get_paginator("filter_log_events").paginate(logGroupName=group, startTime=start)
        for page in pages:
            for event in page["events"]:
                print(_line(event))
    except KeyboardInterrupt:
        return 0
    except ClientError as exc:
        error = exc.response["Error"]
        if error.get("Code") == "ResourceNotFoundException":
            print(f"No logs for {function} yet ({group} does not exist).", file=sys.stderr)
        else:
            print(f"{error.get('Code')}: {error.get('Message')}", file=sys.stderr)
        return 2
    except (BotoCoreError, OSError) as exc:
        print(f"Nimbus did not answer at {endpoint}: {exc}", file=sys.stderr)
        return 2
    return 0
