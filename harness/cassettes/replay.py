"""Replay without patching: recordings served through the SDK's own httpx2 client.

vcrpy's ``use_cassette`` patches and unpatches every HTTP library it knows on each entry,
which costs more than the replayed call itself (DESIGN.md, performance facts). In replay the
harness instead gives the SDK an ``httpx2.Client`` whose transport answers from the item's
vcrpy ``Cassette`` (loaded with the session VCR's matchers, filters and persister, so
``pytest_recording_configure`` customisations still apply). Recording still goes through
vcrpy's patches, where the network dominates anyway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2

# Arguments of VCR.get_merged_config that configure the context manager, not the Cassette.
_NON_CASSETTE_ARGS = ("path_transformer", "func_path_generator", "record_on_exception")


def load_cassette(my_vcr: Any, path: Path) -> Any:
    """Load a cassette for replay (record mode ``none``) without patching anything."""
    from vcr.cassette import Cassette

    config = my_vcr.get_merged_config(path=str(path), record_mode="none")
    transform = config.get("path_transformer")
    kwargs = {k: v for k, v in config.items() if k not in _NON_CASSETTE_ARGS}
    if transform is not None:
        kwargs["path"] = transform(kwargs["path"])
    return Cassette.load(**kwargs)


class ReplayTransport(httpx2.BaseTransport):
    """Answers each request from the current cassette; a miss raises vcrpy's exception."""

    def __init__(self) -> None:
        self.cassette: Any = None
        self.last_played: dict[str, Any] | None = None  # for a 2xx the SDK then cannot read

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Play the recorded response that matches ``request``."""
        from vcr.errors import CannotOverwriteExistingCassetteException
        from vcr.request import Request as VcrRequest

        body = request.read()
        vcr_request = VcrRequest(request.method, str(request.url), body, request.headers)
        cassette = self.cassette
        if cassette is None or not cassette.can_play_response_for(vcr_request):
            if cassette is None:
                raise RuntimeError("harness replay transport used outside an item's cassette")
            raise CannotOverwriteExistingCassetteException(cassette=cassette,
                                                           failed_request=vcr_request)
        stored = cassette.play_response(vcr_request)
        self.last_played = stored
        headers = [(name, value) for name, values in stored["headers"].items()
                   for value in values]
        return httpx2.Response(stored["status"]["code"], headers=headers,
                               stream=httpx2.ByteStream(stored["body"]["string"]),
                               request=request)


TRANSPORT = ReplayTransport()  # one per process: the replay client is made once


def replay_http_client() -> httpx2.Client:
    """An httpx2 client for the SDK that can only replay."""
    return httpx2.Client(transport=TRANSPORT)
