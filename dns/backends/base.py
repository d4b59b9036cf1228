"""The protocol every DNS backend implements, and the two kinds of failure the outbox knows."""

from __future__ import annotations

from typing import Protocol

# (owner with final dot, type) -> (ttl, contents); an empty contents list deletes the rrset.
RRsets = dict[tuple[str, str], tuple[int, list[str]]]


class BackendError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TransientBackendError(BackendError):
    """Worth retrying: the server is down, slow, or answered 5xx."""


class PermanentBackendError(BackendError):
    """Retrying will not help: the server refused the data or our credentials."""


class ZoneMissing(BackendError):
    """The server does not have the zone (publish it whole)."""


class Backend(Protocol):
    name: str

    def create_zone(self, zone: str, rrsets: RRsets) -> None:
        """Create ``zone`` (ASCII, no final dot) with exactly these rrsets (SOA included);
        if it exists already, make it hold exactly these rrsets."""

    def patch_zone(self, zone: str, rrsets: RRsets) -> None:
        """Replace (or, with no contents, delete) exactly these rrsets; ZoneMissing if the server
        has no such zone."""

    def replace_all(self, zone: str, rrsets: RRsets) -> None:
        """Make the zone hold exactly these rrsets (ZoneMissing if the server has no such zone)."""

    def delete_zone(self, zone: str) -> None:
        """Remove the zone; a zone that is already gone is not an error."""
