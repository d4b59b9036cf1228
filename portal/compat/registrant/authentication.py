"""The registrant API's one credential: ``Authorization: Bearer np_reg_...``, a registrant token
a customer made on its account page (or ``manage.py issue_registrant_token``).

Nothing else authenticates here: not a session, not an API key (in ``access-token`` or as a
Bearer), not a token in the query string. A missing credential and a wrong, revoked or archived
customer's token both answer 401 with ``WWW-Authenticate: Bearer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from customers.models import RegistrantToken
from customers.registrant_tokens import token_authenticate
from portal.auth import CredentialUser

INVALID = "Invalid or revoked registrant token"


@dataclass
class RegistrantUser(CredentialUser):
    """The user of a request made with a registrant token."""

    token: RegistrantToken
    kind: ClassVar[str] = "registrant-token"

    @property
    def credential(self) -> RegistrantToken:
        return self.token


class RegistrantTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise exceptions.AuthenticationFailed("Send the token as Authorization: Bearer <token>")
        token = token_authenticate(raw.strip())
        if token is None:
            raise exceptions.AuthenticationFailed(INVALID)
        return RegistrantUser(token=token), token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="registrant"'


class RegistrantTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.compat.registrant.authentication.RegistrantTokenAuthentication"
    name = "registrantToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A registrant token (`np_reg_...`) sent as `Authorization: Bearer <token>`. A "
                "customer creates and revokes its tokens on its account page (Registrant API "
                "tokens); `manage.py issue_registrant_token EMAIL` prints one. A token sees that "
                "customer's domains only, in its mode (sandbox or live). A session, an API key "
                "or a token in the query string is not accepted (401)."
            ),
        }
