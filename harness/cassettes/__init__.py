"""Cassettes: where recordings live and how they are recorded, matched, missed and replayed.

What it does: cassette paths and record modes (``paths``), scrubbing of what is stored
(``scrub``), the item's cassette while its call runs (``recording``), miss messages
(``misses``), replay through the SDK's own httpx2 client without patching (``replay``),
large base64 payloads stored once (``blobs``), recording files of any common format read
back into a Transcript (``files``), and ground truth from ``reference:`` stored beside the
cassettes (``reference``).

May import: ``transcript`` (recording files become a Transcript), ``sandbox`` (a reference
runs there when recording), ``spec`` (the Case), ``errors``, ``paths``; vcr is imported here
and nowhere else (lazily, so collection stays fast).

Hands on: an open :class:`~harness.cassettes.recording.Recording` for the call, and stored
record-time facts (timing, reference output).
"""
