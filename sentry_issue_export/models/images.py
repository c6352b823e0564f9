"""Debug images: the binaries (and mapping files) a native, mobile or JVM event's stack traces ran in.

An SDK lists them in ``debug_meta.images``; the REST API returns the same list in its ``debugmeta`` entry, keys
unchanged, with what Sentry found while symbolicating added (``debug_status``, ``unwind_status``, ``features``,
``candidates``). :func:`reference_images` marks the images the stack frames point into and puts them first, in
the order the frames reach them, so the image of the crashing frame leads.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any, Self

import attrs

from .coerce import Field, as_address, as_fields, as_int, as_mapping, as_text, parse_address, pick
from .stacktrace import Frame

ADDRESS_FREE_TYPES = frozenset({"proguard", "jvm"})
"""Images that map every JVM frame rather than a range of addresses: counted as referenced when the stack traces
have JVM frames."""

_KNOWN = frozenset(
    {
        "type",
        "code_file",
        "name",
        "debug_id",
        "id",
        "uuid",
        "code_id",
        "debug_file",
        "arch",
        "image_addr",
        "image_size",
        "image_vmaddr",
        "debug_status",
        "unwind_status",
    }
)


@attrs.frozen
class DebugImage:
    """One image of ``debug_meta.images``. ``code_file`` is the binary's path (``name`` in the old ``apple`` and
    ``symbolic`` types), ``debug_id`` the id its debug file is found by (``uuid`` for ``apple`` and ``proguard``
    images), ``image_addr`` and ``image_size`` where it was loaded; ``debug_status`` is what Sentry found for it
    (``found``, ``missing``, ``unused`` ...). ``referenced`` is set when a stack frame points into the image;
    ``index`` is its position in ``debug_meta.images``, which a frame's ``addr_mode`` of ``rel:N`` names;
    ``other`` holds the remaining fields as sent."""

    type: str | None = None
    code_file: str | None = None
    debug_id: str | None = None
    code_id: str | None = None
    debug_file: str | None = None
    arch: str | None = None
    image_addr: str | None = None
    image_size: int | None = None
    image_vmaddr: str | None = None
    debug_status: str | None = None
    unwind_status: str | None = None
    referenced: bool = False
    index: int | None = None
    other: tuple[Field, ...] = ()

    @classmethod
    def from_api(cls, data: Any, index: int | None = None) -> Self:
        data = as_mapping(data)
        size = data.get("image_size")
        return cls(
            type=as_text(data.get("type")),
            code_file=as_text(pick(data, "code_file", "name")),
            debug_id=as_text(pick(data, "debug_id", "id", "uuid")),
            code_id=as_text(data.get("code_id")),
            debug_file=as_text(data.get("debug_file")),
            arch=as_text(data.get("arch")),
            image_addr=as_address(data.get("image_addr")),
            image_size=parse_address(size) if isinstance(size, str) else as_int(size),
            image_vmaddr=as_address(data.get("image_vmaddr")),
            debug_status=as_text(data.get("debug_status")),
            unwind_status=as_text(data.get("unwind_status")),
            index=index,
            other=tuple((name, value) for name, value in as_fields(data, skip=_KNOWN) if value is not None),
        )

    @property
    def name(self) -> str:
        """The file name of the binary (or of its debug file), without its directories."""
        path = self.code_file or self.debug_file or ""
        return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def reference_images(images: Iterable[DebugImage], frames: Iterable[Frame]) -> tuple[DebugImage, ...]:
    """``images`` with the ones ``frames`` point into marked ``referenced`` and put first, in the order the
    frames reach them; the others follow in their own order.

    A frame points into an image by its address (``instruction_addr`` within the image's range; an image
    without a size reaches up to the next one, as Sentry assumes), by ``addr_mode`` (``rel:N``, or
    ``rel:<debug id>``), by ``image_addr``, or by its ``package`` (the image's path or file name).
    """
    images = list(images)
    order = _reached(images, frames)
    referenced = [attrs.evolve(images[index], referenced=True) for index in order]
    return tuple(referenced + [image for index, image in enumerate(images) if index not in order])


def rank_images(images: Iterable[DebugImage], frames: Iterable[Frame]) -> tuple[DebugImage, ...]:
    """``images`` reordered: the ones ``frames`` point into first, in the order the frames reach them, then the
    rest; nothing else changes. Capping uses it so the images of the frames a report still shows come first."""
    images = list(images)
    order = _reached(images, frames)
    return tuple(
        [images[index] for index in order] + [image for index, image in enumerate(images) if index not in order]
    )


def _reached(images: list[DebugImage], frames: Iterable[Frame]) -> dict[int, None]:
    """The indexes of the images ``frames`` point into, in the order the frames reach them."""
    order: dict[int, None] = {}
    if not images:
        return order
    finder = _ImageFinder(images)
    jvm_frames = False
    for frame in frames:
        index = finder.image_of(frame)
        if index is not None:
            order.setdefault(index)
        elif frame.module and frame.instruction_addr is None:
            jvm_frames = True
    if jvm_frames:
        for index, image in enumerate(images):
            if (image.type or "").lower() in ADDRESS_FREE_TYPES:
                order.setdefault(index)
    return order


class _ImageFinder:
    """Looks up the image a frame points into, by address in O(log n)."""

    def __init__(self, images: list[DebugImage]) -> None:
        starts = sorted(
            (start, index)
            for index, image in enumerate(images)
            if (start := parse_address(image.image_addr)) is not None
        )
        self.starts = [start for start, _ in starts]
        self.ends: list[float] = []
        for position, (start, index) in enumerate(starts):
            size = images[index].image_size
            following = starts[position + 1][0] if position + 1 < len(starts) else float("inf")
            self.ends.append(start + size if size else following)
        self.indexes = [index for _, index in starts]
        self.by_start = {start: index for start, index in starts}
        self.by_debug_id = {image.debug_id.lower(): index for index, image in enumerate(images) if image.debug_id}
        self.by_path: dict[str, int] = {}
        for index, image in enumerate(images):
            if image.code_file:
                self.by_path.setdefault(image.code_file, index)
                self.by_path.setdefault(image.name, index)
        # ``rel:N`` names the Nth image as listed in the payload, whatever order ``images`` is in now.
        self.by_index = {
            (position if image.index is None else image.index): position for position, image in enumerate(images)
        }

    def image_of(self, frame: Frame) -> int | None:
        mode = (frame.addr_mode or "").lower()
        if mode.startswith("rel:"):
            target = mode[4:]
            if target.isdigit():
                return self.by_index.get(int(target))
            return self.by_debug_id.get(target)
        image_start = parse_address(frame.image_addr)
        if image_start is not None and image_start in self.by_start:
            return self.by_start[image_start]
        address = parse_address(frame.instruction_addr)
        if address is not None and self.starts:
            position = bisect.bisect_right(self.starts, address) - 1
            if position >= 0 and address < self.ends[position]:
                return self.indexes[position]
        if frame.package:
            found = self.by_path.get(frame.package)
            if found is None:
                found = self.by_path.get(frame.package.replace("\\", "/").rsplit("/", 1)[-1])
            return found
        return self.by_path.get(frame.abs_path) if frame.abs_path else None  # a source map's minified file
