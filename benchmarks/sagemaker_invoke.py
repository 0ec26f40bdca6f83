"""SageMaker InvokeEndpoint through boto3 on an ONNX model, next to baselines in the same run.

Budget (issue): InvokeEndpoint OverheadLatency p50 <= 1 ms (AWS's definition: time in SageMaker
minus the model's own time, reported in microseconds in the AWS/SageMaker namespace).
Baselines: the same boto3 ``invoke_endpoint`` answered by the null server (HTTP + boto3 cost
alone) and a direct in-process ONNX Runtime call doing the same JSON decode/encode.
Run: .venv/bin/python benchmarks/sagemaker_invoke.py [--n 2000]
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import statistics
import tarfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import onnxruntime as ort
from _servers import start_nimbus, start_null
from onnx import TensorProto, helper, numpy_helper


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def timed(n: int, call: Callable[[], Any]) -> list[float]:
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def digits_like_model() -> bytes:
    """A 64 -> 32 -> 10 softmax MLP: the size of the digits app's classifier."""
    rng = np.random.default_rng(0)
    w1 = numpy_helper.from_array(rng.normal(size=(64, 32)).astype(np.float32), "w1")
    b1 = numpy_helper.from_array(np.zeros(32, np.float32), "b1")
    w2 = numpy_helper.from_array(rng.normal(size=(32, 10)).astype(np.float32), "w2")
    b2 = numpy_helper.from_array(np.zeros(10, np.float32), "b2")
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Gemm", ["r", "w2", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "digits",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 64])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 10])],
        [w1, b1, w2, b2],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def tar_gz(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def deploy(nimbus: Any, onnx_bytes: bytes) -> None:
    s3, sm = nimbus.client("s3"), nimbus.client("sagemaker")
    s3.create_bucket(Bucket="bench-models")
    s3.put_object(
        Bucket="bench-models", Key="digits/model.tar.gz", Body=tar_gz("model.onnx", onnx_bytes)
    )
    sm.create_model(
        ModelName="digits",
        ExecutionRoleArn="arn:aws:iam::000000000000:role/bench",
        PrimaryContainer={
            "Image": "local/onnx:1",
            "ModelDataUrl": "s3://bench-models/digits/model.tar.gz",
        },
    )
    sm.create_endpoint_config(
        EndpointConfigName="digits",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "digits",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sm.create_endpoint(EndpointName="digits", EndpointConfigName="digits")
    sm.get_waiter("endpoint_in_service").wait(
        EndpointName="digits", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )


def overhead_from_metrics(nimbus: Any) -> dict[str, dict[str, float]]:
    cw = nimbus.client("cloudwatch")
    dims = [
        {"Name": "EndpointName", "Value": "digits"},
        {"Name": "VariantName", "Value": "AllTraffic"},
    ]
    time.sleep(0.5)  # metrics are written off the request path, in batches
    now = time.time()
    out = {}
    for metric in ("OverheadLatency", "ModelLatency"):
        points = cw.get_metric_statistics(
            Namespace="AWS/SageMaker",
            MetricName=metric,
            Dimensions=dims,
            StartTime=now - 3600,
            EndTime=now + 60,
            Period=3600,
            ExtendedStatistics=["p50", "p99"],
        )["Datapoints"]
        if points:
            best = max(points, key=lambda p: p.get("SampleCount", 0))
            out[metric] = best.get("ExtendedStatistics", {})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    onnx_bytes = digits_like_model()
    body = json.dumps({"inputs": [np.random.default_rng(1).random(64).round(3).tolist()]})

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])

    def direct_call() -> None:  # what the model host does for one request, in-process
        x = np.asarray(json.loads(body)["inputs"], dtype=np.float32)
        (probs,) = session.run(None, {"x": x})
        json.dumps({"outputs": {"probabilities": probs.tolist()}}).encode()

    direct = timed(args.n, direct_call)
    nimbus, data = start_nimbus()
    null = start_null()
    try:
        deploy(nimbus, onnx_bytes)
        rt, null_rt = nimbus.client("sagemaker-runtime"), null.client("sagemaker-runtime")

        def invoke() -> None:
            rt.invoke_endpoint(EndpointName="digits", Body=body, ContentType="application/json")[
                "Body"
            ].read()

        def null_call() -> None:
            null_rt.invoke_endpoint(
                EndpointName="digits", Body=body, ContentType="application/json"
            )["Body"].read()

        timed(200, invoke)
        timed(200, null_call)
        nimbus_s: list[float] = []
        null_s: list[float] = []
        rounds = 5
        for _ in range(rounds):  # interleaved so load drift hits both alike
            nimbus_s += timed(args.n // rounds, invoke)
            null_s += timed(args.n // rounds, null_call)
        metrics = overhead_from_metrics(nimbus)
    finally:
        nimbus.stop()
        null.stop()
        shutil.rmtree(data, ignore_errors=True)

    print(f"{'target':46} {'p50 ms':>8} {'p99 ms':>8}")
    for label, samples in (
        ("direct in-process ONNX Runtime call (+JSON)", direct),
        ("null server, boto3 invoke_endpoint", null_s),
        ("Nimbus InvokeEndpoint, boto3", nimbus_s),
    ):
        print(f"{label:46} {statistics.median(samples):8.3f} {pct(samples, 0.99):8.3f}")
    for metric, stats in metrics.items():
        print(
            f"{metric + ' (AWS/SageMaker, us)':46} {stats.get('p50', float('nan')):8.0f} "
            f"{stats.get('p99', float('nan')):8.0f}"
        )
    print(
        f"Nimbus over null server p50: "
        f"{statistics.median(nimbus_s) - statistics.median(null_s):.3f} ms; "
        "OverheadLatency budget p50 <= 1000 us"
    )
    # The samples include the model host's round trip (socketpair + thread wake-up).


if __name__ == "__main__":
    main()
