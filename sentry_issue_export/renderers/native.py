"""Native code in a report: frames by address, registers, debug images, what the operating system said about a
crash, and the raw frames a stack trace had before Sentry processed it.

Plain text, unescaped, like ``formatting``: each renderer escapes it for its own format.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models import DebugImage, Event, Frame, MechanismMeta, Pair, Stacktrace
from ..models.coerce import parse_address
from .formatting import (
    FrameGap,
    format_inline,
    frame_function,
    frame_position,
    frames_newest_first,
    plural,
    repeat_line,
)


def is_native(frame: Any) -> bool:
    """True for a frame with an instruction address: its line leads with the address and names its image."""
    return isinstance(frame, Frame) and frame.instruction_addr is not None


def address_width(stacktrace: Stacktrace) -> int:
    """Hex digits of the longest address in a stack trace, so addresses line up (as Sentry pads them)."""
    return max((_hex_digits(frame.instruction_addr) for frame in stacktrace.frames), default=0)


def _hex_digits(address: str | None) -> int:
    """Hex digits of an address as sent, leading zeros included (Sentry pads them; a register dump is padded)."""
    value = parse_address(address)
    if value is None or value < 0:
        return 0
    text = (address or "").strip().lower()
    return max(len(text) - 2, 1) if text.startswith("0x") else len(f"{value:x}")


def padded_address(address: str | None, width: int = 0) -> str:
    """``0x1a2b`` as ``0x00001a2b`` for ``width`` 8; text that is no number stays as sent."""
    value = parse_address(address)
    if value is None or value < 0:
        return address or ""
    return f"0x{value:0{width}x}"


def basename(path: str | None) -> str:
    """The last part of a path, for Windows and POSIX paths alike: an image's file name. A .NET assembly's
    display name (``Npgsql, Version=8.0.2.0, Culture=neutral, PublicKeyToken=…``) gives its simple name."""
    path = path or ""
    if ", Version=" in path:
        return path.split(",", 1)[0]
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def frame_symbol(frame: Frame) -> str:
    """The frame's function and how far into it the instruction is: ``main + 36`` (from ``symbol_addr``), or the
    function's own address when the offset cannot be worked out."""
    function = frame_function(frame)
    start, address = parse_address(frame.symbol_addr), parse_address(frame.instruction_addr)
    if start is not None and address is not None and (frame.addr_mode or "abs") == "abs" and address - start >= 0:
        return f"{function or '(function)'} + {address - start}"
    if frame.symbol_addr:
        return (
            f"{function or '(function)'} (function at {frame.symbol_addr})"
            if function
            else f"function at {frame.symbol_addr}"
        )
    return function


_TRUST = {
    "scan": "found by scanning the stack",
    "cfi_scan": "found by scanning the stack with CFI",
    "prewalked": "walked on the device",
}


def frame_notes(frame: Frame, images: Sequence[DebugImage] = ()) -> list[str]:
    """How to read a native frame's address: how the stack walker found it (``trust``), what the address is
    relative to (``addr_mode``: the image, named when ``images`` has it), and a .NET frame's method token."""
    notes = []
    if frame.trust and frame.trust.lower() != "none":
        notes.append(_TRUST.get(frame.trust.lower(), f"trust: {frame.trust}"))
    mode = frame.addr_mode or ""
    if mode and mode.lower() != "abs":
        target = mode[4:] if mode.lower().startswith("rel:") else mode
        named = next((image for image in images if str(image.index) == target or image.debug_id == target), None)
        notes.append(f"address relative to image {target}" + (f" ({named.name})" if named and named.name else ""))
    if frame.function_id:
        notes.append(f"method token {frame.function_id}")
    return notes


def native_frame_line(frame: Frame, width: int = 0) -> str:
    """A native frame on one line: address, image, function and offset, then the file when there is one:
    ``0x00000001a2b3c4d8  MyApp  ViewController.crash() + 36 (ViewController.swift:42)``."""
    parts = [padded_address(frame.instruction_addr, width)]
    if frame.package:
        parts.append(basename(frame.package))
    symbol = frame_symbol(frame)
    if symbol:
        parts.append(symbol)
    line = "  ".join(parts)
    if frame.filename or frame.abs_path:
        line += f" ({frame_position(frame)})"
    return line


def register_grid(registers: Sequence[Pair], width: int = 76) -> str:
    """Registers as an aligned grid, as many to a line as fit ``width``: ``rax 0x0000000000000064  rbx ...``."""
    if not registers:
        return ""
    digits = max((_hex_digits(value) for _, value in registers), default=0)
    cells = [(name, padded_address(value, digits) if value else "") for name, value in registers]
    name_width = max(len(name) for name, _ in cells)
    value_width = max(len(value) for _, value in cells)
    cell_width = name_width + 1 + value_width
    per_line = max(1, (width + 2) // (cell_width + 2))
    lines = []
    for start in range(0, len(cells), per_line):
        row = cells[start : start + per_line]
        lines.append("  ".join(f"{name.ljust(name_width)} {value.ljust(value_width)}" for name, value in row).rstrip())
    return "\n".join(lines)


def image_rows(images: Sequence[DebugImage]) -> list[list[str]]:
    """Each image as the cells of the images table: name, address, size, arch, debug id, status. A column no
    image fills is left out (see :func:`image_columns`)."""
    width = max((_hex_digits(image.image_addr) for image in images), default=0)
    rows = []
    for image in images:
        size = f"0x{image.image_size:x}" if image.image_size is not None else ""
        status = image.debug_status or ""
        if image.unwind_status and image.unwind_status != image.debug_status:
            status = ", ".join(filter(None, (status and f"debug {status}", f"unwind {image.unwind_status}")))
        name = image.name or _UNNAMED_IMAGES.get((image.type or "").lower()) or f"({image.type or '?'})"
        debug_id = image.debug_id or image.code_id or ""
        rows.append([name, padded_address(image.image_addr, width), size, image.arch or "", debug_id, status])
    return rows


_UNNAMED_IMAGES = {"jvm": "(JVM source bundle)", "proguard": "(ProGuard mapping)"}
"""What to call an image that names no file."""

IMAGE_COLUMNS = ("Image", "Address", "Size", "Arch", "Debug ID", "Status")


def image_columns(rows: Sequence[Sequence[str]]) -> list[int]:
    """Indexes of the image table's columns that some row fills (the name always)."""
    return [0] + [column for column in range(1, len(IMAGE_COLUMNS)) if any(row[column] for row in rows)]


def image_table(images: Sequence[DebugImage]) -> str:
    """The images as aligned text columns, under a header line."""
    rows = image_rows(images)
    columns = image_columns(rows)
    table = [[IMAGE_COLUMNS[column] for column in columns]] + [[row[column] for column in columns] for row in rows]
    widths = [max(len(line[index]) for line in table) for index in range(len(columns))]
    widths[0] = min(widths[0], 48)
    return "\n".join("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in table)


def referenced_images(event: Event) -> list[DebugImage]:
    return [image for image in event.images if image.referenced]


def other_images(event: Event) -> list[DebugImage]:
    return [image for image in event.images if not image.referenced]


def mechanism_meta_text(meta: MechanismMeta | None) -> str:
    """What the operating system reported, as a person reads it:
    ``SIGSEGV (11), SEGV_MAPERR; Mach EXC_BAD_ACCESS (1), code 1, subcode 0x0; errno ENOENT (2)``."""
    if meta is None:
        return ""
    parts = []
    signal = meta.signal
    if signal is not None:
        text = _named(signal.name, signal.number, "signal")
        if signal.code_name:
            text += f", {signal.code_name}"
            if signal.code is not None:
                text += f" ({signal.code})"
        elif signal.code is not None:
            text += f", code {signal.code}"
        parts.append(text)
    mach = meta.mach_exception
    if mach is not None:
        text = "Mach " + _named(mach.name, mach.exception, "exception")
        if mach.code is not None:
            text += f", code {mach.code}"
        if mach.subcode is not None:
            text += f", subcode 0x{mach.subcode:x}" if mach.subcode >= 0 else f", subcode {mach.subcode}"
        parts.append(text)
    if meta.errno is not None:
        parts.append("errno " + _named(meta.errno.name, meta.errno.number, ""))
    if meta.ns_error is not None:
        error = meta.ns_error
        text = "NSError " + (error.domain or "(no domain)")
        if error.code is not None:
            text += f", code {error.code}"
        parts.append(text)
    parts += [f"{name}: {format_inline(value)}" for name, value in meta.other]
    return "; ".join(parts)


def _named(name: str | None, number: int | None, noun: str) -> str:
    if name and number is not None:
        return f"{name} ({number})"
    if name:
        return name
    return f"{noun} {number}".strip() if number is not None else f"{noun} ?".strip()


_RAW_LABELS = {
    "javascript": "before source maps were applied",
    "node": "before source maps were applied",
    "java": "before deobfuscation",
    "kotlin": "before deobfuscation",
    "android": "before deobfuscation",
    "groovy": "before deobfuscation",
    "scala": "before deobfuscation",
    "clojure": "before deobfuscation",
}


def raw_frames_label(raw: Stacktrace, platform: str | None) -> str:
    """``Raw frames, before …``: source maps for JavaScript, deobfuscation for the JVM, symbolication for native
    code (any frame with an address)."""
    if any(frame.instruction_addr for frame in raw.frames):
        return "Raw frames, before symbolication"
    platforms = {(frame.platform or platform or "").lower() for frame in raw.frames} or {(platform or "").lower()}
    for name in platforms:
        if name in _RAW_LABELS:
            return "Raw frames, " + _RAW_LABELS[name]
    return "Raw frames, before processing"


def _raw_identity(frame: Frame) -> tuple[Any, ...]:
    return (frame.function, frame.filename, frame.abs_path, frame.module, frame.lineno, frame.colno,
            parse_address(frame.instruction_addr), frame.package)  # fmt: skip


def shows_raw_frames(stacktrace: Stacktrace | None, raw: Stacktrace | None) -> bool:
    """Whether a raw stack trace adds anything: not when it is the processed one over again, nor when each
    source-mapped frame already says where it was minified, nor when symbolication only named the frames (the
    same addresses in the same order; inlined functions would add frames)."""
    if raw is None or not raw.frames:
        return False
    if stacktrace is None:
        return True
    if any(frame.is_source_mapped for frame in stacktrace.frames):
        return False
    addresses = [parse_address(frame.instruction_addr) for frame in raw.frames]
    if None not in addresses and addresses == [parse_address(frame.instruction_addr) for frame in stacktrace.frames]:
        return False  # symbolication named the same frames, whose addresses the processed lines show
    return [_raw_identity(frame) for frame in raw.frames] != [_raw_identity(frame) for frame in stacktrace.frames]


def raw_frames_text(stacktrace: Stacktrace, limits: Any, images: Sequence[DebugImage] = ()) -> str:
    """One line per frame, most recent call first, for unprocessed stack traces (minified, obfuscated or not yet
    symbolicated)."""
    lines = []
    width = address_width(stacktrace)
    for item in frames_newest_first(stacktrace):
        if isinstance(item, FrameGap) and item.repeat_of is not None:
            lines.append(repeat_line(item))
        elif isinstance(item, FrameGap):
            lines.append(f"… {plural(item.count, 'frame')} omitted (max_frames={limits.max_frames}) …")
        elif is_native(item):
            notes = frame_notes(item, images)
            lines.append(native_frame_line(item, width) + (f" [{'; '.join(notes)}]" if notes else ""))
        else:
            function = frame_function(item)
            lines.append(frame_position(item) + (f" in {function}" if function else ""))
    return "\n".join(lines)


def images_summary(event: Event) -> str:
    """``166 images; the 4 the stack traces point into come first.``"""
    referenced = sum(1 for image in event.images if image.referenced) + event.images_truncated
    total = len(event.images) + event.images_truncated + event.other_images_truncated
    text = plural(total, "image")
    if event.system_sdk:
        text += f" (system SDK {event.system_sdk})"
    if referenced == total:
        return text + ("; the stack traces point into each one." if total > 1 else "; the stack traces point into it.")
    if not referenced:
        return text + "; no stack frame points into any of them."
    if referenced == 1:
        return text + "; the one the stack traces point into comes first."
    return text + f"; the {referenced:,} the stack traces point into come first, in the order the frames reach them."
