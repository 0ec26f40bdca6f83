"""boto3 sagemaker-runtime InvokeEndpoint against a live Nimbus: both contracts and failures."""

from __future__ import annotations

import io
import json
import time
from collections import Counter
from typing import Any

import numpy as np

from .conftest import Deployer, error_of, scale_model

INFERENCE = """
import json
import os

import numpy as np


def model_fn(model_dir):
    with open(os.path.join(model_dir, "weights.json")) as f:
        return np.array(json.load(f))


def input_fn(body, content_type):
    if content_type != "application/json":
        raise ValueError(f"unsupported content type {content_type}")
    doc = json.loads(body)
    if doc.get("explode"):
        raise RuntimeError("the model refuses: " + doc["explode"])
    return np.array(doc["x"], dtype=float)


def predict_fn(data, model):
    print("predicting", data.shape)
    return data @ model


def output_fn(prediction, accept):
    return json.dumps({"y": prediction.tolist()}), "application/json"
"""


def test_onnx_fast_path(deploy: Deployer) -> None:
    name = deploy.onnx_endpoint(scale=3.0)
    rt = deploy.runtime
    reply = rt.invoke_endpoint(
        EndpointName=name, ContentType="application/json", Body=json.dumps({"inputs": [[1, 2, 3]]})
    )
    assert reply["InvokedProductionVariant"] == "AllTraffic"
    assert reply["ContentType"] == "application/json"
    assert json.loads(reply["Body"].read()) == {"outputs": {"y": [[3.0, 6.0, 9.0]]}}
    # A bare instance without its batch axis, and NPY in and out.
    reply = rt.invoke_endpoint(EndpointName=name, Body=b"[1, 1, 1]")
    assert json.loads(reply["Body"].read())["outputs"]["y"] == [[3.0, 3.0, 3.0]]
    buf = io.BytesIO()
    np.save(buf, np.ones((2, 3), dtype=np.float32))
    reply = rt.invoke_endpoint(
        EndpointName=name,
        Body=buf.getvalue(),
        ContentType="application/x-npy",
        Accept="application/x-npy",
    )
    assert reply["ContentType"] == "application/x-npy"
    assert np.load(io.BytesIO(reply["Body"].read())).tolist() == [[3.0] * 3] * 2


def test_framework_contract_and_model_error(deploy: Deployer) -> None:
    weights = json.dumps([[1.0], [2.0], [3.0]])
    model = deploy.model(
        {"code/serve.py": INFERENCE, "weights.json": weights}, env={"SAGEMAKER_PROGRAM": "serve.py"}
    )
    name = deploy.endpoint(deploy.config(("Primary", model, 1.0)))
    rt = deploy.runtime
    reply = rt.invoke_endpoint(
        EndpointName=name,
        ContentType="application/json",
        Body=json.dumps({"x": [[1, 1, 1], [0, 0, 1]]}),
    )
    assert json.loads(reply["Body"].read()) == {"y": [[6.0], [3.0]]}
    assert reply["InvokedProductionVariant"] == "Primary"
    code, status, response = error_of(
        rt.invoke_endpoint,
        EndpointName=name,
        ContentType="application/json",
        Body=json.dumps({"explode": "bad pixels"}),
    )
    assert (code, status) == ("ModelError", 424)
    assert response["OriginalStatusCode"] == 500
    assert "the model refuses: bad pixels" in response["OriginalMessage"]
    assert response["LogStreamArn"].endswith(f":log-group:/aws/sagemaker/Endpoints/{name}")


def test_default_handlers_decode_csv(deploy: Deployer) -> None:
    source = "def model_fn(model_dir):\n    return lambda data: data.sum(axis=1)\n"
    model = deploy.model({"code/inference.py": source})
    name = deploy.endpoint(deploy.config(("AllTraffic", model, 1.0)))
    reply = deploy.runtime.invoke_endpoint(
        EndpointName=name, ContentType="text/csv", Body=b"1,2,3\n4,5,6\n", Accept="text/csv"
    )
    assert reply["Body"].read().decode().split() == ["6.0", "15.0"]
    code, status, response = error_of(
        deploy.runtime.invoke_endpoint, EndpointName=name, ContentType="image/png", Body=b"\x89PNG"
    )
    assert (code, status, response["OriginalStatusCode"]) == ("ModelError", 424, 415)


CONTEXT_INFERENCE = """
def model_fn(model_dir):
    return None

def input_fn(body, content_type, context):
    return body.decode(), context.get_request_header(0, "X-Amzn-SageMaker-Custom-Attributes")

def predict_fn(data, model):
    return data

def output_fn(prediction, accept, context):
    text, attributes = prediction
    context.set_response_header(0, "X-Amzn-SageMaker-Custom-Attributes", f"seen={attributes}")
    return text.upper()
"""


def test_custom_attributes_reach_the_handlers_and_come_back(deploy: Deployer) -> None:
    model = deploy.model({"code/inference.py": CONTEXT_INFERENCE})
    name = deploy.endpoint(deploy.config(("AllTraffic", model, 1.0)))
    reply = deploy.runtime.invoke_endpoint(
        EndpointName=name, ContentType="text/plain", Body=b"ok", CustomAttributes="trace=7"
    )
    assert reply["Body"].read() == b"OK"
    assert reply["CustomAttributes"] == "seen=trace=7"
    # Without attributes the handler sees None, and an ONNX endpoint never echoes any.
    plain = deploy.runtime.invoke_endpoint(EndpointName=name, ContentType="text/plain", Body=b"a")
    assert plain["CustomAttributes"] == "seen=None"
    onnx = deploy.runtime.invoke_endpoint(
        EndpointName=deploy.onnx_endpoint(),
        ContentType="application/json",
        Body=b"[1, 1, 1]",
        CustomAttributes="ignored",
    )
    assert "CustomAttributes" not in onnx


def test_weights_and_target_variant(deploy: Deployer) -> None:
    a = deploy.model({"model.onnx": scale_model(1.0)})
    b = deploy.model({"model.onnx": scale_model(10.0)})
    name = deploy.endpoint(deploy.config(("A", a, 3.0), ("B", b, 1.0)))
    counts: Counter[str] = Counter()
    for _ in range(300):
        reply = deploy.runtime.invoke_endpoint(EndpointName=name, Body=b"[1, 1, 1]")
        variant = reply["InvokedProductionVariant"]
        expected = 1.0 if variant == "A" else 10.0
        assert json.loads(reply["Body"].read())["outputs"]["y"] == [[expected] * 3]
        counts[variant] += 1
    assert 180 <= counts["A"] <= 270, counts  # 225 expected; > 5 sigma either way
    for _ in range(5):
        reply = deploy.runtime.invoke_endpoint(
            EndpointName=name, Body=b"[1,1,1]", TargetVariant="B"
        )
        assert reply["InvokedProductionVariant"] == "B"
    code, status, _ = error_of(
        deploy.runtime.invoke_endpoint, EndpointName=name, Body=b"[1,1,1]", TargetVariant="C"
    )
    assert (code, status) == ("ValidationError", 400)
    deploy.sm.update_endpoint_weights_and_capacities(
        EndpointName=name, DesiredWeightsAndCapacities=[{"VariantName": "A", "DesiredWeight": 0}]
    )
    variants = {
        reply["InvokedProductionVariant"]
        for reply in (
            deploy.runtime.invoke_endpoint(EndpointName=name, Body=b"[1,1,1]") for _ in range(20)
        )
    }
    assert variants == {"B"}
    described = deploy.sm.describe_endpoint(EndpointName=name)["ProductionVariants"]
    assert {v["VariantName"]: v["CurrentWeight"] for v in described} == {"A": 0.0, "B": 1.0}


def test_unknown_endpoint_and_payload_limit(deploy: Deployer) -> None:
    rt = deploy.runtime
    code, status, response = error_of(rt.invoke_endpoint, EndpointName="nowhere", Body=b"{}")
    assert (code, status) == ("ValidationError", 400)
    assert response["Error"]["Message"] == "Endpoint nowhere of account 000000000000 not found."
    name = deploy.onnx_endpoint()
    code, status, _ = error_of(
        rt.invoke_endpoint, EndpointName=name, Body=b"[" + b"1," * (3 * 1024 * 1024 + 10) + b"1]"
    )
    assert status == 413 and code == "ValidationError"


def test_metrics_and_logs(deploy: Deployer, aws: Any) -> None:
    model = deploy.model(
        {"code/inference.py": INFERENCE, "weights.json": json.dumps([[1.0], [1.0], [1.0]])}
    )
    name = deploy.endpoint(deploy.config(("AllTraffic", model, 1.0)))
    for _ in range(3):
        deploy.runtime.invoke_endpoint(
            EndpointName=name, ContentType="application/json", Body=json.dumps({"x": [[1, 2, 3]]})
        )
    error_of(
        deploy.runtime.invoke_endpoint,
        EndpointName=name,
        ContentType="application/json",
        Body=json.dumps({"explode": "x"}),
    )
    cw, logs = aws("cloudwatch"), aws("logs")
    dims = [{"Name": "EndpointName", "Value": name}, {"Name": "VariantName", "Value": "AllTraffic"}]

    def total(metric: str, stat: str = "Sum") -> float:
        now = time.time()
        points = cw.get_metric_statistics(
            Namespace="AWS/SageMaker",
            MetricName=metric,
            Dimensions=dims,
            StartTime=now - 600,
            EndTime=now + 60,
            Period=60,
            Statistics=[stat],
        )["Datapoints"]
        return sum(p[stat] for p in points)

    deadline = time.monotonic() + 20
    while total("Invocations") < 4 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert total("Invocations") == 4
    assert total("Invocation5XXErrors") == 1 and total("Invocation4XXErrors") == 0
    assert total("ModelLatency", "SampleCount") == 4
    assert total("OverheadLatency", "SampleCount") == 4
    group = f"/aws/sagemaker/Endpoints/{name}"
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert streams and streams[0]["logStreamName"].startswith("AllTraffic/")
    events = logs.filter_log_events(logGroupName=group)["events"]
    text = "\n".join(e["message"] for e in events)
    assert "predicting (1, 3)" in text and "RuntimeError" in text


def test_crashed_model_server_is_replaced(deploy: Deployer) -> None:
    source = (
        "import os\n\ndef model_fn(model_dir):\n    return None\n\n"
        "def transform_fn(model, body, content_type, accept):\n"
        "    if body == b'crash':\n        os._exit(3)\n    return b'ok', 'text/plain'\n"
    )
    name = deploy.endpoint(
        deploy.config(("AllTraffic", deploy.model({"code/inference.py": source}), 1.0))
    )
    rt = deploy.runtime
    code, status, response = error_of(rt.invoke_endpoint, EndpointName=name, Body=b"crash")
    assert (code, status, response["OriginalStatusCode"]) == ("ModelError", 424, 500)
    deadline = time.monotonic() + 60
    while True:
        try:
            assert rt.invoke_endpoint(EndpointName=name, Body=b"x")["Body"].read() == b"ok"
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
