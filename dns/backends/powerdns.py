"""PowerDNS Authoritative through its HTTP API (``/api/v1/servers/<id>``, header ``X-API-Key``).

Zones are ``Native`` with ``soa_edit_api`` off: Nameport sends the SOA with its own serial
(YYYYMMDDnn), so the serial a resolver sees is the one the portal shows.
"""

from __future__ import annotations

import httpx
from django.conf import settings

from dns.backends.base import (
    PermanentBackendError,
    RRsets,
    TransientBackendError,
    ZoneMissing,
)


def _rrset(owner: str, rtype: str, ttl: int, contents: list[str]) -> dict:
    if not contents:
        return {"name": owner, "type": rtype, "changetype": "DELETE"}
    return {
        "name": owner,
        "type": rtype,
        "ttl": ttl,
        "changetype": "REPLACE",
        "records": [{"content": content, "disabled": False} for content in contents],
    }


class PowerDnsBackend:
    name = "powerdns"

    def __init__(self, url: str, api_key: str, server_id: str = "localhost", timeout: float = 30):
        self.base = f"{url.rstrip('/')}/api/v1/servers/{server_id}"
        self.client = httpx.Client(
            headers={"X-API-Key": api_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=5.0),
        )

    @classmethod
    def from_settings(cls) -> PowerDnsBackend:
        return cls(
            settings.POWERDNS_API_URL,
            settings.POWERDNS_API_KEY,
            settings.POWERDNS_SERVER_ID,
            settings.POWERDNS_TIMEOUT_SECONDS,
        )

    # --- HTTP --------------------------------------------------------------------------------
    def _send(self, method: str, path: str, json: dict | None = None) -> httpx.Response:
        try:
            response = self.client.request(method, f"{self.base}{path}", json=json)
        except httpx.TimeoutException as exc:
            raise TransientBackendError(f"PowerDNS did not answer in time ({exc})") from exc
        except httpx.HTTPError as exc:
            raise TransientBackendError(f"PowerDNS is unreachable ({exc})") from exc
        return response

    @staticmethod
    def _error(response: httpx.Response) -> str:
        try:
            detail = response.json().get("error") or response.text
        except ValueError:
            detail = response.text
        return f"PowerDNS answered {response.status_code}: {str(detail).strip()[:500]}"

    def _check(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 300:
            return
        if status >= 500 or status == 429:
            raise TransientBackendError(self._error(response))
        raise PermanentBackendError(self._error(response))

    @staticmethod
    def _zone_id(zone: str) -> str:
        return f"{zone}."

    # --- the protocol ------------------------------------------------------------------------
    def create_zone(self, zone: str, rrsets: RRsets) -> None:
        body = {
            "name": self._zone_id(zone),
            "kind": "Native",
            "soa_edit_api": "",
            "nameservers": [],
            "rrsets": [
                _rrset(owner, rtype, ttl, contents)
                for (owner, rtype), (ttl, contents) in rrsets.items()
                if contents
            ],
        }
        response = self._send("POST", "/zones", body)
        if response.status_code == 409:  # already there: make it hold exactly our rrsets
            self.replace_all(zone, rrsets)
            return
        self._check(response)

    def replace_all(self, zone: str, rrsets: RRsets) -> None:
        served = self.rrsets(zone)
        wanted = dict(rrsets)
        for key in served:
            wanted.setdefault(key, (0, []))  # served but not ours: delete
        self.patch_zone(zone, wanted)

    def rrsets(self, zone: str) -> RRsets:
        response = self._send("GET", f"/zones/{self._zone_id(zone)}")
        if response.status_code == 404:
            raise ZoneMissing(f"PowerDNS has no zone {zone}")
        self._check(response)
        out: RRsets = {}
        for rrset in response.json().get("rrsets", []):
            contents = [r["content"] for r in rrset.get("records", []) if not r.get("disabled")]
            out[(rrset["name"], rrset["type"])] = (rrset.get("ttl", 0), contents)
        return out

    def patch_zone(self, zone: str, rrsets: RRsets) -> None:
        if not rrsets:
            return
        body = {
            "rrsets": [
                _rrset(owner, rtype, ttl, contents)
                for (owner, rtype), (ttl, contents) in rrsets.items()
            ]
        }
        response = self._send("PATCH", f"/zones/{self._zone_id(zone)}", body)
        if response.status_code == 404:
            raise ZoneMissing(f"PowerDNS has no zone {zone}")
        self._check(response)

    def delete_zone(self, zone: str) -> None:
        response = self._send("DELETE", f"/zones/{self._zone_id(zone)}")
        if response.status_code == 404:
            return
        self._check(response)
