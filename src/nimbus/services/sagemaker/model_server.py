"""One production variant's model, served in its own process (run as a script).

It imports nothing from Nimbus. The model loads once; requests arrive over the socket inherited
as fd ``NIMBUS_SM_FD`` as frames of ``>II`` (header length, body length) + header JSON + body,
and run on a thread pool (ONNX Runtime and numpy release the GIL), so one variant serves many
requests at once. Replies carry the request's ``id``; they may come back out of order.

- host -> server, once: ``{"ready": true, "load_ms", "kind", "error"?}``
- server -> host: ``{"id", "ct", "accept", "ca"?}`` + body (``ca``: CustomAttributes)
- host -> server: ``{"id", "status", "ct", "model_us", "ca"?, "error"?}`` + body

Two contracts: the SageMaker inference toolkit's (``code/inference.py`` or ``SAGEMAKER_PROGRAM``
with ``model_fn``/``input_fn``/``predict_fn``/``output_fn`` or ``transform_fn``, defaults for
the missing ones), and an ONNX Runtime fast path for a ``model.onnx`` with no code.
"""

from __future__ import annotations

import importlib.util
import inspect
import io
import json
import os
import socket
import struct
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

_HEAD = struct.Struct(">II")
JSON, CSV, NPY = "application/json", "text/csv", "application/x-npy"


class UnsupportedFormat(Exception):
    """The toolkit's UnsupportedFormatError: answered with 415."""

    status = 415


def _np() -> Any:
    import numpy

    return numpy


# -- the toolkit's default decoders and encoders ------------------------------------------------
def decode(body: bytes, content_type: str) -> Any:
    np = _np()
    kind = (content_type or JSON).split(";")[0].strip().lower()
    if kind == JSON:
        return np.array(json.loads(body))
    if kind == CSV:
        return np.genfromtxt(io.StringIO(body.decode()), delimiter=",", ndmin=2)
    if kind == NPY:
        return np.load(io.BytesIO(body), allow_pickle=False)
    raise UnsupportedFormat(f"Content type {content_type} is not supported by this framework.")


def _plain(value: Any) -> Any:
    """numpy values (and lists/dicts of them, as sklearn-onnx's ZipMap gives) -> JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def encode(prediction: Any, accept: str) -> bytes:
    kind = (accept or JSON).split(";")[0].strip().lower()
    if kind == JSON:
        return json.dumps(_plain(prediction)).encode()
    np = _np()
    if kind == CSV:
        out = io.StringIO()
        np.savetxt(out, np.atleast_1d(np.asarray(prediction)), delimiter=",", fmt="%s")
        return out.getvalue().encode()
    if kind == NPY:
        buf = io.BytesIO()
        np.save(buf, np.asarray(prediction), allow_pickle=False)
        return buf.getvalue()
    raise UnsupportedFormat(f"Accept type {accept} is not supported by this framework.")


def _accept(accept: str) -> str:
    return JSON if not accept or accept.strip() == "*/*" else accept


class Context:
    """The toolkit's per-request ``context`` (handlers that take one more argument get it).

    Custom attributes travel as the ``X-Amzn-SageMaker-Custom-Attributes`` header both ways,
    as in the inference toolkit's multi-model-server context.
    """

    HEADER = "x-amzn-sagemaker-custom-attributes"

    def __init__(self, custom_attributes: str | None) -> None:
        self.custom_attributes = custom_attributes
        self.response_custom_attributes: str | None = None

    def get_request_header(self, idx: int, key: str) -> str | None:
        return self.custom_attributes if key.lower() == self.HEADER else None

    def set_response_header(self, idx: int, key: str, value: str) -> None:
        if key.lower() == self.HEADER:
            self.response_custom_attributes = value


def _takes_context(fn: Any, args: int) -> bool:
    try:
        return len(inspect.signature(fn).parameters) == args + 1
    except (TypeError, ValueError):
        return False


# -- the two contracts --------------------------------------------------------------------------
class FrameworkModel:
    """``inference.py`` as the SageMaker inference toolkit runs it."""

    kind = "framework"

    def __init__(self, model_dir: Path, script: Path) -> None:
        sys.path.insert(0, str(script.parent))
        spec = importlib.util.spec_from_file_location(script.stem, script)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[script.stem] = module
        spec.loader.exec_module(module)
        self.module = module
        model_fn = getattr(module, "model_fn", None)
        if model_fn is None:
            raise RuntimeError(f"{script.name} defines no model_fn(model_dir); please provide one.")
        self.model = model_fn(str(model_dir))
        # Which handlers want the per-request context, decided once as the toolkit does.
        arity = {"transform_fn": 4, "input_fn": 2, "predict_fn": 2, "output_fn": 2}
        self.with_context = {
            name
            for name, args in arity.items()
            if _takes_context(getattr(module, name, None), args)
        }

    def _run(self, name: str, default: Any, context: Context, *args: Any) -> Any:
        fn = getattr(self.module, name, default)
        return fn(*args, context) if name in self.with_context else fn(*args)

    def __call__(
        self, body: bytes, content_type: str, accept: str, context: Context
    ) -> tuple[bytes, str]:
        m = self.module
        if getattr(m, "transform_fn", None) is not None:
            out = self._run("transform_fn", None, context, self.model, body, content_type, accept)
            return out if isinstance(out, tuple) else (out, accept)
        data = self._run("input_fn", decode, context, body, content_type)
        if getattr(m, "predict_fn", None) is not None:
            prediction = self._run("predict_fn", None, context, data, self.model)
        elif hasattr(self.model, "predict"):  # the scikit-learn container's default
            prediction = self.model.predict(data)
        else:
            prediction = self.model(data)
        out = self._run("output_fn", encode, context, prediction, accept)
        if isinstance(out, tuple):  # some handlers return (body, content type)
            return out[0], out[1]
        return out, accept


_ONNX_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(uint8)": "uint8",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


class OnnxModel:
    """``model.onnx`` in ONNX Runtime: JSON ``{"inputs": ...}``, a bare list, or NPY in."""

    kind = "onnx"

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        # Small models answer fastest single-threaded; requests already run in parallel.
        options.intra_op_num_threads = int(os.environ.get("NIMBUS_SM_ONNX_THREADS", "1"))
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = self.session.get_inputs()
        self.outputs = [o.name for o in self.session.get_outputs()]

    def _feed(self, body: bytes, content_type: str) -> dict[str, Any]:
        np = _np()
        kind = (content_type or JSON).split(";")[0].strip().lower()
        if kind == JSON:
            doc = json.loads(body)
            if isinstance(doc, dict):
                doc = doc.get("inputs", doc.get("instances", doc))
            named = doc if isinstance(doc, dict) else {self.inputs[0].name: doc}
        else:
            named = {self.inputs[0].name: decode(body, content_type)}
        feed = {}
        for spec in self.inputs:
            if spec.name not in named:
                raise ValueError(
                    f"Missing input '{spec.name}'; the model takes {[i.name for i in self.inputs]}."
                )
            value = np.asarray(named[spec.name], dtype=_ONNX_TYPES.get(spec.type))
            rank = len(spec.shape)
            if value.ndim == rank - 1:  # one instance without its batch axis
                value = value[None, ...]
            feed[spec.name] = value
        return feed

    def __call__(
        self, body: bytes, content_type: str, accept: str, context: Context
    ) -> tuple[bytes, str]:
        results = self.session.run(None, self._feed(body, content_type))
        kind = accept.split(";")[0].strip().lower()
        if kind == NPY and len(results) == 1:
            return encode(results[0], NPY), NPY
        if kind != JSON:
            raise UnsupportedFormat(f"Accept type {accept} is not supported by the ONNX server.")
        outputs = {name: _plain(value) for name, value in zip(self.outputs, results, strict=True)}
        return json.dumps({"outputs": outputs}).encode(), JSON


def load(model_dir: Path) -> Any:
    program = os.environ.get("SAGEMAKER_PROGRAM") or "inference.py"
    script = model_dir / "code" / program
    if not script.is_file() and (model_dir / program).is_file():
        script = model_dir / program
    if script.is_file():
        return FrameworkModel(model_dir, script)
    onnx = model_dir / "model.onnx"
    if not onnx.is_file():
        found = sorted(model_dir.glob("*.onnx"))
        onnx = found[0] if len(found) == 1 else onnx
    if onnx.is_file():
        return OnnxModel(onnx)
    raise RuntimeError(
        f"The model archive has neither code/{program} (the SageMaker framework contract) nor "
        "a model.onnx at its root (the ONNX fast path)."
    )


# -- the serving loop ---------------------------------------------------------------------------
def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            os._exit(0)  # the server went away: this host is done
        buf += chunk
    return bytes(buf)


class Server:
    def __init__(self, sock: socket.socket, model: Any) -> None:
        self.sock = sock
        self.model = model
        self.lock = threading.Lock()
        self.read_lock = threading.Lock()

    def send(self, head: dict[str, Any], body: bytes = b"") -> None:
        data = json.dumps(head).encode()
        with self.lock:
            self.sock.sendall(_HEAD.pack(len(data), len(body)) + data + body)

    def handle(self, head: dict[str, Any], body: bytes) -> None:
        began = time.perf_counter()
        reply: dict[str, Any] = {"id": head["id"], "status": 200}
        out = b""
        context = Context(head.get("ca"))
        try:
            out, ct = self.model(
                body, head.get("ct") or JSON, _accept(head.get("accept", "")), context
            )
            if isinstance(out, str):
                out = out.encode()
            reply["ct"] = ct
            if context.response_custom_attributes is not None:
                reply["ca"] = context.response_custom_attributes
        except Exception as exc:  # the model's failure is the answer
            reply["status"] = getattr(exc, "status", 500)
            reply["error"] = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        reply["model_us"] = int((time.perf_counter() - began) * 1e6)
        self.send(reply, bytes(out))

    def serve(self, threads: int) -> None:
        """Leader/followers: whichever thread reads a request also runs it, and the next idle
        thread takes over reading, so a request costs one thread wake-up, not a hand-off."""
        workers = [threading.Thread(target=self._follow, daemon=True) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def _follow(self) -> None:
        loads = json.loads
        while True:
            with self.read_lock:
                hlen, blen = _HEAD.unpack(_recv_exact(self.sock, _HEAD.size))
                head = loads(_recv_exact(self.sock, hlen))
                body = _recv_exact(self.sock, blen) if blen else b""
            self.handle(head, body)


def main() -> None:
    sock = socket.socket(fileno=int(os.environ.pop("NIMBUS_SM_FD")))
    model_dir = Path(os.environ["SM_MODEL_DIR"])
    sys.path[0:1] = [p for p in os.environ.get("NIMBUS_SM_DEPS", "").split(os.pathsep) if p]
    began = time.perf_counter()
    ready: dict[str, Any] = {"ready": True}
    model = None
    try:
        model = load(model_dir)
        ready["kind"] = model.kind
    except BaseException as exc:  # a load failure is reported, not raised
        ready["error"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    ready["load_ms"] = (time.perf_counter() - began) * 1000
    server = Server(sock, model)
    server.send(ready)
    if model is not None:
        server.serve(int(os.environ.get("NIMBUS_SM_THREADS", "4")))


if __name__ == "__main__":
    main()
