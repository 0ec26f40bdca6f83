"""Dashboards are stored and returned verbatim, with AWS's validation errors."""

from __future__ import annotations

import json

from support import Call

BODY = json.dumps(
    {
        "widgets": [
            {
                "type": "metric",
                "x": 0,
                "y": 0,
                "width": 12,
                "height": 6,
                "properties": {"metrics": [["App", "Latency"]], "stat": "p90", "period": 60},
            }
        ]
    }
)


def test_dashboard_crud(metrics: Call) -> None:
    assert metrics("put_dashboard", DashboardName="ops", DashboardBody=BODY) == {
        "DashboardValidationMessages": []
    }
    got = metrics("get_dashboard", DashboardName="ops")
    assert got["DashboardBody"] == BODY
    assert got["DashboardArn"] == "arn:aws:cloudwatch::000000000000:dashboard/ops"
    metrics("put_dashboard", DashboardName="ops-2", DashboardBody='{"widgets": []}')
    entries = metrics("list_dashboards", DashboardNamePrefix="ops")["DashboardEntries"]
    assert [e["DashboardName"] for e in entries] == ["ops", "ops-2"]
    assert entries[0]["Size"] == len(BODY)
    assert metrics.error("delete_dashboards", DashboardNames=["ops", "nope"]).code == (
        "ResourceNotFound"
    )
    metrics("delete_dashboards", DashboardNames=["ops"])
    err = metrics.error("get_dashboard", DashboardName="ops")
    assert (err.code, err.status) == ("ResourceNotFound", 404)


def test_invalid_dashboard_body(metrics: Call) -> None:
    err = metrics.error("put_dashboard", DashboardName="bad", DashboardBody="{not json")
    assert err.code == "InvalidParameterInput"
    assert err.extra["dashboardValidationMessages"][0]["Message"].startswith("The dashboard")
    err = metrics.error("put_dashboard", DashboardName="bad name", DashboardBody=BODY)
    assert err.code == "InvalidParameterValue"
