"""Document-typed members (free-form JSON) survive request decoding whole."""

from __future__ import annotations

import botocore.session

from nimbus.aws.protocol.native import decode


def test_document_members_pass_through_untouched() -> None:
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    shape = model.operation_model("Converse").input_shape
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    request = {
        "modelId": "m",
        "additionalModelRequestFields": {"top_k": 5, "nested": [1, {"a": None}]},
        "toolConfig": {"tools": [{"toolSpec": {"name": "w", "inputSchema": {"json": schema}}}]},
    }
    decoded = decode(shape, request)
    assert decoded["additionalModelRequestFields"] == {"top_k": 5, "nested": [1, {"a": None}]}
    assert decoded["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"] == schema
