"""SageMaker inference handler for the digit model (the framework contract).

The endpoint loads ``model.onnx`` with ONNX Runtime (``model_fn``), turns a request body into the
model's input (``input_fn``), runs it (``predict_fn``) and answers JSON (``output_fn``).

Preprocessing follows MNIST: grayscale, detect the polarity and make the digit light on dark,
crop to the ink, scale to fit with a margin keeping the aspect ratio, centre by centre of mass,
then reduce to a 16x16 grid with values 0-16 (the scale of scikit-learn's 8x8 digits dataset,
at twice its resolution). Training runs every augmented sample through the same
``canonicalize``, so both sides see one distribution.

Only numpy, Pillow and onnxruntime are needed here (see ``requirements.txt``); the training
script imports this module for its preprocessing.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os

import numpy as np

CANVAS = 32  # the side of the canvas the glyph is placed on (as in the dataset's 32x32 bitmaps)
FIT = 26  # the glyph's longer side on that canvas; the rest is margin
GRID = 16  # model input: GRID x GRID cells, each the mean of a (CANVAS/GRID)^2 block, 0..16
WORK_SIDE = 160  # larger images are reduced to this before the numpy work
MIN_CONTRAST = 0.2  # ink must differ from the background by at least this (0..1 scale)
INK_FLOOR = 0.25  # normalized values below this are background (noise, shading)
IMAGE_TYPES = {"image/png", "image/jpeg", "image/jpg", "image/webp", "application/x-image"}
MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


class NotAnImage(ValueError):
    """The body is not a PNG, JPEG or WebP image."""


class EmptyImage(ValueError):
    """The image holds no digit (no ink that stands out from the background)."""


def sniff_image_type(data: bytes) -> str | None:
    """The image type from the magic bytes, or None."""
    for magic, kind in MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def decode_image(data: bytes):
    """PNG/JPEG/WebP bytes -> a grayscale ("L") Pillow image at most WORK_SIDE pixels wide."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data or sniff_image_type(data) is None:
        raise NotAnImage("the body is not a PNG, JPEG or WebP image")
    try:
        img = Image.open(io.BytesIO(data))
        if img.format == "JPEG":
            img.draft("L", (WORK_SIDE, WORK_SIDE))  # decode at a reduced size: much faster
        if img.format != "PNG" and img.getexif().get(0x0112, 1) != 1:
            img = ImageOps.exif_transpose(img)  # a phone photo taken sideways
        img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise NotAnImage(f"the image cannot be decoded: {exc}") from exc
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        if img.getchannel("A").getextrema()[0] < 255:  # some transparency: flatten it
            img = _flatten_alpha(img)
    img = img.convert("L")
    if max(img.size) > WORK_SIDE:
        img.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX)
    return img


def _flatten_alpha(img):
    """Composite a transparent image on the background that contrasts with its opaque pixels."""
    from PIL import Image

    rgba = np.asarray(img, dtype=np.float32) * (1.0 / 255.0)
    alpha = rgba[..., 3]
    gray = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    opaque = alpha > 0.5
    mean = float(gray[opaque].mean()) if opaque.any() else 0.0
    background = 1.0 if mean < 0.5 else 0.0
    flat = gray * alpha + background * (1.0 - alpha)
    return Image.fromarray(np.uint8(np.clip(flat * 255.0 + 0.5, 0, 255)), mode="L")


def ink_map(gray: np.ndarray, smooth: np.ndarray | None = None) -> np.ndarray:
    """Grayscale 0..1 -> ink 0..1 (light digit on a dark, zero background), either polarity.

    ``smooth`` is ``gray`` after a 3x3 box blur (computed here when not given)."""
    if gray.size == 0:
        raise EmptyImage("the image is empty")
    sample = gray[:: max(1, gray.shape[0] // 64), :: max(1, gray.shape[1] // 64)]
    background = float(np.median(sample))  # the background is most of the picture
    if smooth is None:
        smooth = _box_blur(gray)
    if background > 0.5:  # dark on light: invert
        gray, smooth, background = 1.0 - gray, 1.0 - smooth, 1.0 - background
    top = float(smooth.max())  # blurred: one noisy pixel is not ink
    if top - background < MIN_CONTRAST:
        raise EmptyImage("no digit found: the image has no ink that stands out")
    scale = 1.0 / (top - background)
    ink = (gray - background) * scale
    np.clip(ink, 0.0, 1.0, out=ink)
    ink[(smooth - background) * scale < INK_FLOOR] = 0.0
    return ink


def _box_blur(a: np.ndarray) -> np.ndarray:
    """3x3 mean (edges replicated)."""
    p = np.pad(a, 1, mode="edge")
    rows = p[:-2] + p[1:-1] + p[2:]
    return (rows[:, :-2] + rows[:, 1:-1] + rows[:, 2:]) * (1.0 / 9.0)


def canonicalize(ink: np.ndarray) -> np.ndarray:
    """Ink map (any size) -> the model's GRID*GRID features: crop, fit, centre of mass, 0..16."""
    from PIL import Image

    mask = ink > 0.5
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        raise EmptyImage("no digit found: the image has no ink")
    cols = np.flatnonzero(mask.any(axis=0))
    crop = np.ascontiguousarray(ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], np.float32)
    h, w = crop.shape
    scale = FIT / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    glyph = np.asarray(Image.fromarray(crop, mode="F").resize(size, Image.Resampling.BILINEAR))
    gh, gw = glyph.shape
    total = float(glyph.sum())
    if total <= 0.0:
        raise EmptyImage("no digit found: the image has no ink")
    cy = float(glyph.sum(axis=1) @ np.arange(gh)) / total
    cx = float(glyph.sum(axis=0) @ np.arange(gw)) / total
    top = min(max(round(CANVAS / 2 - 0.5 - cy), 0), CANVAS - gh)
    left = min(max(round(CANVAS / 2 - 0.5 - cx), 0), CANVAS - gw)
    canvas = np.zeros((CANVAS, CANVAS), np.float32)
    canvas[top : top + gh, left : left + gw] = np.clip(glyph, 0.0, 1.0)
    block = CANVAS // GRID
    cells = canvas.reshape(GRID, block, GRID, block).mean(axis=(1, 3))
    return (cells * 16.0).reshape(-1)


def preprocess(data: bytes) -> np.ndarray:
    """Image bytes -> a (1, GRID*GRID) float32 model input."""
    from PIL import ImageFilter

    img = decode_image(data)
    gray = np.asarray(img, dtype=np.float32) * (1.0 / 255.0)
    smooth = np.asarray(img.filter(ImageFilter.BoxBlur(1)), dtype=np.float32) * (1.0 / 255.0)
    return canonicalize(ink_map(gray, smooth)).reshape(1, -1).astype(np.float32)


def _image_from_json(value: str) -> bytes:
    if value.startswith("data:"):
        value = value.partition(",")[2]
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise NotAnImage("the 'image' field is not base64") from exc


# --- the SageMaker framework contract -------------------------------------------------------


def model_fn(model_dir: str):
    """Load ``model.onnx`` once per endpoint variant."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # a tiny model: threads cost more than they give
    options.inter_op_num_threads = 1
    return ort.InferenceSession(
        os.path.join(model_dir, "model.onnx"), options, providers=["CPUExecutionProvider"]
    )


def input_fn(request_body, request_content_type: str = "application/json") -> np.ndarray:
    """An image (PNG/JPEG/WebP) or JSON ``{"image": base64 or data URL}`` or
    ``{"instances": [[GRID*GRID values 0..16], ...]}`` -> (n, GRID*GRID) float32."""
    content_type = (request_content_type or "").split(";")[0].strip().lower()
    if isinstance(request_body, str):
        request_body = request_body.encode()
    body = bytes(request_body)
    if content_type == "application/json":
        try:
            doc = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValueError("the JSON body cannot be parsed") from exc
        if isinstance(doc, dict) and isinstance(doc.get("image"), str):
            return preprocess(_image_from_json(doc["image"]))
        if isinstance(doc, dict) and "instances" in doc:
            rows = np.asarray(doc["instances"], dtype=np.float32)
            if rows.ndim != 2 or rows.shape[1] != GRID * GRID:
                raise ValueError(f"'instances' must be a list of {GRID * GRID}-value rows")
            return rows
        raise ValueError('send {"image": "<base64>"} or {"instances": [[256 values 0..16]]}')
    if content_type in IMAGE_TYPES or content_type in ("application/octet-stream", ""):
        return preprocess(body)
    raise ValueError(f"unsupported content type {request_content_type!r}")


def predict_fn(input_data: np.ndarray, model) -> np.ndarray:
    """(n, GRID*GRID) -> (n, 10) class probabilities."""
    name = model.get_inputs()[0].name
    output = model.get_outputs()[-1].name  # skl2onnx: [label, probabilities]
    return np.asarray(model.run([output], {name: input_data.astype(np.float32)})[0])


def output_fn(prediction: np.ndarray, accept: str = "application/json") -> str:
    """JSON ``{"prediction": d, "probabilities": [10 floats]}`` (a list of those for a batch)."""
    answers = [
        {"prediction": int(np.argmax(row)), "probabilities": [round(float(p), 6) for p in row]}
        for row in prediction
    ]
    return json.dumps(answers[0] if len(answers) == 1 else answers)
