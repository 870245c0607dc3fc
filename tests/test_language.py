"""Articles and questions in other languages: searchable by their words, but the default model and the
answer engine are English-only, and the user is told so with the way to switch (issue 13, item 12)."""
from __future__ import annotations

import pytest

from assistant.text.language import not_english


@pytest.mark.parametrize("text,english", [
    ("The city council approved a new budget for the bridge on Tuesday, officials said.", True),
    ("Apple shares rose 5% to $190 after iPhone sales beat forecasts in China.", True),
    ("Where did Trump and Putin meet?", True),
    ("What did Hegseth say about NATO?", True),
    ("US Treasury Secretary Scott Bessent visited Kyiv.", True),
    ("Le conseil municipal a approuvé mardi un nouveau budget pour le pont.", False),
    ("¿Dónde se reunieron Trump y Putin?", False),
    ("Городской совет утвердил новый бюджет на строительство моста во вторник.", False),
    ("市议会周二批准了新桥的预算。", False),
    ("El ayuntamiento aprobó el martes un nuevo presupuesto para el puente, dijeron los funcionarios.", False),
    ("Der Stadtrat hat am Dienstag einen neuen Haushalt für die Brücke beschlossen, sagten Beamte.", False),
])
def test_english_is_told_from_other_languages(text, english):
    assert (not_english(text, min_words=4) is None) is english


def test_a_non_english_article_is_ingested_with_a_warning_naming_the_switch(tmp_path):
    from assistant.config import Settings
    from assistant.ingest import load_article

    path = tmp_path / "ru.txt"
    path.write_text("Бюджет моста\n\nГородской совет утвердил новый бюджет на строительство моста во вторник, "
                    "сообщили чиновники.\n", encoding="utf-8")
    art = load_article(path, Settings(documents_dir=tmp_path))
    assert art.paragraphs, "the article is still indexed"
    assert any("English" in w and "ASSISTANT_EMBED_MODEL=e5-small-q4" in w for w in art.warnings), art.warnings


def test_a_question_in_another_language_gets_the_notice(built_assistant):
    ans = built_assistant.ask("Где встретились Трамп и Путин?")
    assert ans.note and "English-only" in ans.note and "e5-small-q4" in ans.note
    assert not (built_assistant.ask("Where did Trump and Putin meet?").note or "").count("English-only")
