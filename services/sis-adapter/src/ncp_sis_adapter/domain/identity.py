"""Checks on the identifiers that login hands over, before any SIS is asked."""

import re

from ncp_contracts.sis_models import IDENTIFIER_KINDS, LearnerIdentity

# Printable, no control characters, no wildcards that a careless SIS query could interpret, and no lone
# surrogates (no adapter could encode them for its SIS).
_IDENTIFIER = re.compile("[^\x00-\x1f\x7f%*?\ud800-\udfff]{1,256}")
_NAME = re.compile("[^\x00-\x1f\x7f\ud800-\udfff]{1,200}")


def identity_problems(identity: LearnerIdentity) -> list[str]:
    """What is wrong with the identity, as `field: reason` (never the value); empty when usable."""
    problems = []
    for kind in IDENTIFIER_KINDS:
        value = getattr(identity, kind)
        if value is not None and not _IDENTIFIER.fullmatch(value.strip() or "\x00"):
            problems.append(f"identity.{kind}: empty, too long or contains forbidden characters")
    for name in ("given_names", "family_name"):
        value = getattr(identity, name)
        if value is not None and value and not _NAME.fullmatch(value):
            problems.append(f"identity.{name}: too long or contains control or unencodable characters")
    if not any(getattr(identity, kind) for kind in IDENTIFIER_KINDS):
        problems.append("identity: no identifier (national_id, learner_id, esi or subject)")
    return problems
