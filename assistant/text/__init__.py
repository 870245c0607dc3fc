"""The text-analysis layer: one spaCy pipeline for sentences, entities and who said what."""
from .annotate import (ArticleCache, ArticleInfo, Entity, SentenceInfo, analyse_article, article_info, speaker_of,
                       spoken_sentences, use_cache_folder)

__all__ = ["ArticleCache", "ArticleInfo", "Entity", "SentenceInfo", "analyse_article", "article_info", "speaker_of",
           "spoken_sentences", "use_cache_folder"]
