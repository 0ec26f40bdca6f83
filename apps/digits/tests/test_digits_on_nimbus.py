"""The real thing on a live Nimbus: the model trained by a SageMaker training job, the stack
deployed with ``nimbus deploy``, predictions through HTTP API -> Lambda -> endpoint -> table.

The deployment (``on_nimbus`` in conftest.py) is shared with test_digits_on_nimbus_browser.py.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from digits_support import dark_on_light, digit_ink, encode, light_on_dark


def http(method: str, url: str, body: bytes | None = None, content_type: str = "image/png",
         language: str = "en") -> tuple[int, dict]:  # fmt: skip
    request = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        request.add_header("content-type", content_type)
    request.add_header("accept-language", language)
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def history(api: str, limit: int = 50) -> list[dict]:
    status, page = http("GET", f"{api}/history?limit={limit}")
    assert status == 200, page
    return page["items"]


def count_items(on_nimbus) -> int:
    table = on_nimbus.outputs.get("TableName", "PredictionHistory")
    return on_nimbus.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]


@pytest.fixture(scope="module")
def api(on_nimbus) -> str:
    url = on_nimbus.outputs["ApiUrl"].rstrip("/")
    assert url.startswith(on_nimbus.server.endpoint), url
    return url


def test_the_training_job_completed_with_the_accuracy_metric(on_nimbus) -> None:
    sagemaker = on_nimbus.client("sagemaker")
    jobs = sagemaker.list_training_jobs()["TrainingJobSummaries"]
    assert len(jobs) == 1
    job = sagemaker.describe_training_job(TrainingJobName=jobs[0]["TrainingJobName"])
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == on_nimbus.model_data_url
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert metrics["test:accuracy"] >= 0.97, metrics


def test_the_endpoint_is_in_service(on_nimbus) -> None:
    name = on_nimbus.outputs["EndpointName"]
    endpoint = on_nimbus.client("sagemaker").describe_endpoint(EndpointName=name)
    assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")


@pytest.mark.parametrize("digit", [0, 3, 7])
def test_predict_returns_the_digit_and_history_shows_it_newest_first(api, digit) -> None:
    status, answer = http("POST", f"{api}/predict", encode(dark_on_light(digit_ink(digit))))
    assert status == 200, answer
    assert answer["prediction"] == digit
    assert len(answer["probabilities"]) == 10
    assert abs(sum(answer["probabilities"]) - 1.0) < 1e-3
    newest = history(api)[0]
    assert newest["id"] == answer["id"]
    assert newest["prediction"] == digit


def test_history_is_newest_first(api) -> None:
    first = http("POST", f"{api}/predict", encode(light_on_dark(digit_ink(1))))[1]
    second = http("POST", f"{api}/predict", encode(dark_on_light(digit_ink(8)), "JPEG"))[1]
    assert (first["prediction"], second["prediction"]) == (1, 8)
    items = history(api)
    ids = [item["id"] for item in items]
    assert ids.index(second["id"]) < ids.index(first["id"])
    times = [item["created_at"] for item in items]
    assert times == sorted(times, reverse=True)


def test_bad_input_is_refused_and_writes_nothing(on_nimbus, api) -> None:
    before = count_items(on_nimbus)
    status, answer = http("POST", f"{api}/predict", b"this is not an image", "text/plain")
    assert status == 400 and answer["error"] == "not_image", answer
    status, answer = http("POST", f"{api}/predict", b"", "image/png")
    assert status == 400, answer
    # Over 5 MB: base64-encoded in the event it is over Lambda's 6 MB too, so API Gateway
    # answers 413 itself (the page checks the size first and says so in the user's language).
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024 + 10)
    status, answer = http("POST", f"{api}/predict", big)
    assert status == 413, answer
    just_over = b'{"image": "' + b"A" * (5 * 1024 * 1024 * 4 // 3 + 8) + b'"}'
    status, answer = http("POST", f"{api}/predict", just_over, "application/json")
    assert status == 413, answer
    blank = encode(dark_on_light(digit_ink(5) * 0.0))
    status, answer = http("POST", f"{api}/predict", blank, language="vi")
    assert status == 400 and answer["error"] == "no_digit", answer
    assert answer["message"] == "Không tìm thấy chữ số nào trong ảnh."
    assert count_items(on_nimbus) == before


def test_the_predict_role_cannot_delete_history(on_nimbus, api) -> None:
    answer = http("POST", f"{api}/predict", encode(dark_on_light(digit_ink(2))))[1]
    functions = on_nimbus.client("lambda").list_functions()["Functions"]
    name = next(f["FunctionName"] for f in functions if "PredictFunction" in f["FunctionName"])
    role = on_nimbus.client("lambda").get_function_configuration(FunctionName=name)["Role"]
    creds = on_nimbus.client("sts").assume_role(RoleArn=role, RoleSessionName="e2e")["Credentials"]
    as_predict = boto3.client(
        "dynamodb",
        endpoint_url=on_nimbus.server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(retries={"max_attempts": 1}),
    )
    item = next(i for i in history(api) if i["id"] == answer["id"])
    key = {"pk": {"S": "predictions"}, "sk": {"S": f"{item['created_at']}#{item['id']}"}}
    with pytest.raises(ClientError) as denied:
        as_predict.delete_item(TableName="PredictionHistory", Key=key)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert on_nimbus.client("dynamodb").get_item(TableName="PredictionHistory", Key=key)["Item"]
    probe = {"pk": {"S": "probe"}, "sk": {"S": "written-by-the-predict-role"}}
    as_predict.put_item(TableName="PredictionHistory", Item=probe)  # writing is allowed


def test_invoke_endpoint_directly_with_a_png(on_nimbus) -> None:
    runtime = on_nimbus.client("sagemaker-runtime")
    reply = runtime.invoke_endpoint(
        EndpointName=on_nimbus.outputs["EndpointName"],
        ContentType="image/png",
        Accept="application/json",
        Body=encode(dark_on_light(digit_ink(4))),
    )
    result = json.loads(reply["Body"].read())
    assert result["prediction"] == 4
    assert len(result["probabilities"]) == 10
    assert reply["InvokedProductionVariant"] == "AllTraffic"
    with pytest.raises(ClientError) as refused:
        runtime.invoke_endpoint(
            EndpointName=on_nimbus.outputs["EndpointName"],
            ContentType="image/png",
            Body=b"not a png",
        )
    assert refused.value.response["Error"]["Code"] == "ModelError"
