"""Optional: the generative engine against a real model over the OpenAI protocol (not in `make test`).

    # e.g. llama.cpp's server with Gemma 3 270M (see ../shared/ENVIRONMENT.md for the CPU build flags):
    python -m llama_cpp.server --model gemma-3-270m-q4_k_m.gguf --chat_format gemma --n_ctx 8192 --n_threads 2
    ASSISTANT_LLM_PROVIDER=openai ASSISTANT_LLM_BASE_URL=http://127.0.0.1:8000/v1 \\
        python -m benchmarks.llm_real --split dev --n 40

Reports, over the split's questions: how often the model's answer was verified and shown, how often it
could not be verified (the user gets the extractive answer with a note), how often it refused, and the
citation precision of what was shown; with the extractive engine's figures on the same questions.
"""
from __future__ import annotations

import argparse
import time

from .heldout import open_assistant, split_set


def main(argv=None) -> int:
    from assistant.answer.llm import UNVERIFIED_NOTE
    from assistant.answer_eval import evaluate

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["dev", "test", "bundled"], default="dev")
    ap.add_argument("--n", type=int, default=40, help="questions (a real small model takes ~20 s each)")
    args = ap.parse_args(argv)
    files, qs, _, _ = split_set(args.split)
    a = open_assistant(args.split, files)
    if "llm" not in a.answerer.engines:
        print("No LLM configured: set ASSISTANT_LLM_PROVIDER=openai and ASSISTANT_LLM_BASE_URL (see --help).")
        return 2
    qs = qs[: args.n]
    out = {}
    for engine in ("llm", "extractive"):
        answers, lat = [], []
        for q in qs:
            t = time.perf_counter()
            answers.append(a.ask(q["question"], engine=engine))
            lat.append((time.perf_counter() - t) * 1000)
        rep = evaluate(qs, answers, a.answerer.checker, lat)
        shown = sum(x.answered and x.engine == "llm" for x in answers)
        fallback = sum(x.note == UNVERIFIED_NOTE for x in answers)
        out[engine] = rep
        print(f"{engine:10s} {rep.lines()}")
        if engine == "llm":
            print(f"           model answer verified and shown {shown}/{len(qs)}, unverifiable -> extractive "
                  f"{fallback}, refused {sum(not x.answered for x in answers)}; sentences dropped by the check "
                  f"{sum(len(x.dropped) for x in answers)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
