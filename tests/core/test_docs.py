"""The README's data dictionary is generated from the contracts and must not drift from them."""

import re
from pathlib import Path

from pipelines.core.data_dictionary import render

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_data_dictionary_matches_contracts():
    assert render() in README.read_text(encoding="utf-8"), (
        "README data dictionary is stale: run `python -m pipelines.core.data_dictionary --write README.md`")


REPO_PATH = re.compile(r"(?<![\w/.-])((?:pipelines|assets|models|sql|tests|benchmarks|docs|data_contracts)/[\w./-]+\.(?:py|sql|yaml|md|csv))")


def test_every_repository_path_the_docs_name_exists():
    root = README.parent
    missing = [(doc.name, path) for doc in [README, *sorted((root / "docs").glob("*.md"))]
               for path in sorted(set(REPO_PATH.findall(doc.read_text(encoding="utf-8"))))
               if not (root / path).exists()]
    assert missing == []
