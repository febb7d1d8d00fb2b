"""Synthetic OMOP CDM v5.4 with a ground truth, calibrated to the seed studies.

``generate_cdm`` streams a population of any size (100 to 10 million persons) in chunks: a rare
ALL cohort with realistic clinical courses (prior lines, blinatumomab and inotuzumab cycles,
responses, CAR-T, allo-HSCT, relapse, death) among persons with unrelated care. Profiles
``claims`` and ``emr`` set what is recorded; docs/synthetic-data.md documents the model.
"""

from allrwe.synth.generate import DEFAULT_CHUNK_SIZE, SynthResult, generate_cdm
from allrwe.synth.params import PROFILES, SynthParams, load_params

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "PROFILES",
    "SynthParams",
    "SynthResult",
    "generate_cdm",
    "load_params",
]
