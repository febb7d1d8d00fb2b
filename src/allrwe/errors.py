"""Exception and warning classes of allrwe.

Every error allrwe raises on purpose derives from :class:`AllrweError` and also from the matching
built-in exception, so callers may catch either. The command line turns an :class:`AllrweError`
into a one-line message and a non-zero exit code; anything else is a bug.
"""

from __future__ import annotations


class AllrweError(Exception):
    """Root of every error allrwe raises on purpose."""

    #: exit code the command line uses for this error
    exit_code: int = 1


class UsageError(AllrweError, ValueError):
    """The call cannot run as given: unknown URL scheme, missing path, bad option."""

    exit_code = 2


class BackendUnavailableError(AllrweError, ImportError):
    """An optional backend (PostgreSQL, Spark) is missing; the message says how to install it."""

    exit_code = 2


class CdmConnectionError(AllrweError, ConnectionError):
    """The CDM cannot be opened or reached."""

    exit_code = 2


class CdmSchemaError(AllrweError, LookupError):
    """A CDM table or column the analysis needs is missing or has an incompatible type."""


class CdmDataError(AllrweError, ValueError):
    """CDM rows break a rule the analysis cannot work around (e.g. dates out of order)."""


class VocabularyError(AllrweError, LookupError):
    """A concept set is unknown, malformed, or resolves to no concept."""


class StudySpecError(AllrweError, ValueError):
    """A study specification is invalid; the message names the field (and line)."""


class StudySpecNotFoundError(StudySpecError):
    """The study spec file does not exist: the call cannot run as given."""

    exit_code = 2


class CohortDefinitionError(AllrweError, ValueError):
    """A cohort cannot be built from the specification and the CDM."""


class AnalysisError(AllrweError, ValueError):
    """An analysis received input it cannot use."""


class ResultsError(AllrweError, ValueError):
    """Result records are malformed: a missing column, an unknown estimate type, a bad margin."""


class DisclosureError(AllrweError, RuntimeError):
    """An output would disclose a small cell or a person identifier."""


class FigureWorkerError(AllrweError, RuntimeError):
    """The process drawing the static figures ended before it wrote them."""


class AllrweWarning(UserWarning):
    """Root of allrwe's warnings."""


class StudyWarning(AllrweWarning):
    """A study ran, but part of it is empty or not estimable (an empty stratum, no events)."""


class DataQualityWarning(AllrweWarning):
    """The CDM has findings that do not stop the analysis."""
