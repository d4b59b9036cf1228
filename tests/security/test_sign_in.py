"""Issue 9, section 5: sign-in lock-out and throttling.

* An account is locked after five failures whatever address they come from (it was counted per
  account *and* address: from another loopback address the same user logged straight in).
* One address is throttled across accounts (48 failures over 12 user names were not slowed).
* The address is the peer's unless BEHIND_PROXY is on; then only the trusted proxy header
  counts, right-most hop first, so a client-written X-Forwarded-For changes nothing.
* A locked-out person can still reset the password by e-mail and sign in with the new one.
"""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.urls import reverse

from portal.auth import AnonRateThrottle, client_ip
from tests.customers.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-in attempts"
LOGIN = "/accounts/login/"


def sign_in(client, email: str, password: str, address: str = "127.0.0.1", **headers):
    return client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=address, **headers
    )


def signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_an_account_is_locked_out_from_another_address_too(client, settings):
    user = UserFactory(email="victim@example.test")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, user.email, "wrong-password", address="127.0.0.1")

    # The right password, from another loopback address: still locked.
    response = sign_in(client, user.email, PASSWORD, address="127.0.0.2")

    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page
    assert "for this account" in page
    assert reverse("password_reset") in page
    assert not signed_in(client)


def test_another_account_from_the_same_address_is_not_locked(client, settings):
    victim = UserFactory(email="victim@example.test")
    other = UserFactory(email="other@example.test")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, victim.email, "wrong-password")

    response = sign_in(client, other.email, PASSWORD)

    assert response.status_code == 302
    assert signed_in(client)


def test_many_accounts_from_one_address_are_throttled(client, settings):
    """48 failed sign-ins over 12 user names (four each, under the per-account limit) from one
    address: from NAMEPORT_SIGNIN_ADDRESS_LIMIT failures on, the address is refused."""
    limit = settings.NAMEPORT_SIGNIN_ADDRESS_LIMIT
    assert limit < 48
    users = [UserFactory(email=f"user{n}@example.test") for n in range(12)]
    statuses = []
    for round_ in range(4):
        for user in users:
            response = sign_in(client, user.email, f"guess-{round_}", address="198.51.100.9")
            statuses.append(response.status_code)

    # A form error each (wrong password) until the limit-th failure, which locks the address
    # (as the fifth failure on one account locks that account).
    assert statuses[: limit - 1] == [200] * (limit - 1)
    assert set(statuses[limit - 1 :]) == {429}
    # Even a right password is refused from that address now, on the page and in JSON...
    page = sign_in(client, users[0].email, PASSWORD, address="198.51.100.9")
    assert page.status_code == 429
    assert "from your network address" in page.content.decode()
    as_json = sign_in(
        client, users[1].email, PASSWORD, address="198.51.100.9", HTTP_ACCEPT="application/json"
    )
    assert as_json.status_code == 429
    assert "from your network address" in as_json.json()["message"]
    assert "Retry-After" in as_json
    assert not signed_in(client)
    # ...while the accounts themselves are not locked: their owners sign in from elsewhere.
    elsewhere = sign_in(client, users[0].email, PASSWORD, address="203.0.113.20")
    assert elsewhere.status_code == 302


def test_a_client_sent_x_forwarded_for_does_not_change_the_address(client, settings):
    settings.BEHIND_PROXY = False
    limit = settings.NAMEPORT_SIGNIN_ADDRESS_LIMIT
    users = [UserFactory(email=f"user{n}@example.test") for n in range(limit)]
    for n, user in enumerate(users):
        # A new "address" each time, as an attacker would write it.
        sign_in(
            client, user.email, "wrong", address="198.51.100.9", HTTP_X_FORWARDED_FOR=f"10.9.{n}.1"
        )

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.9"}
    fresh = UserFactory(email="fresh@example.test")
    response = sign_in(
        client, fresh.email, PASSWORD, address="198.51.100.9", HTTP_X_FORWARDED_FOR="10.99.0.1"
    )
    assert response.status_code == 429
    assert not signed_in(client)
    # The API's throttles count the same address (DRF alone would believe the header).
    request = RequestFactory().get("/api/v1/", REMOTE_ADDR="198.51.100.9")
    request.META["HTTP_X_FORWARDED_FOR"] = "10.99.0.1"
    assert AnonRateThrottle().get_ident(request) == "198.51.100.9"


def test_behind_a_proxy_only_the_trusted_header_counts(client, settings):
    settings.BEHIND_PROXY = True
    settings.NAMEPORT_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.NAMEPORT_TRUSTED_PROXIES = []
    proxy = "10.0.0.2"  # every request reaches the app from the proxy
    limit = settings.NAMEPORT_SIGNIN_ADDRESS_LIMIT
    users = [UserFactory(email=f"user{n}@example.test") for n in range(limit)]
    for n, user in enumerate(users):
        # The client writes its own X-Forwarded-For; the proxy appends the address it saw.
        sign_in(
            client, user.email, "wrong", address=proxy,
            HTTP_X_FORWARDED_FOR=f"10.9.{n}.1, 198.51.100.9",
        )  # fmt: skip

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.9"}
    fresh = UserFactory(email="fresh@example.test")
    refused = sign_in(
        client, fresh.email, PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9"
    )
    assert refused.status_code == 429
    # Another client behind the same proxy is not the throttled one.
    allowed = sign_in(
        client, fresh.email, PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.10"
    )
    assert allowed.status_code == 302


def test_behind_a_proxy_the_configured_header_alone_is_read(settings):
    settings.BEHIND_PROXY = True
    settings.NAMEPORT_TRUSTED_PROXY_HEADER = "X-Real-IP"
    settings.NAMEPORT_TRUSTED_PROXIES = ["10.0.0.0/8"]
    factory = RequestFactory()

    spoofed = factory.get(LOGIN, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6")
    spoofed.META["HTTP_X_REAL_IP"] = "198.51.100.9"
    assert client_ip(spoofed) == "198.51.100.9"
    # Trusted hops (further proxies) are skipped from the right; rubbish is not believed.
    settings.NAMEPORT_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    chain = factory.get(LOGIN, REMOTE_ADDR="10.0.0.2")
    chain.META["HTTP_X_FORWARDED_FOR"] = "6.6.6.6, 198.51.100.9, 10.1.2.3"
    assert client_ip(chain) == "198.51.100.9"
    rubbish = factory.get(LOGIN, REMOTE_ADDR="10.0.0.2")
    rubbish.META["HTTP_X_FORWARDED_FOR"] = "6.6.6.6, not-an-address"
    assert client_ip(rubbish) == "10.0.0.2"
    # Off: the peer's address, whatever the headers say.
    settings.BEHIND_PROXY = False
    assert client_ip(spoofed) == "10.0.0.2"


def test_a_locked_out_user_resets_the_password_by_email_and_signs_in(client, settings, mailoutbox):
    user = UserFactory(email="locked@example.test")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, user.email, "wrong-password")
    assert sign_in(client, user.email, PASSWORD).status_code == 429

    # The reset is not blocked by the lock-out.
    assert client.get(reverse("password_reset")).status_code == 200
    sent = client.post(reverse("password_reset"), {"email": user.email})
    assert sent.status_code == 302
    assert len(mailoutbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/)", mailoutbox[0].body)
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-secret-42", "new_password2": "a-brand-new-secret-42"},
    )
    assert done.status_code == 302

    response = sign_in(client, user.email, "a-brand-new-secret-42")

    assert response.status_code == 302
    assert signed_in(client)
