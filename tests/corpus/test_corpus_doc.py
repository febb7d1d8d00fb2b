"""docs/reliability.md lists every recipe of the corpus, as generated from the recipes."""

from __future__ import annotations

from corpus.corpus_recipes import BEGIN, DOC, END, RECIPES, doc_with_table, markdown_table


def test_doc_table_is_generated_from_the_recipes() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text == doc_with_table(text), "run: python tests/corpus/corpus_recipes.py"


def test_doc_names_every_recipe_once() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split(BEGIN, 1)[1].split(END, 1)[0]
    for recipe in RECIPES:
        assert table.count(f"| `{recipe.name}` |") == 1, recipe.name
    assert table.count("\n| ") == len(RECIPES) + 2  # the header and its rule
    assert f"{len(RECIPES)} recipes" in markdown_table()
