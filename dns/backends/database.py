"""The embedded default: the database is the zone; zone files are exported on demand."""

from __future__ import annotations

from dns.backends.base import RRsets


class DatabaseBackend:
    name = "database"

    def create_zone(self, zone: str, rrsets: RRsets) -> None:
        return None

    def patch_zone(self, zone: str, rrsets: RRsets) -> None:
        return None

    def delete_zone(self, zone: str) -> None:
        return None

    def replace_all(self, zone: str, rrsets: RRsets) -> None:
        return None
