"""The execution environment's runtime loop, run as a script by ``sys.executable``.

It imports nothing from Nimbus (a worker should start in tens of milliseconds). It talks to the
server over the socket inherited as fd ``NIMBUS_LAMBDA_FD`` with frames of
``>II`` (header length, body length) + header JSON + body bytes:

- worker -> server, once: ``{"ready": true, "init_ms", "logs", "error"?}``
- server -> worker: ``{"id", "deadline_ms", "arn", "client_context"?, "identity"?}`` + event
- worker -> server: ``{"ok", "duration_ms", "max_rss_mb", "logs", "error"?}`` + result JSON
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import resource
import socket
import struct
import sys
import time
import traceback
from typing import Any

_HEAD = struct.Struct(">II")


class _Capture(io.TextIOBase):
    """Replaces sys.stdout/sys.stderr for good, so loggers made at import time write here too."""

    def __init__(self, sink: list[str]) -> None:
        self.sink = sink

    def write(self, text: str) -> int:
        self.sink.append(text)
        return len(text)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False


class Context:
    """The ``context`` argument, with the attributes AWS's Python runtime gives it."""

    def __init__(self, head: dict[str, Any]) -> None:
        env = os.environ
        self.function_name = env["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = head["arn"]
        self.memory_limit_in_mb = env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.aws_request_id = head["id"]
        self.log_group_name = env["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = env["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = head.get("identity")
        self.client_context = head.get("client_context")
        self._deadline_ms = head["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        return max(int(self._deadline_ms - time.time() * 1000), 0)


def _send(sock: socket.socket, head: dict[str, Any], body: bytes = b"") -> None:
    data = json.dumps(head).encode()
    sock.sendall(_HEAD.pack(len(data), len(body)) + data + body)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise SystemExit(0)  # the server went away: this environment is done
        buf += chunk
    return bytes(buf)


def _error(exc: BaseException, request_id: str = "") -> dict[str, Any]:
    """AWS's Python runtime error shape (frames of the runtime itself left out)."""
    frames = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in frames if f.filename != __file__]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


def _load_handler(spec: str) -> Any:
    module_name, _, func_name = spec.rpartition(".")
    if not module_name:
        raise _InitError(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)",
        )
    try:
        import importlib

        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        raise _InitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        ) from None
    handler = getattr(module, func_name, None)
    if handler is None:
        raise _InitError(
            "Runtime.HandlerNotFound", f"Handler '{func_name}' missing on module '{module_name}'"
        )
    return handler


class _InitError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


# ``https://{apiId}.execute-api.{anything}/{stage}``: an API Gateway endpoint named by API id.
_EXECUTE_API = re.compile(r"^https?://([a-z0-9]+)\.execute-api\.[^/?#]+", re.IGNORECASE)


class _ExecuteApiEndpoints:
    """AWS samples build the @connections client as ``endpoint_url=f"https://{domainName}/
    {stage}"``, and an explicit endpoint beats AWS_ENDPOINT_URL. When the handler first imports
    botocore, this finder wraps ``Session.create_client`` so that such an endpoint becomes
    ``{AWS_ENDPOINT_URL}/_api/{apiId}/{stage}``, where Nimbus serves that API. The handler's code
    stays the code that runs on AWS."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "botocore.session":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run_module, base = spec.loader.exec_module, self.base

        def exec_module(module: Any) -> None:
            run_module(module)
            original = module.Session.create_client

            def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
                url = kwargs.get("endpoint_url")
                if isinstance(url, str):
                    local = _EXECUTE_API.sub(lambda m: f"{base}/_api/{m.group(1).lower()}", url)
                    kwargs["endpoint_url"] = local
                return original(session, *args, **kwargs)

            module.Session.create_client = create_client

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _set_memory_limit() -> None:
    limit = int(os.environ.get("NIMBUS_LAMBDA_MEMORY_LIMIT_BYTES", "0"))
    if limit > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> None:
    sock = socket.socket(fileno=int(os.environ.pop("NIMBUS_LAMBDA_FD")))
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    # The script's own folder must not shadow the function's modules.
    sys.path[0:1] = [
        task_root,
        *filter(None, os.environ.get("NIMBUS_LAMBDA_LAYERS", "").split(os.pathsep)),
    ]
    if os.environ.get("AWS_ENDPOINT_URL"):
        sys.meta_path.insert(0, _ExecuteApiEndpoints(os.environ["AWS_ENDPOINT_URL"]))
    sink: list[str] = []
    sys.stdout = sys.stderr = _Capture(sink)
    began = time.perf_counter()
    ready: dict[str, Any] = {"ready": True}
    handler = None
    try:
        _set_memory_limit()
        handler = _load_handler(os.environ["_HANDLER"])
    except _InitError as exc:
        ready["error"] = {
            "errorMessage": str(exc),
            "errorType": exc.error_type,
            "requestId": "",
            "stackTrace": [],
        }
    except BaseException as exc:  # any init failure is reported, not raised
        ready["error"] = _error(exc)
    ready["init_ms"] = (time.perf_counter() - began) * 1000
    ready["logs"] = "".join(sink)
    sink.clear()
    _send(sock, ready)
    if handler is None:
        return
    loads, dumps = json.loads, json.dumps
    while True:
        hlen, blen = _HEAD.unpack(_recv_exact(sock, _HEAD.size))
        head = loads(_recv_exact(sock, hlen))
        body = _recv_exact(sock, blen) if blen else b""
        began = time.perf_counter()
        reply: dict[str, Any] = {"ok": True}
        out = b""
        try:
            event = loads(body) if body else {}
            result = handler(event, Context(head))
            try:
                out = dumps(result).encode()
            except (TypeError, ValueError) as exc:
                reply["ok"] = False
                reply["error"] = {
                    "errorMessage": f"Unable to marshal response: {exc}",
                    "errorType": "Runtime.MarshalError",
                    "requestId": head["id"],
                    "stackTrace": [],
                }
        except MemoryError:
            # Out of memory: AWS kills the environment; so do we, the server reports it.
            sink.clear()
            os._exit(137)
        except Exception as exc:  # the handler's failure is the result
            err = _error(exc, head["id"])
            reply["ok"] = False
            reply["error"] = err
            trace = "".join(err["stackTrace"])
            sink.append(
                f"[ERROR] {err['errorType']}: {err['errorMessage']}\n"
                f"Traceback (most recent call last):\n{trace}"
            )
        reply["duration_ms"] = (time.perf_counter() - began) * 1000
        reply["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        reply["logs"] = "".join(sink)
        sink.clear()
        _send(sock, reply, out)


if __name__ == "__main__":
    main()
