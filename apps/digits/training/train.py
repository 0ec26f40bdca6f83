"""Train the digit model: a SageMaker script-mode entry point (works the same when run by hand).

Data: scikit-learn's bundled digits (1,797 8x8 images, 0-16), or ``digits.npz`` / ``*.csv``
(64 pixel columns + label) from the ``train`` channel (``SM_CHANNEL_TRAIN``) when given.
Each image is upsampled to 32x32 and varied: rotation, shear, scale, aspect, shift, stroke
width (dilate/erode), blur and contrast. Every sample then goes through the endpoint's own
preprocessing (``inference.canonicalize``), so training sees what the endpoint will see.

Model: an MLP (scikit-learn), exported to ONNX with skl2onnx. The model directory gets
``model.onnx``, ``code/inference.py`` and ``code/requirements.txt`` (the SageMaker layout).
Prints ``test_accuracy=0.98xx`` for a MetricDefinitions regex such as ``test_accuracy=([0-9.]+)``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _load_inference():
    """The endpoint's preprocessing, shipped next to this script (one module per process)."""
    name = "digits_inference"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / "inference.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


inference = _load_inference()

UPSAMPLE = 32


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--augment", type=int, default=14, help="augmented copies per image")
    p.add_argument("--hidden", type=int, default=256, help="hidden units")
    p.add_argument("--alpha", type=float, default=1e-3, help="L2 penalty")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--test-size", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "model"))
    p.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    args, unknown = p.parse_known_args(argv)
    if unknown:  # e.g. a platform's own hyperparameters: not ours to refuse
        print(f"ignoring arguments {unknown}")
    return args


def load_data(channel: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(images n x 8 x 8 in 0..16, labels n)."""
    if channel:
        folder = Path(channel)
        npz = sorted(folder.glob("*.npz"))
        if npz:
            with np.load(npz[0]) as data:
                return data["images"].reshape(-1, 8, 8).astype(np.float32), data["labels"]
        csvs = sorted(folder.glob("*.csv"))
        if csvs:
            rows = np.vstack([np.loadtxt(c, delimiter=",", ndmin=2) for c in csvs])
            return rows[:, :64].reshape(-1, 8, 8).astype(np.float32), rows[:, 64].astype(int)
        print(f"channel {channel} holds no .npz or .csv; using scikit-learn's digits")
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images.astype(np.float32), digits.target


def upsample(images: np.ndarray) -> np.ndarray:
    """n x 8 x 8 (0..16) -> n x 32 x 32 ink (0..1), bilinear."""
    from scipy.ndimage import zoom

    return np.clip(zoom(images / 16.0, (1, UPSAMPLE / 8, UPSAMPLE / 8), order=1), 0.0, 1.0)


def vary(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random variant of a 32x32 ink image, on a 48x48 canvas so nothing is clipped."""
    from scipy.ndimage import affine_transform, gaussian_filter, grey_dilation, grey_erosion

    angle = np.deg2rad(rng.uniform(-15, 15))
    shear = rng.uniform(-0.25, 0.25)
    sy, sx = rng.uniform(0.8, 1.2), rng.uniform(0.75, 1.25)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    forward = rot @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([sy, sx])
    inverse = np.linalg.inv(forward)
    out_centre = np.array([24.0, 24.0]) + rng.uniform(-3, 3, 2)
    offset = np.array([15.5, 15.5]) - inverse @ out_centre
    big = affine_transform(ink, inverse, offset=offset, output_shape=(48, 48), order=1)
    stroke = rng.random()
    if stroke < 0.3:
        big = grey_dilation(big, size=(int(rng.integers(2, 4)),) * 2)
    elif stroke < 0.45:
        big = grey_erosion(big, size=(2, 2))
    if rng.random() < 0.3:
        big = gaussian_filter(big, rng.uniform(0.5, 1.2))
    if rng.random() < 0.5:  # crisp strokes, as a pen or a scan gives
        big = np.clip((big - 0.3) * 3.0, 0.0, 1.0)
    return big


def features(inks: np.ndarray) -> np.ndarray:
    rows = []
    for ink in inks:
        try:
            rows.append(inference.canonicalize(ink))
        except inference.EmptyImage:  # an erosion that left nothing
            rows.append(np.zeros(inference.GRID**2, np.float32))
    return np.asarray(rows, np.float32)


def augment(images: np.ndarray, labels: np.ndarray, copies: int, rng) -> tuple:
    """The canonical form of each image plus ``copies`` random variants of it."""
    inks = upsample(images)
    xs, ys = [features(inks)], [labels]
    for _ in range(copies):
        xs.append(features([vary(ink, rng) for ink in inks]))
        ys.append(labels)
    return np.vstack(xs), np.concatenate(ys)


def train(args: argparse.Namespace) -> dict:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # a fixed epoch budget

    started = time.monotonic()
    rng = np.random.default_rng(args.seed)
    images, labels = load_data(args.train)
    # split the ORIGINAL images first: no variant of a test image is ever trained on
    tr_img, te_img, tr_y, te_y = train_test_split(
        images, labels, test_size=args.test_size, random_state=args.seed, stratify=labels
    )
    x_train, y_train = augment(tr_img, tr_y, args.augment, rng)
    x_test, y_test = augment(te_img, te_y, 3, rng)
    print(f"samples: train={len(x_train)} test={len(x_test)} ({time.monotonic() - started:.1f}s)")
    model = MLPClassifier(
        hidden_layer_sizes=(args.hidden,),
        alpha=args.alpha,
        max_iter=args.epochs,
        batch_size=128,
        learning_rate_init=1e-3,
        early_stopping=False,
        random_state=args.seed,
    )
    with _one_blas_thread():  # BLAS threads on tiny matrices only fight over the cores
        model.fit(x_train, y_train)
    accuracy = float((model.predict(x_test) == y_test).mean())
    print(f"train_accuracy={float((model.predict(x_train) == y_train).mean()):.4f}")
    clean = float((model.predict(x_test[: len(te_y)]) == te_y).mean())
    print(f"clean_test_accuracy={clean:.4f}")
    print(f"test_accuracy={accuracy:.4f}", flush=True)
    export(model, Path(args.model_dir), x_test[:64])
    seconds = time.monotonic() - started
    print(f"training_seconds={seconds:.1f}")
    return {"test_accuracy": accuracy, "seconds": seconds, "samples": len(x_train)}


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)


def export(model, model_dir: Path, check: np.ndarray) -> None:
    """model.onnx + code/inference.py + code/requirements.txt, checked with ONNX Runtime."""
    from skl2onnx import to_onnx

    onx = to_onnx(
        model,
        check[:1].astype(np.float32),
        options={id(model): {"zipmap": False}},
        target_opset=17,
    )
    (model_dir / "code").mkdir(parents=True, exist_ok=True)
    (model_dir / "model.onnx").write_bytes(onx.SerializeToString())
    shutil.copy(HERE / "inference.py", model_dir / "code" / "inference.py")
    shutil.copy(HERE / "code_requirements.txt", model_dir / "code" / "requirements.txt")
    session = inference.model_fn(str(model_dir))
    got = inference.predict_fn(check, session)
    want = model.predict_proba(check)
    if not np.allclose(got, want, atol=1e-4):
        raise SystemExit("the ONNX model disagrees with scikit-learn")
    (model_dir / "model_info.json").write_text(
        json.dumps(
            {
                "input": f"{inference.GRID}x{inference.GRID} ink 0..16",
                "classes": [int(c) for c in model.classes_],
            }
        )
    )
    print(f"exported {model_dir / 'model.onnx'} ({(model_dir / 'model.onnx').stat().st_size} B)")


if __name__ == "__main__":
    train(parse_args())
