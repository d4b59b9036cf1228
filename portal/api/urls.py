"""The native REST API, mounted at /api/v1/ by portal/urls.py."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from billing.api.accounts import ResellerAccountViewSet
from billing.api.price_groups import PriceGroupMembershipViewSet, PriceGroupViewSet
from billing.api.prices import (
    ExchangeRateViewSet,
    MarkupRuleViewSet,
    PromotionCodeViewSet,
    ResellerPriceViewSet,
)
from billing.api.quotes import OrderViewSet, QuoteViewSet
from billing.api.views import CreditViewSet, InvoiceViewSet, PaymentMethodViewSet
from customers.api.contacts import ContactViewSet
from customers.api.organisation import OrganisationSettingsView
from customers.api.team import ApiKeyViewSet, TeamInvitationViewSet, TeamMemberViewSet
from customers.api.views import CustomerViewSet
from dns.api.views import (
    ZoneDnssecKeyViewSet,
    ZoneEmailForwardViewSet,
    ZoneRecordViewSet,
    ZoneTemplateViewSet,
    ZoneViewSet,
)
from domains.api.views import DomainViewSet, OperationViewSet
from portal.api import schema  # noqa: F401  (registers the API-key security scheme)
from portal.api.views import ApiRouter
from support.api.views import CannedReplyViewSet, DepartmentViewSet, TicketViewSet

app_name = "api"

router = ApiRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("api-keys", ApiKeyViewSet, basename="api-key")
router.register("team-members", TeamMemberViewSet, basename="team-member")
router.register("team-invitations", TeamInvitationViewSet, basename="team-invitation")
router.register("domains", DomainViewSet, basename="domain")
router.register("operations", OperationViewSet, basename="operation")
router.register("zones", ZoneViewSet, basename="zone")
router.register(r"zones/(?P<zone_pk>[^/.]+)/records", ZoneRecordViewSet, basename="zone-record")
router.register(
    r"zones/(?P<zone_pk>[^/.]+)/email-forwards",
    ZoneEmailForwardViewSet,
    basename="zone-email-forward",
)
router.register(
    r"zones/(?P<zone_pk>[^/.]+)/dnssec-keys", ZoneDnssecKeyViewSet, basename="zone-dnssec-key"
)
router.register("zone-templates", ZoneTemplateViewSet, basename="zone-template")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("credit", CreditViewSet, basename="credit")
router.register("payment-methods", PaymentMethodViewSet, basename="payment-method")
router.register("markup-rules", MarkupRuleViewSet, basename="markup-rule")
router.register("reseller-prices", ResellerPriceViewSet, basename="reseller-price")
router.register("exchange-rates", ExchangeRateViewSet, basename="exchange-rate")
router.register("quotes", QuoteViewSet, basename="quote")
router.register("orders", OrderViewSet, basename="order")
router.register("promotion-codes", PromotionCodeViewSet, basename="promotion-code")
router.register("price-groups", PriceGroupViewSet, basename="price-group")
router.register(
    "price-group-memberships", PriceGroupMembershipViewSet, basename="price-group-membership"
)
router.register("reseller-accounts", ResellerAccountViewSet, basename="reseller-account")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("ticket-departments", DepartmentViewSet, basename="ticket-department")
router.register("canned-replies", CannedReplyViewSet, basename="canned-reply")

urlpatterns = [
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[AllowAny]),
        name="schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[AllowAny]),
        name="docs",
    ),
    path("organisation/", OrganisationSettingsView.as_view(), name="organisation"),
    *router.urls,
]
