"""The configured LLM as a LlamaIndex client, or None for the offline extractive engine.

Both clients speak to a server the user runs or pays for: `OpenAILike` covers every OpenAI-compatible
chat-completions endpoint (OpenAI, vLLM, llama.cpp server, LM Studio), `Ollama` its own API.
"""
from __future__ import annotations

from .config import Settings
from .errors import LLMError


def build_llm(settings: Settings):
    provider = settings.llm_provider
    if provider == "none":
        return None
    if provider == "openai":
        from llama_index.llms.openai_like import OpenAILike

        return OpenAILike(
            model=settings.llm_model,
            api_base=settings.llm_base_url or "https://api.openai.com/v1",
            api_key=settings.llm_api_key,
            temperature=settings.llm_temperature,
            timeout=settings.llm_timeout,
            max_retries=1,
            is_chat_model=True,  # use /chat/completions (and its SSE streaming), not legacy /completions
            is_function_calling_model=False,
            context_window=16000,
            max_tokens=512,
        )
    if provider == "ollama":
        from llama_index.llms.ollama import Ollama

        return Ollama(
            model=settings.llm_model,
            base_url=settings.llm_base_url or "http://localhost:11434",
            temperature=settings.llm_temperature,
            request_timeout=settings.llm_timeout,
        )
    raise LLMError(f"Unknown ASSISTANT_LLM_PROVIDER {provider!r}: use none, openai or ollama.")
