"""Run the Python code blocks of the Markdown documents under docs/ as tests (sybil).

A document's blocks build on each other, so they run in the document's order even when the rest of the
suite runs in random order (pytest-randomly).
"""

import pytest
from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser

pytest_collect_file = Sybil(parsers=[PythonCodeBlockParser()], patterns=["*.md"]).pytest()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    slots = [i for i, item in enumerate(items) if item.nodeid.startswith("docs/")]
    in_order = sorted((items[i] for i in slots), key=lambda item: (str(item.path), item.example.line))
    for slot, item in zip(slots, in_order, strict=True):
        items[slot] = item
