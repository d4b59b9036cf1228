"""Payment gateways: where a payment method's money is taken.

A gateway has a ``name`` (``PaymentMethod.gateway``, ``Payment.gateway``) and:

- ``new_reference()``: its own reference for a new payment (unique per gateway);
- ``start(payment, return_url=..., outcome=...) -> StartResult``: asked by
  ``billing.services.payment_start`` inside its transaction; answers a URL to send the payer to
  (the payment stays pending) or an answer given at once (completed or failed);
- ``callback(request) -> GatewayEvent``: reads the gateway's server-to-server notification and
  verifies it (``InvalidCallback`` when it cannot be trusted); the view then calls
  ``billing.services.payment_gateway_event``;
- ``refund(refund_payment)``: gives money back for a refund row (a negative ``Payment``).

Two gateways exist: ``bank_transfer`` (the payer transfers with the invoice number as the
reference; the reseller or staff mark it paid) and ``test`` (a gateway without money: its own
page approves, declines or leaves the payment pending; a pending one is approved or declined by a
callback signed with an HMAC-SHA256 keyed by ``SECRET_KEY``, so nobody can fake one). The test
gateway takes live invoices only when ``settings.NAMEPORT_TEST_GATEWAY_LIVE`` is true (default:
``DEBUG``); sandbox invoices always.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from billing.models import Payment

SIGNATURE_HEADER = "X-Nameport-Signature"
SIGNATURE_SALT = "billing.gateways.test.callback"


class InvalidCallback(Exception):
    """A callback whose signature or body does not check out."""


@dataclass(frozen=True)
class StartResult:
    status: str
    redirect_url: str = ""
    message: str = ""

    @classmethod
    def replay(cls, payment: Payment) -> StartResult:
        """What a repeated start (same idempotency key) answers: the payment as it is now."""
        gateway = get(payment.gateway)
        url = ""
        if payment.status == Payment.Status.PENDING:
            url = gateway.payment_url(payment)
        return cls(status=payment.status, redirect_url=url, message=gateway.message(payment))


@dataclass(frozen=True)
class GatewayEvent:
    gateway: str
    reference: str
    status: str


class BankTransfer:
    name = "bank_transfer"

    def new_reference(self) -> str:
        return ""

    def payment_url(self, payment: Payment) -> str:
        return ""

    def message(self, payment: Payment) -> str:
        if payment.status != Payment.Status.PENDING:
            return ""
        return (
            f"Transfer {payment.amount} {payment.currency} with the reference "
            f"{payment.invoice.number}; the invoice is marked paid when it arrives."
        )

    def start(self, payment: Payment, *, return_url: str = "", outcome: str = "") -> StartResult:
        return StartResult(status=Payment.Status.PENDING, message=self.message(payment))

    def callback(self, request) -> GatewayEvent:
        raise InvalidCallback("bank transfers have no callback")

    def refund(self, refund: Payment) -> None:
        """Recorded only: the seller sends the money back by bank."""


def _sign(body: bytes) -> str:
    return salted_hmac(
        SIGNATURE_SALT, body, secret=settings.SECRET_KEY, algorithm="sha256"
    ).hexdigest()


def test_gateway_allowed(livemode: bool) -> bool:
    return not livemode or bool(getattr(settings, "NAMEPORT_TEST_GATEWAY_LIVE", settings.DEBUG))


class TestGateway:
    """A gateway without money, for the sandbox, demos and tests."""

    __test__ = False  # not a pytest test class
    name = "test"
    OUTCOMES = {
        "approve": Payment.Status.COMPLETED,
        "decline": Payment.Status.FAILED,
        "pending": Payment.Status.PENDING,
        "": Payment.Status.PENDING,
    }

    def new_reference(self) -> str:
        return f"test_{secrets.token_hex(12)}"

    def payment_url(self, payment: Payment) -> str:
        return reverse("billing:test_gateway", args=[payment.invoice_id, payment.pk])

    def message(self, payment: Payment) -> str:
        return {
            Payment.Status.COMPLETED: "Payment approved.",
            Payment.Status.FAILED: "The payment was declined; nothing was charged.",
            Payment.Status.PENDING: "The payment is pending: it completes when the gateway "
            "confirms it.",
        }.get(payment.status, "")

    def start(self, payment: Payment, *, return_url: str = "", outcome: str = "") -> StartResult:
        if not test_gateway_allowed(payment.invoice.livemode):
            raise ValidationError({"method": "The test gateway takes sandbox invoices only."})
        if outcome not in self.OUTCOMES:
            raise ValidationError({"outcome": "Choose approve, decline or pending."})
        status = self.OUTCOMES[outcome]
        probe = Payment(status=status, invoice=payment.invoice)
        url = self.payment_url(payment) if not outcome else ""
        return StartResult(status=status, redirect_url=url, message=self.message(probe))

    # --- the callback ------------------------------------------------------------------------
    @staticmethod
    def callback_body(reference: str, status: str) -> bytes:
        return json.dumps({"reference": reference, "status": status}, sort_keys=True).encode()

    @staticmethod
    def sign(body: bytes) -> str:
        return _sign(body)

    def verify(self, body: bytes, signature: str) -> GatewayEvent:
        if not signature or not constant_time_compare(_sign(body), signature):
            raise InvalidCallback("bad signature")
        try:
            data = json.loads(body)
            reference, status = str(data["reference"]), str(data["status"])
        except (ValueError, KeyError, TypeError):
            raise InvalidCallback("unreadable body") from None
        if status not in {Payment.Status.COMPLETED, Payment.Status.FAILED}:
            raise InvalidCallback("unknown status")
        return GatewayEvent(gateway=self.name, reference=reference, status=status)

    def callback(self, request) -> GatewayEvent:
        return self.verify(request.body, request.headers.get(SIGNATURE_HEADER, ""))

    def refund(self, refund: Payment) -> None:
        """The test gateway gives back at once."""


GATEWAYS = {gateway.name: gateway for gateway in (BankTransfer(), TestGateway())}


def get(name: str):
    try:
        return GATEWAYS[name or "bank_transfer"]
    except KeyError:
        raise ValidationError({"method": "That payment method's gateway is not set up."}) from None
