"""ListFoundationModels / GetFoundationModel: the catalog Nimbus serves, and that it serves it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import HAIKU, error_code, user_message


def test_list_filters(bedrock: Any) -> None:
    everything = bedrock.list_foundation_models()["modelSummaries"]
    assert {m["providerName"] for m in everything} >= {"Anthropic", "Amazon", "Meta"}
    for summary in everything:
        assert (
            summary["modelArn"]
            == f"arn:aws:bedrock:us-east-1::foundation-model/{summary['modelId']}"
        )
        assert summary["modelLifecycle"]["status"] == "ACTIVE"
    meta = bedrock.list_foundation_models(byProvider="meta")["modelSummaries"]
    assert meta and all(m["providerName"] == "Meta" for m in meta)
    embeddings = bedrock.list_foundation_models(byOutputModality="EMBEDDING")["modelSummaries"]
    assert {m["modelId"] for m in embeddings} == {
        "amazon.titan-embed-text-v1",
        "amazon.titan-embed-text-v2:0",
    }
    assert all(not m["responseStreamingSupported"] for m in embeddings)
    on_demand = bedrock.list_foundation_models(byInferenceType="ON_DEMAND")["modelSummaries"]
    assert len(on_demand) == len(everything)
    assert bedrock.list_foundation_models(byInferenceType="PROVISIONED")["modelSummaries"] == []
    tunable = bedrock.list_foundation_models(byCustomizationType="FINE_TUNING")["modelSummaries"]
    assert tunable and all("FINE_TUNING" in m["customizationsSupported"] for m in tunable)


def test_get_by_id_or_arn(bedrock: Any) -> None:
    details = bedrock.get_foundation_model(modelIdentifier=HAIKU)["modelDetails"]
    assert details["modelName"] == "Claude 3 Haiku" and details["inputModalities"] == [
        "TEXT",
        "IMAGE",
    ]
    by_arn = bedrock.get_foundation_model(modelIdentifier=details["modelArn"])["modelDetails"]
    assert by_arn == details
    with pytest.raises(ClientError) as info:
        bedrock.get_foundation_model(modelIdentifier="anthropic.claude-nonexistent-v1:0")
    assert error_code(info) == ("ResourceNotFoundException", 404)


def test_every_listed_model_answers(bedrock: Any, brt: Any) -> None:
    for summary in bedrock.list_foundation_models()["modelSummaries"]:
        model_id = summary["modelId"]
        if "EMBEDDING" in summary["outputModalities"]:
            body = json.loads(
                brt.invoke_model(modelId=model_id, body=json.dumps({"inputText": "x"}))[
                    "body"
                ].read()
            )
            assert body["embedding"], model_id
        else:
            reply = brt.converse(
                modelId=model_id, messages=user_message("Hello"), inferenceConfig={"maxTokens": 5}
            )
            assert reply["usage"]["outputTokens"] == 5, model_id


def test_logging_configuration_survives_a_crash(fresh_nimbus: Any) -> None:
    fresh_nimbus.client("logs").create_log_group(logGroupName="audit")
    config = {
        "cloudWatchConfig": {"logGroupName": "audit", "roleArn": "arn:aws:iam::000000000000:role/r"}
    }
    fresh_nimbus.client("bedrock").put_model_invocation_logging_configuration(loggingConfig=config)
    fresh_nimbus.kill9()
    fresh_nimbus.start()
    kept = fresh_nimbus.client("bedrock").get_model_invocation_logging_configuration()
    assert kept["loggingConfig"]["cloudWatchConfig"]["logGroupName"] == "audit"
