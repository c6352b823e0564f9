"""Every platform's event, in the raw SDK shape and the REST API's, pinned by a snapshot in every format.

``fixtures/platforms/<name>.sdk.json`` is the event as the SDK sends it (what Relay, Bugsink or a ``before_send``
hook store); ``<name>.rest.json`` the same event as ``GET .../events/<id>/`` returns it after Sentry processed it:
``entries[]``, camelCase frames with padded addresses, symbolicated native frames with the SDK's frames kept as
``rawStacktrace``, images with their ``debug_status``, mapped the way Sentry's serializers (``get_api_context``
in ``src/sentry/interfaces/``) map them.

Two events come from real SDKs run for this purpose: ``native_linux`` is a SIGSEGV captured by sentry-native
0.16.3 (inproc backend) from a small C program built with debug information (its REST shape symbolicated from
that binary with addr2line; the kernel build and installation id replaced), and ``javascript_legacy`` an error
captured by raven 0.5.6 for Node, which sends the legacy ``sentry.interfaces.*`` names (and its frames newest
first, as that release did). The others are built from Relay's event schema (``relay-event-schema``) and the
SDKs' documented payloads: an iOS Mach exception with four threads, arm64 registers and 22 images; an Android
NDK crash with a debug file missing; a minidump-style Windows crash as stored after processing (threads with
``trust``, registers of two threads, raw stack traces); a game console crash; a Unity IL2CPP exception; a .NET
message with a top-level stack trace of IL offsets (``addr_mode: rel:N``, ``function_id``) and ``pe_dotnet``
images; a chained Java exception with a JVM source bundle; PHP and Ruby errors; Expect-CT and HPKP reports.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from sentry_issue_export import Settings, export_issues_sync
from sentry_issue_export.budget import fit_answer, size
from sentry_issue_export.plugins import Registry

from .snapshot_ext import SNAPSHOT_EXTENSIONS

PLATFORMS = Path(__file__).parent / "fixtures" / "platforms"
NAMES = sorted({path.name.split(".")[0] for path in PLATFORMS.glob("*.json")})
SHAPES = ("sdk", "rest")
FORMATS = ("text", "markdown", "json")
NATIVE = ("ios", "android_ndk", "native_linux", "minidump", "console")


def fixture(name: str, shape: str) -> Path:
    return PLATFORMS / f"{name}.{shape}.json"


def export(name: str, shape: str, fmt: str = "text", **settings: Any):
    result = export_issues_sync(
        "", Settings(source="file", from_file=fixture(name, shape), format=fmt, **settings), write=False
    )
    assert result.failures == ()
    return result


def test_there_is_a_fixture_of_each_platform_in_each_shape() -> None:
    expected = ["android_ndk", "console", "dotnet", "expect_ct", "hpkp", "ios", "java", "javascript_legacy"]
    assert sorted([*expected, "minidump", "native_linux", "php", "ruby", "unity"]) == NAMES
    assert all(fixture(name, shape).exists() for name in NAMES for shape in SHAPES)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", NAMES)
def test_platform_snapshot(name: str, shape: str, fmt: str, snapshot: SnapshotAssertion) -> None:
    assert export(name, shape, fmt).content == snapshot(extension_class=SNAPSHOT_EXTENSIONS[fmt])


# --- every fact is shown ------------------------------------------------------------------------------------


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _digits(address: Any) -> str:
    """An address as its significant hex digits: padded or not, it must show."""
    return format(int(address, 16), "x") if isinstance(address, str) else format(address, "x")


def facts(name: str, shape: str) -> dict[str, set[str]]:
    """What the fixture says that a report must show: addresses, functions, images, registers, OS error codes and
    security report fields."""
    event = json.loads(fixture(name, shape).read_text())
    found: dict[str, set[str]] = {
        key: set() for key in ("addresses", "functions", "images", "registers", "meta", "report")
    }
    for item in _walk(event):
        for key in ("rawStacktrace", "raw_stacktrace"):  # their addresses show in the processed frames' lines
            item.pop(key, None)
        for key in ("instruction_addr", "instructionAddr"):
            if item.get(key):
                found["addresses"].add(_digits(item[key]))
        if (
            "instruction_addr" in item or "instructionAddr" in item or "lineno" in item or "lineNo" in item
        ) and item.get("function"):
            found["functions"].add(item["function"])
        if isinstance(item.get("registers"), dict):
            for register, value in item["registers"].items():
                found["registers"] |= {register, _digits(value)}
        if isinstance(item.get("images"), list):
            for image in item["images"]:
                path = image.get("code_file") or ""
                found["images"].add(re.split(r"[\\/]", path)[-1] if path else image["type"])
                found["images"].add(image.get("debug_id") or image.get("uuid"))
                if image.get("image_addr"):
                    found["images"].add(_digits(image["image_addr"]))
        if isinstance(item.get("meta"), dict):
            meta = item["meta"]
            for part in ("signal", "mach_exception", "errno", "ns_error"):
                found["meta"] |= {str(value) for key, value in (meta.get(part) or {}).items() if key != "subcode"}
            if "subcode" in (meta.get("mach_exception") or {}):
                found["meta"].add(f"subcode 0x{meta['mach_exception']['subcode']:x}")
    for kind in ("expectct", "hpkp"):
        report = event.get(kind) or next((e["data"] for e in event.get("entries", []) if e["type"] == kind), None)
        for value in (report or {}).values():
            for text in value if isinstance(value, list) else [value]:
                if isinstance(text, dict):
                    found["report"] |= {str(v) for v in text.values()}
                elif isinstance(text, str):
                    found["report"] |= set(text.splitlines())
                elif text is not None:
                    found["report"].add(str(text).lower() if isinstance(text, bool) else str(text))
    return found


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", NAMES)
def test_every_address_image_register_os_error_and_report_field_is_shown(name: str, shape: str) -> None:
    text = export(name, shape).content
    lowered = text.lower()
    for kind, values in facts(name, shape).items():
        missing = sorted(value for value in values if value and value.lower() not in lowered)
        assert not missing, f"{kind} not shown: {missing}"


def test_a_native_frame_shows_its_address_beside_the_symbol_also_when_it_has_a_file() -> None:
    text = export("ios", "rest").content
    assert "0x102d6c1f4  Shop  Cart.total.getter + 36 (Cart.swift:27) [in app]" in text
    assert "0x1c6265d54  dyld  start + 2260" in text
    minidump = export("minidump", "sdk").content
    assert (
        "render::Mesh::upload(ID3D11DeviceContext*) + 227 (mesh.cpp:97) [in app] [found by scanning the stack]"
        in minidump
    )


def test_the_os_error_is_worded_as_a_person_reads_it() -> None:
    text = export("ios", "sdk").content
    assert "OS error:    SIGSEGV (11), SEGV_NOOP (0); Mach EXC_BAD_ACCESS (1), code 1, subcode 0x10\n" in text
    assert '{"code"' not in text and "signal:" not in text


def test_referenced_images_come_first_and_the_rest_are_listed_and_counted() -> None:
    text = export("ios", "rest").content
    images = text.split("\nDEBUG IMAGES\n")[1].split("\n\nBREADCRUMBS")[0]
    assert "22 images (system SDK iOS 17.2.1); the 9 the stack traces point into come first" in images
    referenced, others = images.split("Not referenced by any frame:")
    assert referenced.index("\n    Shop ") < referenced.index("\n    UIKitCore ") < referenced.index("\n    dyld ")
    assert "Sentry " in others and "WebKit " in others and "Shop " not in others


def test_raw_frames_that_symbolication_only_named_are_not_repeated() -> None:
    for name in NATIVE:
        assert "Raw frames" not in export(name, "rest").content, name  # the same addresses, now with names


# --- budgeted answers -----------------------------------------------------------------------------------------


def crashed_thread(answer: str) -> str:
    """The first thread of the answer's THREADS section, up to the next thread or section."""
    threads = answer.split("\nTHREADS\n")[1].split("\n\nDEBUG IMAGES\n")[0]
    return threads.split("\n  Thread ")[1]


@pytest.mark.parametrize("budget", [32_000, 12_000, 6_000, 4_500])
def test_a_budgeted_native_answer_keeps_the_crashed_threads_frames_their_addresses_and_images(
    budget: int, registry: Registry
) -> None:
    settings = Settings(source="file", from_file=fixture("ios", "rest"))
    result = export_issues_sync("", settings, write=False)
    answer = fit_answer("head", result.issues, result.reports, registry.renderer("text"), settings, budget).text
    assert size(answer) <= budget
    thread = crashed_thread(answer)
    assert thread.startswith('0 "com.apple.main-thread" [crashed]')
    frames = [line.split() for line in thread.splitlines() if line.strip().startswith("0x")]
    assert len(frames) >= 3 and frames[0][:2] == ["0x102d6c1f4", "Shop"]  # the crashing frame, by its address
    images = answer.split("\nDEBUG IMAGES\n")[1].split("\nNot referenced")[0]
    listed = {line.split()[0] for line in images.splitlines()[2:] if line.startswith("    ") and line.split()}
    assert {frame[1] for frame in frames} <= listed, "an image of a frame shown was cut"


def test_a_tight_answer_counts_the_images_no_frame_points_into(registry: Registry) -> None:
    settings = Settings(source="file", from_file=fixture("ios", "sdk"))
    result = export_issues_sync("", settings, write=False)
    answer = fit_answer("", result.issues, result.reports, registry.renderer("text"), settings, 6_000)
    assert "… 13 more images not shown (max_other_images=0) …" in answer.text
    assert any("debug images (those the frames point into first)" in note for note in answer.shortened)


def test_the_json_carries_the_new_parts_as_data() -> None:
    document = json.loads(export("ios", "rest", "json").content)
    event = document["reports"][0]["event"]
    crashed = event["threads"][0]
    assert dict(crashed["stacktrace"]["registers"])["pc"] == "0x0000000102d6c1f4"
    frame = crashed["stacktrace"]["frames"][-1]
    assert (frame["instruction_addr"], frame["symbol_addr"], frame["package"].endswith("/Shop")) == (
        "0x102d6c1f4",
        "0x102d6c1d0",
        True,
    )
    assert event["exceptions"][0]["mechanism"]["meta"]["mach_exception"] == {
        "exception": 1,
        "code": 1,
        "subcode": 16,
        "name": "EXC_BAD_ACCESS",
    }
    assert event["images"][0]["code_file"].endswith("/Shop") and event["images"][0]["referenced"]
    assert event["system_sdk"] == "iOS 17.2.1" and len(event["images"]) == 22
    expectct = json.loads(export("expect_ct", "sdk", "json").content)["reports"][0]["event"]["expectct"]
    assert expectct["scts"][0] == {
        "version": 1,
        "status": "invalid",
        "source": "tls-extension",
        "serialized_sct": "ABCD==",
    }
    hpkp = json.loads(export("hpkp", "rest", "json").content)["reports"][0]["event"]["hpkp"]
    assert hpkp["include_subdomains"] is True and len(hpkp["known_pins"]) == 2
