"""template.yaml passes cfn-lint and translates with aws-sam-translator (packaged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from digits_support import APP

TEMPLATE = APP / "template.yaml"


def test_the_template_passes_cfn_lint() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    import os

    from cfnlint.decode.cfn_yaml import load as load_cfn_yaml
    from samtranslator.translator.transform import transform

    class Policies:
        def load(self) -> dict[str, str]:
            base = "arn:aws:iam::aws:policy/service-role/"
            return {"AWSLambdaBasicExecutionRole": base + "AWSLambdaBasicExecutionRole"}

    template = json.loads(json.dumps(load_cfn_yaml(str(TEMPLATE))))
    template["Globals"]["Function"]["CodeUri"] = "s3://artifacts/digits/src.zip"  # sam package
    saved = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    try:
        return transform(template, {"ModelDataUrl": "s3://b/model.tar.gz"}, Policies())
    finally:
        if saved is None:
            os.environ.pop("AWS_DEFAULT_REGION")
        else:
            os.environ["AWS_DEFAULT_REGION"] = saved


def actions(role: dict) -> dict[str, list]:
    """action -> resources over a role's inline policies."""
    out: dict[str, list] = {}
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            acts = statement["Action"]
            for action in [acts] if isinstance(acts, str) else acts:
                out.setdefault(action, []).append(statement["Resource"])
    return out


def test_resources_of_the_translated_template(translated: dict) -> None:
    resources = translated["Resources"]
    types = {r["Type"] for r in resources.values()}
    for expected in ("AWS::ApiGatewayV2::Api", "AWS::Lambda::Function", "AWS::IAM::Role",
                     "AWS::DynamoDB::Table", "AWS::SageMaker::Model",
                     "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Endpoint",
                     "AWS::S3::Bucket", "AWS::S3::BucketPolicy"):  # fmt: skip
        assert expected in types
    table = resources["PredictionHistory"]["Properties"]
    assert table["TableName"] == "PredictionHistory"
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    api = resources["ServerlessHttpApi"]["Properties"]["Body"]
    assert set(api["paths"]) == {"/predict", "/history"}
    assert "post" in api["paths"]["/predict"] and "get" in api["paths"]["/history"]
    assert api["x-amazon-apigateway-cors"]["allowOrigins"] == ["*"]  # the parameter default
    for fn in ("PredictFunction", "HistoryFunction"):
        assert resources[fn]["Properties"]["Runtime"] == "python3.12"
    assert set(translated["Outputs"]) >= {"ApiUrl", "WebsiteUrl", "EndpointName"}


def test_the_predict_role_may_write_and_invoke_its_endpoint_but_not_delete(translated) -> None:
    resources = translated["Resources"]
    predict = actions(resources["PredictFunctionRole"])
    assert "dynamodb:PutItem" in predict
    assert "dynamodb:DeleteItem" not in predict and "dynamodb:Query" not in predict
    assert predict["sagemaker:InvokeEndpoint"] == [{"Ref": "Endpoint"}]
    read = actions(resources["HistoryFunctionRole"])
    assert "dynamodb:Query" in read
    assert not {"dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"} & set(read)
    assert not any(a.startswith("sagemaker:") for a in read)


def test_the_model_uses_the_regional_scikit_learn_image_and_the_framework_contract(
    translated: dict,
) -> None:
    model = translated["Resources"]["Model"]["Properties"]["PrimaryContainer"]
    assert model["ModelDataUrl"] == {"Ref": "ModelDataUrl"}
    assert model["Environment"]["SAGEMAKER_PROGRAM"] == "inference.py"
    assert model["Environment"]["SAGEMAKER_SUBMIT_DIRECTORY"] == "/opt/ml/model/code"
    image = json.dumps(model["Image"])
    assert "sagemaker-scikit-learn:1.2-1-cpu-py3" in image and "SklearnImageAccount" in image
    mapping = translated["Mappings"]["SklearnImageAccount"]
    assert mapping["us-east-1"]["Account"] == "683313688378"
    assert len(mapping) >= 20
