"""Browser security reports in a report: the fields of a CSP violation, an Expect-CT failure and an HPKP
failure, most telling first, as ``(label, value)`` pairs for the templates. Plain text, unescaped, like
``formatting``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models import Csp, ExpectCt, Hpkp
from .formatting import label


def csp_fields(csp: Csp) -> list[tuple[str, Any]]:
    """The violation's facts, most telling first, as ``(label, value)``."""
    source = csp.source_file
    if source and csp.line_number is not None:
        source += f":{csp.line_number}"
        if csp.column_number is not None:
            source += f":{csp.column_number}"
    fields: list[tuple[str, Any]] = [
        ("Effective directive", csp.effective_directive),
        ("Violated directive", csp.violated_directive),
        ("Blocked URI", csp.blocked_uri),
        ("Document URI", csp.document_uri),
        ("Source file", source),
        ("Script sample", csp.script_sample),
        ("Referrer", csp.referrer),
        ("Disposition", csp.disposition),
        ("Status code", csp.status_code),
        ("Original policy", csp.original_policy),
    ]
    fields += [(label(name), value) for name, value in csp.other]
    return [(name, value) for name, value in fields if value not in (None, "")]


def _chain(pems: Sequence[str]) -> str:
    return "\n\n".join(pem.strip("\n") for pem in pems)


def expectct_fields(report: ExpectCt) -> list[tuple[str, Any]]:
    """Every field of an Expect-CT report, most telling first, as ``(label, value)``."""
    scts = [
        " ".join(
            filter(
                None,
                (
                    f"v{sct.version}" if sct.version is not None else None,
                    sct.status,
                    f"({sct.source})" if sct.source else None,
                    sct.serialized_sct,
                ),
            )
        )
        for sct in report.scts
    ]
    fields: list[tuple[str, Any]] = [
        ("Hostname", report.hostname),
        ("Port", report.port),
        ("Scheme", report.scheme),
        ("Failure mode", report.failure_mode),
        ("Test report", report.test_report),
        ("Date", report.date_time),
        ("Effective expiration date", report.effective_expiration_date),
        (f"SCTs ({len(scts)})", "\n".join(scts) if scts else None),
        (f"Served certificate chain ({len(report.served_certificate_chain)})", _chain(report.served_certificate_chain)),
        (
            f"Validated certificate chain ({len(report.validated_certificate_chain)})",
            _chain(report.validated_certificate_chain),
        ),
    ]
    fields += [(label(name), value) for name, value in report.other]
    return [(name, value) for name, value in fields if value not in (None, "")]


def hpkp_fields(report: Hpkp) -> list[tuple[str, Any]]:
    """Every field of an HPKP report, most telling first, as ``(label, value)``."""
    fields: list[tuple[str, Any]] = [
        ("Hostname", report.hostname),
        ("Port", report.port),
        ("Noted hostname", report.noted_hostname),
        ("Include subdomains", report.include_subdomains),
        ("Date", report.date_time),
        ("Effective expiration date", report.effective_expiration_date),
        (f"Known pins ({len(report.known_pins)})", "\n".join(report.known_pins)),
        (f"Served certificate chain ({len(report.served_certificate_chain)})", _chain(report.served_certificate_chain)),
        (
            f"Validated certificate chain ({len(report.validated_certificate_chain)})",
            _chain(report.validated_certificate_chain),
        ),
    ]
    fields += [(label(name), value) for name, value in report.other]
    return [(name, value) for name, value in fields if value not in (None, "")]
