"""The endpoint's preprocessing (inference.py) and the trained model, run directly."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from digits_support import dark_on_light, digit_ink, encode, inference, light_on_dark, train


def features(data: bytes) -> np.ndarray:
    return inference.preprocess(data)[0]


def predicted(model, data: bytes, content_type: str = "image/png") -> int:
    probabilities = inference.predict_fn(inference.input_fn(data, content_type), model)
    return int(np.argmax(probabilities[0]))


def test_training_reaches_97_percent_on_held_out_augmented_digits(trained: dict) -> None:
    assert trained["test_accuracy"] >= 0.97
    model_dir = trained["model_dir"]
    assert (model_dir / "model.onnx").is_file()
    assert (model_dir / "code" / "inference.py").is_file()
    assert "onnxruntime" in (model_dir / "code" / "requirements.txt").read_text()


def test_polarity_does_not_matter() -> None:
    ink = digit_ink(4)
    a = features(encode(dark_on_light(ink)))
    b = features(encode(light_on_dark(ink)))
    assert np.allclose(a, b, atol=0.5)
    assert a.shape == (inference.GRID**2,) and a.min() >= 0 and a.max() <= 16


def test_off_centre_digit_with_margins_is_cropped_and_centred(model) -> None:
    ink = digit_ink(2)
    centred = features(encode(dark_on_light(ink)))
    canvas = np.zeros((500, 700), np.float32)
    canvas[320:480, 20:180] = ink  # bottom-left corner, wide margins
    shifted = features(encode(dark_on_light(canvas)))
    assert np.abs(centred - shifted).mean() < 0.5
    assert predicted(model, encode(dark_on_light(canvas))) == 2


def test_large_noisy_photo(model) -> None:
    rng = np.random.default_rng(1)
    h, w = 800, 1000
    ink = np.zeros((h, w), np.float32)
    from PIL import Image

    big = np.asarray(Image.fromarray(digit_ink(5), mode="F").resize((420, 420)))
    ink[200:620, 330:750] = big
    paper = 170 + 40 * np.linspace(0, 1, w)[None, :]  # uneven light
    photo = paper * (1 - 0.7 * ink) + rng.normal(0, 12, (h, w))
    rgb = np.repeat(photo[..., None], 3, axis=2)
    data = encode(rgb, "JPEG", quality=85)
    assert predicted(model, data, "image/jpeg") == 5


def test_a_drawing_on_the_pad(model) -> None:
    from PIL import Image, ImageDraw

    def pad(strokes: list[list[tuple[int, int]]]) -> bytes:
        img = Image.new("RGB", (280, 280), "white")
        draw = ImageDraw.Draw(img)
        for points in strokes:
            draw.line(points, fill="black", width=20, joint="curve")
            for x, y in (points[0], points[-1]):
                draw.ellipse((x - 10, y - 10, x + 10, y + 10), fill="black")
        return encode(np.asarray(img))

    seven = pad([[(70, 60), (210, 60), (120, 230)]])
    one = pad([[(110, 90), (145, 50), (145, 235)]])
    zero = pad([[(140, 40), (80, 80), (70, 150), (95, 225), (140, 240), (190, 220), (210, 150),
                 (200, 80), (140, 40)]])  # fmt: skip
    assert predicted(model, seven) == 7
    assert predicted(model, one) == 1
    assert predicted(model, zero) == 0


def test_transparent_drawing_jpeg_and_webp(model) -> None:
    from PIL import Image

    ink = digit_ink(3)
    rgba = np.zeros((*ink.shape, 4), np.float32)
    rgba[..., 3] = 255 * ink  # black strokes on a transparent background
    buffer = __import__("io").BytesIO()
    Image.fromarray(rgba.astype(np.uint8), "RGBA").save(buffer, "PNG")
    assert predicted(model, buffer.getvalue()) == 3
    assert predicted(model, encode(dark_on_light(ink), "JPEG"), "image/jpeg") == 3
    assert predicted(model, encode(dark_on_light(ink), "WEBP"), "image/webp") == 3


@pytest.mark.parametrize(
    "image",
    [
        np.full((200, 200), 255.0),
        np.zeros((50, 80)),
        np.clip(200 + np.random.default_rng(0).normal(0, 8, (300, 300)), 0, 255),
    ],
    ids=["white", "black", "noise"],
)
def test_an_empty_image_is_refused(image: np.ndarray) -> None:
    with pytest.raises(inference.EmptyImage):
        inference.input_fn(encode(image), "image/png")


@pytest.mark.parametrize(
    "body", [b"", b"hello, not an image", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, b"GIF89a...."]
)
def test_not_an_image_is_refused(body: bytes) -> None:
    with pytest.raises(inference.NotAnImage):
        inference.input_fn(body, "image/png")


def test_json_bodies_and_the_answer_shape(model) -> None:
    data = encode(dark_on_light(digit_ink(6)))
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    for body in (
        json.dumps({"image": url}),
        json.dumps({"image": base64.b64encode(data).decode()}),
    ):
        rows = inference.input_fn(body, "application/json")
        answer = json.loads(inference.output_fn(inference.predict_fn(rows, model)))
        assert answer["prediction"] == 6
        assert len(answer["probabilities"]) == 10
        assert abs(sum(answer["probabilities"]) - 1) < 1e-3
    batch = json.dumps({"instances": [inference.preprocess(data)[0].tolist()] * 2})
    answers = json.loads(inference.output_fn(inference.predict_fn(inference.input_fn(
        batch, "application/json"), model)))  # fmt: skip
    assert [a["prediction"] for a in answers] == [6, 6]
    with pytest.raises(ValueError):
        inference.input_fn(b"{}", "application/json")
    with pytest.raises(ValueError):
        inference.input_fn(data, "text/csv")


def test_the_train_channel_is_read_when_given(tmp_path) -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    np.savez(tmp_path / "digits.npz", images=digits.images[:50], labels=digits.target[:50])
    images, labels = train.load_data(str(tmp_path))
    assert images.shape == (50, 8, 8) and list(labels) == list(digits.target[:50])
    csv = tmp_path / "csv"
    csv.mkdir()
    rows = np.hstack([digits.data[:20], digits.target[:20, None]])
    np.savetxt(csv / "part.csv", rows, delimiter=",")
    images, labels = train.load_data(str(csv))
    assert images.shape == (20, 8, 8) and list(labels) == list(digits.target[:20])
    args = train.parse_args(["--epochs", "3", "--sagemaker_program", "train.py"])
    assert args.epochs == 3  # a platform's own arguments are ignored
