"""The digits app's POST /predict end to end on Nimbus (HTTP API -> Lambda -> SageMaker endpoint
-> DynamoDB), next to a bare Starlette + ONNX Runtime + SQLite app doing the same work, same run.

Budget (issue 4): p50 <= 5 ms at 1 connection and >= 300 requests/s at 16 connections.
Both sides take the same PNG, decode it with Pillow and preprocess it with the app's
training/inference.py, run the same model.onnx with ONNX Runtime, insert the prediction into a
table (Nimbus: DynamoDB PutItem from the Lambda function; baseline: SQLite WAL insert and commit)
and answer the same JSON. The model is trained here with train.py (small settings: the model's
shape, and so its cost, is the default one); the app is deployed with ``nimbus deploy``.
Run: .venv/bin/python benchmarks/digits_predict.py [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import _load as load
from _servers import Server, free_port, start_nimbus

REPO = Path(__file__).resolve().parents[1]
APP = REPO / "apps" / "digits"
FAST_TRAINING = ["--augment", "2", "--epochs", "15"]

BASELINE_APP = r"""
import json, sqlite3, sys, time, uuid
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

sys.path.insert(0, sys.argv[2] + "/code")
import inference

model = inference.model_fn(sys.argv[2])
db = sqlite3.connect(sys.argv[3], isolation_level=None, check_same_thread=False)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
db.execute("CREATE TABLE IF NOT EXISTS history (pk TEXT, sk TEXT, item TEXT, PRIMARY KEY (pk, sk))")


async def predict(request):
    body = await request.body()
    started = time.perf_counter()
    try:
        data = inference.input_fn(body, request.headers.get("content-type", "image/png"))
    except ValueError as exc:
        return Response(json.dumps({"error": str(exc)}), 400, media_type="application/json")
    result = json.loads(inference.output_fn(inference.predict_fn(data, model), "application/json"))
    probabilities = result["probabilities"]
    record = {
        "id": uuid.uuid4().hex,
        "prediction": result["prediction"],
        "confidence": probabilities[result["prediction"]],
        "probabilities": probabilities,
        "latency_ms": round((time.perf_counter() - started) * 1000.0, 2),
        "created_at": datetime.now(UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
    }
    db.execute("INSERT INTO history VALUES (?, ?, ?)",
               ("predictions", record["created_at"] + "#" + record["id"], json.dumps(record)))
    return Response(json.dumps(record), 200, media_type="application/json")


app = Starlette(routes=[Route("/predict", predict, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
            lifespan="off", access_log=False, log_level="warning")
"""


def digit_png() -> bytes:
    """A handwritten 7 from scikit-learn's digits, upscaled to 160x160, dark on light."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = (digits.images[np.flatnonzero(digits.target == 7)[-1]] / 16.0).astype(np.float32)
    big = np.asarray(Image.fromarray(small, mode="F").resize((160, 160), Image.Resampling.BILINEAR))
    ink = np.clip((big - 0.25) * 2.5, 0.0, 1.0)
    buffer = io.BytesIO()
    Image.fromarray((255.0 * (1.0 - ink)).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def measure(port: int, path: str, body: bytes, seconds: float, conns: int):
    return load.measure(
        port, "POST", path, seconds, conns, body=body, content_type="image/png",
        ok=lambda reply: b'"prediction": ' in reply,
    )  # fmt: skip


def train_model(work: Path) -> Path:
    model_dir = work / "model"
    model_dir.mkdir()
    env = {**os.environ, "SM_MODEL_DIR": str(model_dir)}
    subprocess.run(
        [sys.executable, str(APP / "training" / "train.py"), *FAST_TRAINING],
        env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return model_dir


def deploy(nimbus: Server, model_dir: Path, work: Path) -> str:
    archive = work / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(model_dir)), recursive=False)
    s3 = nimbus.client("s3")
    s3.create_bucket(Bucket="digits-bench")
    s3.upload_file(str(archive), "digits-bench", "model.tar.gz")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    cmd = [sys.executable, "-m", "nimbus", "deploy", str(APP / "template.yaml"), "--json"]
    cmd += ["--stack-name", "digits", "--endpoint-url", nimbus.endpoint]
    cmd += ["--parameter-overrides", "ModelDataUrl=s3://digits-bench/model.tar.gz"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    api = json.loads(done.stdout)["ApiUrl"].rstrip("/")
    return api.removeprefix(nimbus.endpoint) + "/predict"


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="digits-bench-"))
    body = digit_png()
    model_dir = train_model(work)
    port = free_port()
    baseline = Server(
        "baseline",
        [sys.executable, "-c", BASELINE_APP, str(port), str(model_dir), str(work / "h.db")],
        port,
        "",
    )
    nimbus, data = start_nimbus()
    try:
        targets = {"starlette+onnx+sqlite": (baseline.port, "/predict"),
                   "nimbus": (nimbus.port, deploy(nimbus, model_dir, work))}  # fmt: skip
        for target_port, path in targets.values():  # warm workers, model and caches
            measure(target_port, path, body, 1.0, args.connections)
        single: dict[str, list[float]] = {name: [] for name in targets}
        rps: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(args.rounds):  # interleaved: drift on the machine hits both alike
            for name, (target_port, path) in targets.items():
                single[name].extend(measure(target_port, path, body, args.seconds, 1)[1])
                rps[name].append(
                    measure(target_port, path, body, args.seconds, args.connections)[0]
                )
        print(f"POST /predict with a {len(body)} B PNG; {args.rounds} x {args.seconds:.0f} s "
              f"per target and load; {os.cpu_count()} CPUs")  # fmt: skip
        print(f"{'target':24} {'p50 1c ms':>10} {'p99 1c ms':>10} {'req/s 16c':>10}")
        for name in targets:
            p50, p99 = statistics.median(single[name]), pct(single[name], 0.99)
            print(f"{name:24} {p50:10.2f} {p99:10.2f} {statistics.median(rps[name]):10.0f}")
        p50 = statistics.median(single["nimbus"])
        throughput = statistics.median(rps["nimbus"])
        ok = p50 <= 5.0 and throughput >= 300
        share = throughput / statistics.median(rps["starlette+onnx+sqlite"])
        verdict = "met" if ok else "NOT met"
        print(
            f"budget p50 <= 5 ms and >= 300 req/s: {verdict} "
            f"(p50 {p50:.2f} ms, {throughput:.0f} req/s; {share:.0%} of the baseline)"
        )
    finally:
        nimbus.stop()
        baseline.stop()
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
