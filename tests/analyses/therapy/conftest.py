"""Fixtures of the pattern tests: the vocabulary and a two-group spec."""

from __future__ import annotations

import pytest
from pattern_helpers import PATTERN_SPEC

from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from allrwe.spec import StudySpec, spec_from_text


@pytest.fixture(scope="session")
def vocab() -> Vocabulary:
    return load_vocabulary()


@pytest.fixture(scope="session")
def spec() -> StudySpec:
    return spec_from_text(PATTERN_SPEC)
