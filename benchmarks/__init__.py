"""Newsdesk benchmarks: retrieval/answer quality, speed and scale in one run (`python -m benchmarks`)."""
