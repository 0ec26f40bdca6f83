"""Helpers for the digits app's tests: its modules loaded by path (under ``digits_*`` names so
they never clash with another app's ``predict`` or ``history``), test images, and fakes.

(A module of its own, not conftest.py: ``from conftest import`` could find another conftest.)"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

APP = Path(__file__).resolve().parents[1]
REPO = APP.parents[1]


def load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


inference = load("digits_inference", APP / "training" / "inference.py")
train = load("digits_train", APP / "training" / "train.py")
predict = load("digits_predict", APP / "src" / "predict.py")
history = load("digits_history", APP / "src" / "history.py")


# ---- images -----------------------------------------------------------------------------------


def encode(array: np.ndarray, fmt: str = "PNG", **options) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.clip(array, 0, 255).astype(np.uint8)).save(buffer, fmt, **options)
    return buffer.getvalue()


def digit_ink(label: int, index: int = 0) -> np.ndarray:
    """A real handwritten digit of that label from the dataset's LAST images (a held-out
    region: train.py trains on a stratified 80 % so some of these may be seen; the accuracy
    test is the held-out measure), upsampled to 160x160 ink in 0..1."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    picks = np.flatnonzero(digits.target == label)[::-1]
    small = (digits.images[picks[index]] / 16.0).astype(np.float32)
    big = np.asarray(Image.fromarray(small, mode="F").resize((160, 160), Image.Resampling.BILINEAR))
    return np.clip((big - 0.25) * 2.5, 0.0, 1.0)


def dark_on_light(ink: np.ndarray) -> np.ndarray:
    return 255.0 * (1.0 - ink)


def light_on_dark(ink: np.ndarray) -> np.ndarray:
    return 255.0 * ink


def png_b64(array: np.ndarray) -> str:
    return base64.b64encode(encode(array)).decode()


# ---- fakes passed to the handlers --------------------------------------------------------------


class FakeBody:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self) -> bytes:
        return self.data


class FakeClientError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.response = {"Error": {"Code": code, "Message": message}, "OriginalMessage": message}


class LocalEndpoint:
    """A sagemaker-runtime client that runs the endpoint's inference.py in process."""

    def __init__(self, model) -> None:
        self.model = model
        self.calls: list[dict] = []

    def invoke_endpoint(self, **kwargs) -> dict:
        self.calls.append(kwargs)
        try:
            data = inference.input_fn(kwargs["Body"], kwargs["ContentType"])
        except ValueError as exc:
            raise FakeClientError("ModelError", str(exc)) from None
        out = inference.output_fn(inference.predict_fn(data, self.model), kwargs["Accept"])
        return {"Body": FakeBody(out.encode()), "ContentType": "application/json"}


class CannedEndpoint:
    """A sagemaker-runtime client that always answers the same probabilities."""

    def __init__(self, digit: int = 3, error: Exception | None = None) -> None:
        self.digit, self.error = digit, error
        self.calls: list[dict] = []

    def invoke_endpoint(self, **kwargs) -> dict:
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        probabilities = [0.01] * 10
        probabilities[self.digit] = 0.91
        body = json.dumps({"prediction": self.digit, "probabilities": probabilities})
        return {"Body": FakeBody(body.encode()), "ContentType": "application/json"}


class MemoryTable:
    """The part of the DynamoDB client the handlers use, over one table held in memory."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def put_item(self, TableName: str, Item: dict) -> dict:
        self.items = [i for i in self.items if (i["pk"], i["sk"]) != (Item["pk"], Item["sk"])]
        self.items.append(Item)
        return {}

    def query(self, TableName: str, KeyConditionExpression: str, ExpressionAttributeValues: dict,
              ScanIndexForward: bool = True, Limit: int = 100,
              ExclusiveStartKey: dict | None = None) -> dict:  # fmt: skip
        pk = ExpressionAttributeValues[":pk"]["S"]
        rows = sorted(
            (i for i in self.items if i["pk"]["S"] == pk),
            key=lambda i: i["sk"]["S"],
            reverse=not ScanIndexForward,
        )
        if ExclusiveStartKey:
            start = ExclusiveStartKey["sk"]["S"]
            rows = [
                r
                for r in rows
                if (r["sk"]["S"] < start if not ScanIndexForward else r["sk"]["S"] > start)
            ]
        page = rows[:Limit]
        out: dict = {"Items": page, "Count": len(page)}
        if len(rows) > Limit:
            out["LastEvaluatedKey"] = {"pk": page[-1]["pk"], "sk": page[-1]["sk"]}
        return out


# -- the web page, driven by Playwright ----------------------------------------------------
def draw(page, strokes: list[list[tuple[float, float]]]) -> None:
    """Strokes in pad units (0..280) drawn with the mouse."""
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / 280
    for points in strokes:
        x, y = points[0]
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.down()
        for x, y in points[1:]:
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=8)
        page.mouse.up()


def rows(page) -> int:
    return page.locator("#history tbody tr").count()
