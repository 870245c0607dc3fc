"""Docs that match the code."""
from assistant.config import Settings, settings_table
from tests.conftest import ROOT


def test_readme_documents_every_setting_as_the_code_defines_it():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme, "README settings table is stale: run `python -m assistant.config`"
    assert len(Settings.model_fields) >= 20


def test_readme_names_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_python_m_assistant_config_prints_no_runtime_warning():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", "assistant.config"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "RuntimeWarning" not in out.stderr, out.stderr[-500:]
    assert "| variable |" in out.stdout
