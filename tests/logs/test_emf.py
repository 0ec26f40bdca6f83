"""Embedded Metric Format parsing: what becomes a metric and what stays a plain log line."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from nimbus.services.logs.emf import extract_metrics
from nimbus.services.registry import ServiceRegistry

TS = 1_700_000_000_000


def emf(**overrides: Any) -> str:
    doc: dict[str, Any] = {
        "_aws": {
            "Timestamp": TS,
            "CloudWatchMetrics": [
                {
                    "Namespace": "Svc",
                    "Dimensions": [["Service", "Op"]],
                    "Metrics": [
                        {"Name": "Latency", "Unit": "Milliseconds"},
                        {"Name": "Hits", "Unit": "Count", "StorageResolution": 1},
                    ],
                }
            ],
        },
        "Service": "api",
        "Op": "predict",
        "Latency": 12.5,
        "Hits": [1, 1, 2],
    }
    doc.update(overrides)
    return json.dumps(doc)


def test_metrics_take_dimensions_units_and_timestamp_from_the_document() -> None:
    ((namespace, data),) = extract_metrics(emf(), TS + 5000)
    assert namespace == "Svc"
    latency, hits = data
    assert latency["MetricName"] == "Latency" and latency["Values"] == [12.5]
    assert latency["Unit"] == "Milliseconds"
    assert latency["Dimensions"] == [
        {"Name": "Service", "Value": "api"},
        {"Name": "Op", "Value": "predict"},
    ]
    assert latency["Timestamp"].timestamp() * 1000 == TS  # _aws.Timestamp, not ingestion
    assert hits["Values"] == [1, 1, 2] and hits["StorageResolution"] == 1


def test_each_dimension_set_is_its_own_metric() -> None:
    doc = json.loads(emf())
    doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = [["Service"], ["Service", "Op"], []]
    ((_, data),) = extract_metrics(json.dumps(doc), TS)
    latency_dims = [d["Dimensions"] for d in data if d["MetricName"] == "Latency"]
    assert [len(d) for d in latency_dims] == [1, 2, 0]


def test_lines_that_are_not_valid_emf_produce_nothing() -> None:
    assert extract_metrics("plain text", TS) == []
    assert extract_metrics('{"_aws": {"CloudWatchMetrics": "nope"}}', TS) == []
    assert extract_metrics('{"_aws": ', TS) == []
    # A dimension whose value is missing from the document drops that dimension set.
    assert extract_metrics(emf(Op=None), TS) == []
    # Non-numeric metric values are skipped; the rest of the line still counts.
    ((_, data),) = extract_metrics(emf(Latency="fast"), TS)
    assert [d["MetricName"] for d in data] == ["Hits"]


def test_concurrent_appends_from_threads_are_all_stored(tmp_path: Any) -> None:
    """Lambda workers append from their own threads; nothing may be lost or interleaved."""
    registry = ServiceRegistry(tmp_path / "data", "us-east-1", "000000000000", "http://x")
    try:
        logs = registry.get("logs")
        now = int(time.time() * 1000)

        def worker(n: int) -> None:
            for i in range(50):
                logs.append("/aws/lambda/fn", f"stream-{n}", [(now + i, f"w{n} e{i}")])

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        events = logs.read("/aws/lambda/fn", limit=1000)
        assert len(events) == 400
        for n in range(8):
            mine = [e.message for e in events if e.stream == f"stream-{n}"]
            assert mine == [f"w{n} e{i}" for i in range(50)]
    finally:
        registry.close()


def test_one_invalid_emf_line_does_not_drop_the_others(tmp_path: Any) -> None:
    registry = ServiceRegistry(tmp_path / "data", "us-east-1", "000000000000", "http://x")
    try:
        now = int(time.time() * 1000)
        stale = json.loads(emf())
        stale["_aws"]["Timestamp"] = now - 30 * 86_400_000  # CloudWatch refuses > 2 weeks old
        fresh = json.loads(emf())
        fresh["_aws"]["Timestamp"] = now
        fresh["Service"] = "fresh"
        registry.get("logs").append("/g", "s", [(now, json.dumps(stale)), (now, json.dumps(fresh))])
        cloudwatch = registry.get("cloudwatch")
        listed = cloudwatch.engine.list_metrics(namespace="Svc")
        assert {dict(m.dimensions)["Service"] for m in listed} == {"fresh"}
    finally:
        registry.close()
