"""Browser security reports: Content-Security-Policy violations, Expect-CT (Certificate Transparency) failures
and HTTP Public Key Pinning (HPKP) failures.

Relay turns a browser's report into an event and keeps the report's fields under ``csp``, ``expectct`` or
``hpkp`` (keys in snake_case); the REST API returns them unchanged as entries of those types. A report read
straight from a browser (``date-time``, ``known-pins``) is read too. Fields this version does not know are kept in
``other``.
"""

from __future__ import annotations

from typing import Any, Self

import attrs

from .coerce import Field, as_bool, as_fields, as_int, as_list, as_mapping, as_text


def _snake(data: Any) -> dict[str, Any]:
    """The report's keys in snake_case, as Relay stores them (browsers send ``date-time``)."""
    return {str(key).replace("-", "_"): value for key, value in as_mapping(data).items()}


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(text for text in map(as_text, as_list(value)) if text is not None)


def _others(data: dict[str, Any], cls: type) -> tuple[Field, ...]:
    named = {field.name for field in attrs.fields(cls)} - {"other"}
    return tuple((name, value) for name, value in as_fields(data) if name not in named and value is not None)


@attrs.frozen
class Csp:
    """A Content-Security-Policy violation report."""

    document_uri: str | None = None
    effective_directive: str | None = None
    violated_directive: str | None = None
    blocked_uri: str | None = None
    source_file: str | None = None
    line_number: int | None = None
    column_number: int | None = None
    original_policy: str | None = None
    referrer: str | None = None
    disposition: str | None = None
    status_code: int | None = None
    script_sample: str | None = None
    other: tuple[Field, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = as_mapping(data)
        named = {field.name for field in attrs.fields(cls)} - {"other"}
        return cls(
            document_uri=as_text(data.get("document_uri")),
            effective_directive=as_text(data.get("effective_directive")),
            violated_directive=as_text(data.get("violated_directive")),
            blocked_uri=as_text(data.get("blocked_uri")),
            source_file=as_text(data.get("source_file")),
            line_number=as_int(data.get("line_number")),
            column_number=as_int(data.get("column_number")),
            original_policy=as_text(data.get("original_policy")),
            referrer=as_text(data.get("referrer")),
            disposition=as_text(data.get("disposition")),
            status_code=as_int(data.get("status_code")),
            script_sample=as_text(data.get("script_sample")),
            other=tuple((name, value) for name, value in as_fields(data) if name not in named and value is not None),
        )


@attrs.frozen
class Sct:
    """One Signed Certificate Timestamp of an Expect-CT report: where it came from and whether it was valid."""

    version: int | None = None
    status: str | None = None
    source: str | None = None
    serialized_sct: str | None = None


@attrs.frozen
class ExpectCt:
    """An Expect-CT report: a connection whose certificate failed the Certificate Transparency check."""

    date_time: str | None = None
    hostname: str | None = None
    port: int | None = None
    scheme: str | None = None
    effective_expiration_date: str | None = None
    served_certificate_chain: tuple[str, ...] = ()
    validated_certificate_chain: tuple[str, ...] = ()
    scts: tuple[Sct, ...] = ()
    failure_mode: str | None = None
    test_report: bool | None = None
    other: tuple[Field, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = _snake(data)
        scts = []
        for item in as_list(data.get("scts")):
            item = _snake(item)
            scts.append(
                Sct(
                    version=as_int(item.get("version")),
                    status=as_text(item.get("status")),
                    source=as_text(item.get("source")),
                    serialized_sct=as_text(item.get("serialized_sct")),
                )
            )
        return cls(
            date_time=as_text(data.get("date_time")),
            hostname=as_text(data.get("hostname") or data.get("host_name")),
            port=as_int(data.get("port")),
            scheme=as_text(data.get("scheme")),
            effective_expiration_date=as_text(data.get("effective_expiration_date")),
            served_certificate_chain=_texts(data.get("served_certificate_chain")),
            validated_certificate_chain=_texts(data.get("validated_certificate_chain")),
            scts=tuple(scts),
            failure_mode=as_text(data.get("failure_mode")),
            test_report=as_bool(data.get("test_report")),
            other=_others({k: v for k, v in data.items() if k != "host_name"}, cls),
        )


@attrs.frozen
class Hpkp:
    """An HPKP report (RFC 7469): a connection whose certificate chain matched none of the pinned keys."""

    date_time: str | None = None
    hostname: str | None = None
    port: int | None = None
    effective_expiration_date: str | None = None
    include_subdomains: bool | None = None
    noted_hostname: str | None = None
    served_certificate_chain: tuple[str, ...] = ()
    validated_certificate_chain: tuple[str, ...] = ()
    known_pins: tuple[str, ...] = ()
    other: tuple[Field, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> Self:
        data = _snake(data)
        return cls(
            date_time=as_text(data.get("date_time")),
            hostname=as_text(data.get("hostname")),
            port=as_int(data.get("port")),
            effective_expiration_date=as_text(data.get("effective_expiration_date")),
            include_subdomains=as_bool(data.get("include_subdomains")),
            noted_hostname=as_text(data.get("noted_hostname")),
            served_certificate_chain=_texts(data.get("served_certificate_chain")),
            validated_certificate_chain=_texts(data.get("validated_certificate_chain")),
            known_pins=_texts(data.get("known_pins")),
            other=_others(data, cls),
        )
