"""The README's data dictionary is generated from the contracts and must not drift from them."""

from pathlib import Path

from pipelines.core.data_dictionary import render

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_data_dictionary_matches_contracts():
    assert render() in README.read_text(encoding="utf-8"), (
        "README data dictionary is stale: run `python -m pipelines.core.data_dictionary --write README.md`")
