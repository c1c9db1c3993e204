"""The surfaces by ``api:`` name: the one place a new API surface is added."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.calls.surfaces.chat import Chat
from harness.calls.surfaces.generate import GenerateContent
from harness.calls.surfaces.interactions import Interactions
from harness.calls.surfaces.live import Live
from harness.calls.surfaces.stream import Stream
from harness.errors import SetupError

if TYPE_CHECKING:
    from harness.calls.surfaces.protocol import Surface
    from harness.spec.case import Case

SURFACES: dict[str, Surface] = {s.name: s for s in (GenerateContent(), Stream(), Interactions(),
                                                    Chat(), Live())}


def surface_for(case: Case) -> Surface:
    """The surface that the case's ``api:`` names.

    Raises:
        SetupError: no surface is built for that name yet; the message lists those that are.
    """
    surface = SURFACES.get(case.api)
    if surface is None:
        raise SetupError(f"{case.location()}: api {case.api!r} is not supported yet; "
                         "available: " + ", ".join(SURFACES))
    return surface
