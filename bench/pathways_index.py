"""Share of each index group's persons whose pathway contains the group's index class.

Usage: ``PYTHONPATH=src python bench/pathways_index.py SPEC CDM_URL`` — prints one line per
group (persons, persons whose pathway holds the index class, share). Issue 19's target for
the seed 001 example on a synthetic emr CDM is a share of at least 95 % for BLIN.
"""

from __future__ import annotations

import sys

from allrwe.io import KeptRows
from allrwe.study import runner, stages
from allrwe.study.prepare import cohort_step, extract_step


def main(spec_path: str, cdm_url: str) -> None:
    spec, vocab = runner._load(spec_path, ())
    with runner.connect(cdm_url) as source, KeptRows(source) as kept:
        extract_step(kept, vocab)
        cohort = cohort_step(kept, spec, vocab)
        run = stages.RunInputs(kept, spec, vocab, cohort)
        patterns = stages.therapy_step(run).output
        pathways = stages.pathways_step(run, patterns).output
    assert patterns.inputs is not None
    classes = patterns.inputs.set_classes
    for group, result in pathways.by_group.items():
        if result is None:
            print(f"{group}: no person")
            continue
        index = {c for key in spec.index_groups[group] for c in classes.get(key, ())}
        paths = result.patients["pathway"].fillna("").astype(str).tolist()
        k = sum(any(c in index for s in p.split("-") for c in s.split("+")) for p in paths)
        n = len(paths)
        print(f"{group}: {k} of {n} persons have {sorted(index)} in their pathway ({k / n:.1%})")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
