"""What a CDM says about itself: the ``cdm_source`` row, as text for the provenance.

The rule this module owns: the CDM's name, description, CDM and vocabulary versions and
release date come from the first ``cdm_source`` row when it is readable; a missing table, a
missing column or an unreadable row only loses those fields, never the run.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from allrwe.io.cdm import CdmSource

__all__ = ["cdm_metadata"]

logger = logging.getLogger(__name__)

#: the text fields of ``cdm_source`` the provenance carries, in this order
_TEXT_FIELDS = ("cdm_source_name", "source_description", "cdm_version", "vocabulary_version")


def cdm_metadata(source: CdmSource) -> dict[str, str]:
    """Return ``description`` (the source's) and the ``cdm_source`` fields present, as text.

    Parameters
    ----------
    source : CdmSource
        The CDM.

    Returns
    -------
    dict of str to str
        ``description`` first, then those of ``cdm_source_name``, ``source_description``,
        ``cdm_version``, ``vocabulary_version`` and ``source_release_date`` (ISO date) that
        hold a value.
    """
    info = {"description": source.description}
    if not source.has("cdm_source"):
        return info
    try:
        frame = source.execute(source.table("cdm_source").limit(1))
    except Exception:  # a malformed cdm_source row only loses the description
        logger.debug("cdm_source unreadable", exc_info=True)
        return info
    if frame.empty:
        return info
    row = frame.iloc[0]
    for column in _TEXT_FIELDS:
        value = row.get(column)
        if value is not None and not (isinstance(value, float) and np.isnan(value)):
            info[column] = str(value)
    release = row.get("source_release_date")
    if release is not None and not pd.isna(release):
        info["source_release_date"] = str(pd.Timestamp(release).date())
    return info
