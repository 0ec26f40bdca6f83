"""Request parsing and response serialization driven by botocore's service models."""

from __future__ import annotations

from nimbus.aws.protocol.base import WireProtocol
from nimbus.aws.protocol.cbor import CborProtocol
from nimbus.aws.protocol.json_rpc import JsonProtocol
from nimbus.aws.protocol.query import QueryProtocol
from nimbus.aws.protocol.rest_json import RestJsonProtocol
from nimbus.aws.protocol.rest_xml import RestXmlProtocol

__all__ = ["PROTOCOLS", "WireProtocol"]

PROTOCOLS: dict[str, WireProtocol] = {
    "json": JsonProtocol(),
    "rest-json": RestJsonProtocol(),
    "rest-xml": RestXmlProtocol(),
    "query": QueryProtocol(),
    "smithy-rpc-v2-cbor": CborProtocol(),
}
