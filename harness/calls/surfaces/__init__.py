"""API surfaces: one module per ``api:`` name, each behind the :class:`~.protocol.Surface` protocol.

``registry`` maps the name a case's ``api:`` gives to its surface; adding a surface is a new
module here and one line in the registry, never an ``if`` in the call loop. A surface turns
(client, case, model) into one SDK call and its Transcript; retries, cassettes and timing
belong to :mod:`harness.calls.run`, alike for every surface.

May import: ``spec`` (the Case), ``transcript`` (SDK responses become a Transcript), ``errors``;
google.genai only inside functions.
"""
