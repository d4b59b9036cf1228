"""The Leanstack enterprise API (seeds 000 and 001): thin views over the apps' services.

Every view takes an API key only (``access-token``, or seed 001's ``access_token``), acts as the
key's organisation in the key's mode (``portal.tenancy.actor_for_api_key``), answers the
documents' shapes, and refuses with ``{"message": "..."}`` and a 4xx. Each request is one line
on the ``nameport.compat.leanstack`` logger, with the caller's ``debug-id`` (echoed back in the
response's ``debug-id`` header) and the key's prefix, never the key or a secret.
"""

from __future__ import annotations

import logging
import re
import time

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    OpenApiTypes,
    extend_schema,
)
from rest_framework import exceptions, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from billing import ledger
from customers import accounts
from customers.models import ApiKey
from customers.selectors import visible_customers
from domains import availability, services
from domains.models import RegistrarOperation
from domains.names import parse_domain_name
from domains.selectors import visible_domains, visible_tlds
from portal.api.parsers import JSONParser
from portal.api.views import ActorMixin
from portal.auth import ApiKeyAuthentication
from portal.compat.base import CompatAPIView
from portal.compat.leanstack import serializers as s
from portal.compat.leanstack.helpers import (
    DEFAULT_PAGE_SIZE,
    STATUS_CODES,
    UNLISTED_STATUSES,
    charge_price_list,
    phone_to_document,
    phone_to_nameport,
    price_text,
    reseller_costs,
    sells,
    status_table_markdown,
    timestamp,
    total_pages,
)
from portal.filtersets import is_id
from portal.logging import redact
from support.services import ticket_open_system

logger = logging.getLogger("nameport.compat.leanstack")

NO_CUSTOMER = "Customer does not exist for organisation"
CUSTOMER_NOT_FOUND = "Customer not found"
NO_DOMAIN = "Domain does not exist for organisation"
INCOMPLETE = "Could not be completed automatically, request routed to support for completion"
DEBUG_ID_MAX = 128
_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]")
Op = RegistrarOperation
UNFINISHED = (
    Op.Status.PENDING,
    Op.Status.RUNNING,
    Op.Status.HELD,
    Op.Status.AWAITING_FUNDS,
)


def clean_debug_id(raw: str) -> str:
    """The caller's ``debug-id`` as it may be echoed and logged: printable ASCII only (no CR,
    LF or other control characters: no header or log-line injection), at most 128 characters."""
    return _NOT_PRINTABLE.sub("", raw or "")[:DEBUG_ID_MAX].strip()


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."


class AnyBodyAsJSON(JSONParser):
    """A body sent without ``Content-Type: application/json`` is read as JSON all the same (the
    documents' examples always send JSON): what is not JSON is a 400, not a 415."""

    media_type = "*/*"


class LeanstackSchema(AutoSchema):
    def get_operation_id(self):
        path = re.sub(r"[{}]", "", self.path.strip("/")).replace("/", "_")
        return f"{self.method.lower()}_{path}"

    def get_tags(self):
        return ["customers" if "customer" in self.path else "domains"]


EMPTY = OpenApiResponse(
    response={"type": "object", "properties": {}, "additionalProperties": False},
    description="Done: `{}`",
)


def message_response(message: str, code: int) -> Response:
    return Response({"message": message}, status=code)


def _body_message(text: str) -> OpenApiExample:
    return OpenApiExample(text, value={"message": text}, response_only=True, status_codes=["4XX"])


class LeanstackView(ActorMixin, CompatAPIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, AnyBodyAsJSON]
    schema = LeanstackSchema()

    def error_response(self, status: int, message: str) -> Response:
        return message_response(message, status)

    # --- the request log and the debug id ------------------------------------------------------
    def dispatch(self, request, *args, **kwargs):
        started = time.monotonic()
        debug_id = clean_debug_id(request.META.get("HTTP_DEBUG_ID", ""))
        code = 500
        try:
            response = super().dispatch(request, *args, **kwargs)
            code = response.status_code
            if debug_id:
                response["debug-id"] = debug_id
            return response
        finally:
            auth = getattr(getattr(self, "request", None), "_auth", None)
            prefix = auth.prefix if isinstance(auth, ApiKey) else "-"
            line = (
                f"{request.method} {request.path} {code} debug_id={debug_id or '-'} "
                f"key={prefix} {int((time.monotonic() - started) * 1000)}ms"
            )
            logger.info("%s", redact(line))

    # --- reading the request -------------------------------------------------------------------
    def body(self, serializer_class, *, data=None, partial: bool = False) -> dict:
        data = self.request.data if data is None else data
        if not isinstance(data, dict):
            raise exceptions.ParseError("The body must be a JSON object.")
        serializer = serializer_class(data=data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def query_or_body(self, serializer_class) -> dict:
        """Seed 001 documents GET for availability and suggestion: GET reads the query string."""
        if self.request.method == "GET":
            return self.body(serializer_class, data=self.request.query_params.dict())
        return self.body(serializer_class)

    def customer_or_404(self, raw, message: str = NO_CUSTOMER):
        if not is_id(str(raw)):
            raise exceptions.NotFound(message)
        customer = visible_customers(self.actor).filter(pk=int(raw)).first()
        if customer is None:
            raise exceptions.NotFound(message)
        return customer

    def domain_or_404(self, raw):
        if not is_id(str(raw)):
            raise exceptions.NotFound(NO_DOMAIN)
        domain = visible_domains(self.actor).filter(pk=int(raw)).first()
        if domain is None:
            raise exceptions.NotFound(NO_DOMAIN)
        return domain


def _page(data: dict) -> tuple[int, int]:
    pagination = data.get("pagination") or {}
    return pagination.get("page", 1), pagination.get("page_size", DEFAULT_PAGE_SIZE)


def _meta(query: str, total: int, page: int, page_size: int) -> dict:
    return {
        "query": query,
        "total_count": total,
        "total_pages": total_pages(total, page_size),
        "page": page,
        "page_size": page_size,
    }


# --- customers ----------------------------------------------------------------------------------
CUSTOMER_EXAMPLE = {
    "customer": {
        "first_name": "Bob",
        "last_name": "Brown",
        "email": "bobby20@gmail.com",
        "phone": "090383938393",
    },
    "contact": {"address": "My home", "country": "NG", "city": "Lagos", "post_code": " 100001"},
}
CUSTOMER_FIELDS_HELP = (
    "`customer`: first_name, last_name, email, phone; `contact`: address, country, city, "
    "post_code (seed 001's `postcode` is read too). The phone is stored in international form: "
    "send it with its country code (`2349018191818`, `+2349018191818`) or as a national number "
    "starting with 0 (`090383938393`), which is read with the contact's country (NG: +234; the "
    "countries whose numbers start with a trunk 0). Answers show it as digits with the country "
    "code (`2349018191818`). Customers are made in the key's mode (a sandbox key: sandbox "
    "customers) and are visible to that mode only."
)


def _customer_values(data: dict, *, country_fallback: str = "") -> dict:
    values: dict = {}
    values.update(data.get("customer") or {})
    values.update(data.get("contact") or {})
    if "phone" in values:
        country = values.get("country") or country_fallback
        try:
            values["phone"] = phone_to_nameport(values["phone"], country)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError({"phone": exc.messages}) from None
    return values


def _seed_001_spellings(data) -> None:
    """``postcode`` (seed 001) for ``post_code``."""
    if isinstance(data, dict) and isinstance(data.get("contact"), dict):
        contact = data["contact"]
        if "postcode" in contact and "post_code" not in contact:
            contact["post_code"] = contact.pop("postcode")


def _duplicate_is_conflict(exc: DjangoValidationError) -> None:
    if accounts.DUPLICATE_MESSAGE in exc.messages:
        raise Conflict(accounts.DUPLICATE_MESSAGE) from None


class CustomerAddView(LeanstackView):
    @extend_schema(
        summary="Add customer",
        description="Adds a customer to the key's organisation. " + CUSTOMER_FIELDS_HELP + " "
        "Answers `{}` (200). An e-mail address already used by a customer of the organisation "
        "in this mode: 409 `Customer already exists for organisation`.",
        request=s.CustomerWriteSerializer,
        responses={200: EMPTY, 409: s.MessageSerializer},
        examples=[
            OpenApiExample("Add customer", value=CUSTOMER_EXAMPLE, request_only=True),
            OpenApiExample("Added", value={}, response_only=True, status_codes=["200"]),
            _body_message(accounts.DUPLICATE_MESSAGE),
        ],
    )
    def post(self, request):
        data = request.data
        _seed_001_spellings(data)
        data = self.body(s.CustomerWriteSerializer, data=data)
        actor = self.actor
        try:
            accounts.customer_create(
                actor=actor,
                organisation=actor.organisation,
                livemode=bool(actor.livemode),
                values=_customer_values(data),
            )
        except DjangoValidationError as exc:
            _duplicate_is_conflict(exc)
            raise
        return Response({})


class CustomerAddOldView(CustomerAddView):
    """Seed 001's ``/v1/enterprise/add_customer`` (its "GET" line is a typo: a GET that would
    create a customer is refused)."""

    def http_method_not_allowed(self, request, *args, **kwargs):
        if request.method == "GET":
            raise exceptions.MethodNotAllowed(
                "GET",
                detail="Adding a customer takes POST with the customer as a JSON body; a GET "
                "never creates one.",
            )
        return super().http_method_not_allowed(request, *args, **kwargs)


ID_PARAMETER = {
    "customer_id": OpenApiParameter(
        "customer_id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="The customer's id"
    ),
    "domain_id": OpenApiParameter(
        "domain_id", OpenApiTypes.INT64, OpenApiParameter.PATH, description="The domain's id"
    ),
}


class CustomerView(LeanstackView):
    @extend_schema(
        summary="Get customer information",
        description="The customer's details. An unknown id, another organisation's customer or "
        "one of the other mode: 404 `Customer does not exist for organisation`. Archived "
        "customers are readable. `phone` is digits with the country code.",
        parameters=[ID_PARAMETER["customer_id"]],
        responses={200: s.CustomerReadSerializer, 404: s.MessageSerializer},
        examples=[
            OpenApiExample(
                "Customer",
                value={
                    "id": 1,
                    "customer": {
                        "first_name": "benk",
                        "last_name": "thomas",
                        "email": "benkthomas@gmail.com",
                        "phone": "2349019191919",
                    },
                    "contact": {
                        "address": "home",
                        "country": "NG",
                        "city": "lagos",
                        "post_code": "100001",
                    },
                },
                response_only=True,
                status_codes=["200"],
            ),
            _body_message(NO_CUSTOMER),
        ],
    )
    def get(self, request, customer_id):
        customer = self.customer_or_404(customer_id)
        return Response(
            {
                "id": customer.pk,
                "customer": {
                    "first_name": customer.first_name,
                    "last_name": customer.last_name,
                    "email": customer.email,
                    "phone": phone_to_document(customer.phone),
                },
                "contact": {
                    "address": customer.address,
                    "country": customer.country,
                    "city": customer.city,
                    "post_code": customer.post_code,
                },
            }
        )

    @extend_schema(
        summary="Edit customer",
        description="Changes the customer's details. " + CUSTOMER_FIELDS_HELP + " The document "
        "marks every field required; here only the fields sent are changed (a body with none "
        "is a 400). A national phone number is read with the `country` sent, else the "
        "customer's. Answers `{}` (200). Unknown, another organisation's or the other mode's "
        "id: 404 `Customer does not exist for organisation`; an e-mail address another "
        "customer of the organisation uses: 409 `Customer already exists for organisation`.",
        parameters=[ID_PARAMETER["customer_id"]],
        request=s.CustomerWriteSerializer,
        responses={200: EMPTY, 404: s.MessageSerializer, 409: s.MessageSerializer},
        examples=[
            OpenApiExample("Edit customer", value=CUSTOMER_EXAMPLE, request_only=True),
            OpenApiExample("Changed", value={}, response_only=True, status_codes=["200"]),
            _body_message(NO_CUSTOMER),
        ],
    )
    def patch(self, request, customer_id):
        customer = self.customer_or_404(customer_id)
        data = request.data
        _seed_001_spellings(data)
        data = self.body(s.CustomerWriteSerializer, data=data, partial=True)
        values = _customer_values(data, country_fallback=customer.country)
        if not values:
            raise exceptions.ValidationError("Send the customer or contact fields to change.")
        try:
            accounts.customer_update(actor=self.actor, customer=customer, values=values)
        except DjangoValidationError as exc:
            _duplicate_is_conflict(exc)
            raise
        return Response({})


class CustomerListView(LeanstackView):
    @extend_schema(
        summary="Show customers",
        description="The organisation's customers in the key's mode, newest first (archived "
        "ones too). `query` filters on first name, last name, e-mail and phone (contains, any "
        "case). `pagination.page` from 1 (default 1), `pagination.page_size` 1 to 100 (default "
        "20); other values or types: 400. A page past the end has no rows; `total_pages` is 0 "
        "when nothing matches. The body may be left out.",
        request=s.CustomerListRequestSerializer,
        responses={200: s.CustomerListSerializer},
        examples=[
            OpenApiExample(
                "Show customers",
                value={"query": "trial", "pagination": {"page": 2, "page_size": 4}},
                request_only=True,
            ),
            OpenApiExample(
                "Customers",
                value={
                    "data": [
                        {
                            "id": 1,
                            "first_name": "Trial",
                            "last_name": "Pro",
                            "phone": "234814116058",
                            "email": "trial@gmail.com",
                            "created_at": "2019-01-05T13:04:33.000Z",
                        }
                    ],
                    "meta_data": {
                        "query": "trial",
                        "total_count": 5,
                        "total_pages": 2,
                        "page": 2,
                        "page_size": 4,
                    },
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request):
        data = self.body(s.CustomerListRequestSerializer)
        query = (data.get("query") or "").strip()
        page, page_size = _page(data)
        customers = visible_customers(self.actor).order_by("-created_at", "-id")
        if query:
            customers = customers.filter(
                Q(first_name__icontains=query)
                | Q(last_name__icontains=query)
                | Q(email__icontains=query)
                | Q(phone__icontains=query)
            )
        total = customers.count()
        start = (page - 1) * page_size
        rows = customers[start : start + page_size] if start < total else []
        return Response(
            {
                "data": [
                    {
                        "id": c.pk,
                        "first_name": c.first_name,
                        "last_name": c.last_name,
                        "phone": phone_to_document(c.phone),
                        "email": c.email,
                        "created_at": timestamp(c.created_at),
                    }
                    for c in rows
                ],
                "meta_data": _meta(query, total, page, page_size),
            }
        )


# --- availability and suggestion ------------------------------------------------------------
PRICES_HELP = (
    "`dollar_price` and `naira_price` are what one year's registration costs the key's "
    "organisation (the platform's price to it: what an order charges its account), as strings "
    'without trailing zeros (`"5"`, `"4.9"`, `"3000"`): the price list\'s row in USD or '
    "NGN, else the platform's row converted at today's exchange rate; `null` when neither "
    "exists. A premium name is priced from the registry's quote."
)


class AvailabilityView(LeanstackView):
    @extend_schema(
        summary="Domain availability",
        description='Whether `domain_name`.`tld` can be registered. `{"tld_available": false}` '
        "alone when Nameport sells no such TLD to the organisation (unknown, inactive or "
        "unpriced). Otherwise `domain_name_available` (false also when the registry could not "
        "be asked) and the prices. " + PRICES_HELP + " A malformed label: 400. Seed 001 "
        "documents GET: GET with the same fields in the query string is served too.",
        request=s.AvailabilityRequestSerializer,
        responses={200: s.AvailabilitySerializer},
        examples=[
            OpenApiExample(
                "Availability", value={"domain_name": "tunji", "tld": "com"}, request_only=True
            ),
            OpenApiExample(
                "Available",
                value={
                    "tld_available": True,
                    "dollar_price": "5",
                    "naira_price": "3000",
                    "domain_name_available": True,
                },
                response_only=True,
            ),
            OpenApiExample(
                "Taken",
                value={
                    "tld_available": True,
                    "dollar_price": "5",
                    "naira_price": "3000",
                    "domain_name_available": False,
                },
                response_only=True,
            ),
            OpenApiExample("TLD not sold", value={"tld_available": False}, response_only=True),
        ],
    )
    def post(self, request):
        data = self.query_or_body(s.AvailabilityRequestSerializer)
        actor = self.actor
        tld_name = data["tld"].strip().lower().strip(".")
        tld = visible_tlds(actor).filter(name=tld_name).first()
        if tld is None or not sells(charge_price_list(actor, [tld]), tld):
            return Response({"tld_available": False})
        name = f"{data['domain_name'].strip().lower()}.{tld.name}"
        parse_domain_name(name, tlds={tld.name: tld})  # a malformed label: 400 with the reason
        (result,) = availability.check_names(actor, [name])
        return Response(
            {
                "tld_available": True,
                **reseller_costs(actor, tld, result),
                "domain_name_available": result.available is True,
            }
        )

    @extend_schema(
        summary="Domain availability (GET, seed 001)",
        description="As the POST, with `domain_name` and `tld` in the query string.",
        parameters=[
            OpenApiParameter("domain_name", str, required=True),
            OpenApiParameter("tld", str, required=True),
        ],
        responses={200: s.AvailabilitySerializer},
    )
    def get(self, request):
        return self.post(request)


class SuggestionView(LeanstackView):
    @extend_schema(
        summary="Domain suggestion",
        description="Available names made from the keyword (prefixes, suffixes, hyphenation, "
        "other TLDs), at most 20, only those the organisation can buy: `domain_name` is the "
        "label without the TLD. " + PRICES_HELP + " Served at `/v1/rest/domain_suggestion` "
        "(the examples) and `/v1/enterprise/domain_suggestion` (the HTTP Request line); GET "
        "with `domain_name` in the query string too (seed 001).",
        request=s.SuggestionRequestSerializer,
        responses={200: s.SuggestionSerializer(many=True)},
        examples=[
            OpenApiExample("Suggestion", value={"domain_name": "tunji"}, request_only=True),
            OpenApiExample(
                "Suggestions",
                value=[
                    {
                        "domain_name": "yourtunji",
                        "tld": "com",
                        "dollar_price": "4.9",
                        "naira_price": "4000",
                    },
                    {
                        "domain_name": "tunji",
                        "tld": "tech",
                        "dollar_price": "41",
                        "naira_price": "15000",
                    },
                ],
                response_only=True,
            ),
        ],
    )
    def post(self, request):
        data = self.query_or_body(s.SuggestionRequestSerializer)
        actor = self.actor
        results = availability.suggest(actor, data["domain_name"])
        tlds = {t.name: t for t in visible_tlds(actor).filter(name__in={r.tld for r in results})}
        standard: dict[str, dict] = {}
        answer = []
        for result in results:
            tld = tlds.get(result.tld)
            if tld is None or result.cost is None:
                continue  # not for sale to this organisation
            if result.premium:
                prices = reseller_costs(actor, tld, result)
            else:
                if tld.name not in standard:
                    standard[tld.name] = reseller_costs(actor, tld)
                prices = standard[tld.name]
            answer.append(
                {
                    "domain_name": result.name_unicode[: -(len(tld.name) + 1)],
                    "tld": tld.name,
                    **prices,
                }
            )
        return Response(answer)

    @extend_schema(
        summary="Domain suggestion (GET, seed 001)",
        description="As the POST, with `domain_name` in the query string.",
        parameters=[OpenApiParameter("domain_name", str, required=True)],
        responses={200: s.SuggestionSerializer(many=True)},
    )
    def get(self, request):
        return self.post(request)


# --- order ----------------------------------------------------------------------------------------
def _years_as_duration(exc: DjangoValidationError) -> DjangoValidationError:
    """domain_register names the term ``years``; the document calls it ``duration``."""
    if hasattr(exc, "error_dict") and "years" in exc.error_dict:
        errors = dict(exc.error_dict)
        errors["duration"] = errors.pop("years")
        return DjangoValidationError(errors)
    return exc


def _funded(actor, operation) -> tuple[bool, str]:
    """Can the organisation's account pay for ``operation`` now (as the worker's charge will
    price it)? The reason when it cannot."""
    priced = ledger.price_operations([operation])
    if operation.pk not in priced:
        return True, ""  # the price list does not charge it
    cost, currency = priced[operation.pk]
    account = ledger.visible_accounts(actor).filter(currency=currency).first()
    held = ledger.balance(account) if account else ledger.ZERO
    waiting = (
        Op.objects.filter(
            organisation_id=operation.organisation_id,
            livemode=operation.livemode,
            status=Op.Status.AWAITING_FUNDS,
        )
        .exclude(pk=operation.pk)
        .exists()
    )
    if waiting:
        return False, (
            f"Other operations of the organisation are already waiting for funds; this one "
            f"costs {price_text(cost)} {currency}."
        )
    if held < cost:
        return False, (
            f"The organisation's {currency} account holds {price_text(held)} {currency}; the "
            f"registration costs {price_text(cost)} {currency}. It waits for a top-up."
        )
    return True, ""


class OrderView(LeanstackView):
    @extend_schema(
        summary="Domain order",
        description="Registers `domain_name`.`tld` for `duration` years (within the TLD's terms) "
        "for the customer, with ID protection when `domain_privacy` is true; every field is "
        "required and typed. The worker charges the organisation's account at cost when it "
        "sends the registration. Answers, as the document shows, a one-item list: "
        "`success` when the account can pay for it now; `incomplete` (the registration is "
        "recorded and waits: for funds, or for staff when the registry asks a premium price) "
        "when it cannot be completed automatically, and a ticket is opened for support staff. "
        "An unknown customer, another organisation's or the other mode's: 404 `Customer not "
        "found`. A name that is taken or already held: 409; a malformed name, an unsold TLD, "
        "a term out of range, an archived customer: 400; nothing is stored then. A sandbox key "
        "orders for sandbox customers, pushed to the sandbox registry and charged to the "
        "sandbox account.",
        request=s.OrderRequestSerializer,
        responses={
            200: s.OrderAnswerSerializer(many=True),
            404: s.MessageSerializer,
            409: s.MessageSerializer,
        },
        examples=[
            OpenApiExample(
                "Order",
                value={
                    "domain_name": "testdomain",
                    "tld": "com",
                    "duration": 1,
                    "customer_id": 316,
                    "domain_privacy": False,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Success",
                value=[{"status": "success", "domain_name": "testdomain.com"}],
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "Incomplete",
                value=[
                    {
                        "status": "incomplete",
                        "message": INCOMPLETE,
                        "domain_name": "testdomain.com",
                    }
                ],
                response_only=True,
                status_codes=["200"],
            ),
            _body_message(CUSTOMER_NOT_FOUND),
        ],
    )
    def post(self, request):
        data = self.body(s.OrderRequestSerializer)
        actor = self.actor
        customer = self.customer_or_404(data["customer_id"], CUSTOMER_NOT_FOUND)
        name = f"{data['domain_name'].strip().lower()}.{data['tld'].strip().lower().strip('.')}"
        parsed = parse_domain_name(name)  # malformed, or a TLD not sold: 400
        (checked,) = availability.check_names(actor, [parsed.ascii])
        if checked.available is None:
            raise Conflict(
                f"The registry could not say whether {parsed.unicode} is available: try again "
                "shortly."
            )
        if not checked.available:
            raise Conflict(f"{parsed.unicode} is not available.")
        try:
            domain = services.domain_register(
                actor=actor,
                customer=customer,
                name=parsed.ascii,
                years=data["duration"],
                id_protection=data["domain_privacy"],
            )
        except DjangoValidationError as exc:
            if services.ALREADY_HELD in exc.messages:
                raise Conflict(f"{parsed.unicode} is not available.") from None
            raise _years_as_duration(exc) from None
        operation = domain.operations.get(kind=Op.Kind.REGISTER)
        funded, reason = _funded(actor, operation)
        if checked.premium:
            funded, reason = (
                False,
                (
                    "The registry quotes a premium price for this name: staff must accept it "
                    "before the registration is sent."
                ),
            )
        if funded:
            return Response([{"status": "success", "domain_name": domain.name}])
        ticket_open_system(
            subject=f"Registration of {domain.name} (Leanstack API order) needs our team",
            body=(
                f"{actor.organisation} ordered {domain.name} for {data['duration']} year(s) "
                f"for customer {customer} (id {customer.pk}) through the Leanstack API; it "
                f"could not be completed automatically.\n\nReason: {reason}\n\nThe "
                "registration is recorded and waits; complete it from the operation."
            ),
            organisation_id=domain.organisation_id,
            customer_id=customer.pk,
            domain=domain,
            operation=operation,
            staff_only=True,
        )
        return Response(
            [{"status": "incomplete", "message": INCOMPLETE, "domain_name": domain.name}]
        )


# --- domains --------------------------------------------------------------------------------------
class DomainListView(LeanstackView):
    @extend_schema(
        summary="Show domains",
        description="The organisation's domains in the key's mode, newest first; deleted and "
        "transferred-away names are not listed. `domain_name` filters on the name (contains, "
        "Unicode or punycode), `customer_id` on the customer: an unknown one, another "
        "organisation's or the other mode's is 404 `Customer not found` (not an empty list). "
        "Pagination as for customers; `meta_data.query` is the `domain_name` filter. "
        "`current_status` is the status code:\n\n" + status_table_markdown(),
        request=s.DomainListRequestSerializer,
        responses={200: s.DomainListSerializer, 404: s.MessageSerializer},
        examples=[
            OpenApiExample(
                "Show domains",
                value={
                    "domain_name": "trek",
                    "customer_id": 312,
                    "pagination": {"page": 2, "page_size": 3},
                },
                request_only=True,
            ),
            OpenApiExample(
                "Domains",
                value={
                    "data": [
                        {
                            "id": 5,
                            "current_status": "1",
                            "domain_name": "ourwalkers.com",
                            "expiry": "2022-12-02T09:59:53.000Z",
                            "created_at": "2021-12-02T09:59:53.898Z",
                            "customer_id": 312,
                        }
                    ],
                    "meta_data": {
                        "query": "",
                        "total_count": 1,
                        "total_pages": 1,
                        "page": 1,
                        "page_size": 20,
                    },
                },
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request):
        data = self.body(s.DomainListRequestSerializer)
        query = (data.get("domain_name") or "").strip()
        page, page_size = _page(data)
        domains = (
            visible_domains(self.actor)
            .exclude(status__in=UNLISTED_STATUSES)
            .order_by("-created_at", "-id")
        )
        if data.get("customer_id") is not None:
            customer = self.customer_or_404(data["customer_id"], CUSTOMER_NOT_FOUND)
            domains = domains.filter(customer=customer)
        if query:
            domains = domains.filter(Q(name__icontains=query) | Q(name_puny__icontains=query))
        total = domains.count()
        start = (page - 1) * page_size
        rows = domains[start : start + page_size] if start < total else []
        return Response(
            {
                "data": [
                    {
                        "id": d.pk,
                        "current_status": STATUS_CODES[d.status].code,
                        "domain_name": d.name,
                        "expiry": timestamp(d.expires_at),
                        "created_at": timestamp(d.created_at),
                        "customer_id": d.customer_id,
                    }
                    for d in rows
                ],
                "meta_data": _meta(query, total, page, page_size),
            }
        )


PENDING = {STATUS_CODES[status].code for status in ("pending_registration", "pending_transfer")}


class DomainView(LeanstackView):
    @extend_schema(
        summary="Get domain information",
        description="The domain's details. `current_status` is the status label; "
        "`registrar_lock` is null while the registration or transfer is pending, `expiry` "
        "null until the registry's is known; `nameservers` are the first four, null-padded. "
        "An unknown id, another organisation's domain or the other mode's: 404 `Domain does "
        "not exist for organisation`. The status labels:\n\n" + status_table_markdown(),
        parameters=[ID_PARAMETER["domain_id"]],
        responses={200: s.DomainReadSerializer, 404: s.MessageSerializer},
        examples=[
            OpenApiExample(
                "Domain",
                value={
                    "domain_name": "friskhouse.com",
                    "current_status": "InActive - Order Locked In Processing.",
                    "registrar_lock": None,
                    "expiry": "2022-12-06T08:08:27.000Z",
                    "customer_id": 311,
                    "customer_name": "Bob Brown",
                    "nameservers": {
                        "ns1": "ns1.sedoparking.com",
                        "ns2": "ns2.sedoparking.com",
                        "ns3": None,
                        "ns4": None,
                    },
                },
                response_only=True,
                status_codes=["200"],
            ),
            _body_message(NO_DOMAIN),
        ],
    )
    def get(self, request, domain_id):
        domain = self.domain_or_404(domain_id)
        code = STATUS_CODES[domain.status]
        hosts = list(domain.nameservers.order_by("position").values_list("hostname", flat=True))
        hosts = (hosts + [None] * 4)[:4]
        return Response(
            {
                "domain_name": domain.name,
                "current_status": code.label,
                "registrar_lock": None if code.code in PENDING else domain.registrar_lock,
                "expiry": timestamp(domain.expires_at),
                "customer_id": domain.customer_id,
                "customer_name": domain.customer.name,
                "nameservers": {f"ns{i}": host for i, host in enumerate(hosts, 1)},
            }
        )


class NameserversView(LeanstackView):
    @extend_schema(
        summary="Update domain nameservers",
        description="Replaces the domain's nameservers: `ns1` and `ns2` required, `ns3` and "
        "`ns4` optional (null, empty or left out), each a host name. Not a host name (the "
        "document's own example `ns1@sedoparking.com`), a repeated one, or a domain that "
        "cannot be changed now (pending, redemption...): 400 with the reason, nothing stored. "
        "Answers `{}`; the change reaches the registry through the outbox.",
        parameters=[ID_PARAMETER["domain_id"]],
        request=s.NameserversRequestSerializer,
        responses={200: EMPTY, 404: s.MessageSerializer},
        examples=[
            OpenApiExample(
                "Nameservers",
                value={"ns1": "ns1.sedoparking.com", "ns2": "ns2.sedoparking.com"},
                request_only=True,
            ),
            _body_message("'ns1@sedoparking.com' is not a valid host name."),
        ],
    )
    def post(self, request, domain_id):
        domain = self.domain_or_404(domain_id)
        data = self.body(s.NameserversRequestSerializer)
        hosts = [data[f"ns{i}"] for i in range(1, 5) if data.get(f"ns{i}")]
        services.domain_set_nameservers(actor=self.actor, domain=domain, nameservers=hosts)
        return Response({})


class RegistrarLockView(LeanstackView):
    @extend_schema(
        summary="Update domain registrar lock",
        description="Turns the registrar (transfer) lock on or off: `enable_registrar_lock`, a "
        "JSON boolean, required. A domain that cannot be changed now: 400 with the reason. "
        "Answers `{}`.",
        parameters=[ID_PARAMETER["domain_id"]],
        request=s.RegistrarLockRequestSerializer,
        responses={200: EMPTY, 404: s.MessageSerializer},
        examples=[
            OpenApiExample("Lock", value={"enable_registrar_lock": True}, request_only=True),
            OpenApiExample("Unlock", value={"enable_registrar_lock": False}, request_only=True),
        ],
    )
    def post(self, request, domain_id):
        domain = self.domain_or_404(domain_id)
        data = self.body(s.RegistrarLockRequestSerializer)
        services.domain_set_lock(
            actor=self.actor, domain=domain, locked=data["enable_registrar_lock"]
        )
        return Response({})


class DomainSecretView(LeanstackView):
    @extend_schema(
        summary="Get domain secret",
        description="The domain's transfer (EPP auth) code. A locked domain: 409 with the "
        "reason (turn the registrar lock off first). No code fetched from the registry yet: "
        "Nameport asks the registry for it and answers 409 asking to try again shortly (a "
        "second request while it is on its way asks nothing more). Each view is audited; the "
        "code is never logged. GET (the examples) and POST (the HTTP Request line) alike.",
        parameters=[ID_PARAMETER["domain_id"]],
        request=None,
        responses={200: s.SecretSerializer, 404: s.MessageSerializer, 409: s.MessageSerializer},
        examples=[
            OpenApiExample(
                "Secret", value={"secret": "f`BvdTx7ka"}, response_only=True, status_codes=["200"]
            )
        ],
    )
    def get(self, request, domain_id):
        domain = self.domain_or_404(domain_id)
        try:
            secret = services.domain_reveal_auth_code(actor=self.actor, domain=domain)
        except DjangoValidationError as exc:
            domain.refresh_from_db()
            if domain.registrar_lock or domain.auth_code:
                raise Conflict(" ".join(exc.messages)) from None
            self._request_code(domain)
            raise Conflict(
                f"The transfer code of {domain.name} has been requested from the registry: "
                "ask again in a minute."
            ) from None
        return Response({"secret": secret})

    def _request_code(self, domain) -> None:
        asked = domain.operations.filter(kind=Op.Kind.AUTH_CODE, status__in=UNFINISHED)
        if asked.exists():
            return
        try:
            services.domain_request_auth_code(actor=self.actor, domain=domain)
        except DjangoValidationError as exc:
            raise Conflict(" ".join(exc.messages)) from None

    @extend_schema(
        summary="Get domain secret (POST)",
        description="As the GET (the document's HTTP Request line says POST).",
        parameters=[ID_PARAMETER["domain_id"]],
        request=None,
        responses={200: s.SecretSerializer, 404: s.MessageSerializer, 409: s.MessageSerializer},
    )
    def post(self, request, domain_id):
        return self.get(request, domain_id)
