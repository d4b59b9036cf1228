"""One FilterSet per model, shared by the list page and the API viewset."""

from datetime import UTC, datetime, time, timedelta

import django_filters
from django.utils import timezone

from domains.models import (
    Domain,
    DomainStatus,
    RegistrarAccount,
    RegistrarOperation,
    RegistryMessage,
    Tld,
)
from portal.filtersets import FilterSet, IdFilter

# No domain can expire further away than ten years (renewals are capped there, as registries do),
# so a longer window adds nothing; it also keeps "now + days" inside the dates a database holds.
MAX_EXPIRING_WITHIN_DAYS = 3660


class DomainFilterSet(FilterSet):
    q = django_filters.CharFilter(method="search", label="Name contains")
    status = django_filters.MultipleChoiceFilter(choices=DomainStatus.choices, distinct=False)
    tld = django_filters.CharFilter(method="by_tld", label="TLD")
    customer = IdFilter(field_name="customer_id")
    autorenew = django_filters.BooleanFilter(label="Auto-renew")
    expires_before = django_filters.DateFilter(method="by_expiry", label="Expires before")
    expiring_within = django_filters.NumberFilter(
        method="expiring",
        label="Expiring within (days)",
        min_value=0,
        max_value=MAX_EXPIRING_WITHIN_DAYS,
    )

    class Meta:
        model = Domain
        fields = [
            "q",
            "status",
            "tld",
            "customer",
            "autorenew",
            "expires_before",
            "expiring_within",
        ]

    def search(self, queryset, name, value):
        value = value.strip().lower()
        if not value:
            return queryset
        try:
            puny = value.encode("idna").decode("ascii")
        except UnicodeError:
            puny = value
        return queryset.filter(name_puny__contains=puny)

    def by_tld(self, queryset, name, value):
        # Resolved to the TLD's id first (one small query), so that PostgreSQL walks the
        # (organisation, livemode, tld, name) index instead of guessing how rare the TLD is.
        value = value.strip().lower().lstrip(".")
        if not value:
            return queryset
        ids = list(Tld.objects.filter(name=value).values_list("pk", flat=True))
        return queryset.filter(tld_id__in=ids)

    def by_expiry(self, queryset, name, value):
        """Expires before the start of ``value`` (a date, UTC)."""
        if value is None:
            return queryset
        start = datetime.combine(value, time.min, tzinfo=UTC)
        return queryset.filter(expires_at__lt=start)

    def expiring(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.now()
        return queryset.filter(
            expires_at__gte=now, expires_at__lte=now + timedelta(days=float(value))
        )


class RegistrarOperationFilterSet(FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=RegistrarOperation.Status.choices, distinct=False
    )
    kind = django_filters.MultipleChoiceFilter(
        choices=RegistrarOperation.Kind.choices, distinct=False, label="Operation"
    )
    domain = IdFilter(field_name="domain_id")

    class Meta:
        model = RegistrarOperation
        fields = ["status", "kind", "domain"]


def _epp_accounts() -> list[tuple[int, str]]:
    return list(
        RegistrarAccount.objects.filter(kind=RegistrarAccount.Kind.EPP).values_list("pk", "name")
    )


class RegistryMessageFilterSet(FilterSet):
    """The EPP poll message log (staff): by registrar account, status and name."""

    account = django_filters.ChoiceFilter(
        field_name="account_id", choices=_epp_accounts, label="Registrar account"
    )
    status = django_filters.MultipleChoiceFilter(
        choices=RegistryMessage.Status.choices, distinct=False
    )
    name = django_filters.CharFilter(method="by_name", label="Name contains")

    class Meta:
        model = RegistryMessage
        fields = ["account", "status", "name"]

    def by_name(self, queryset, name, value):
        value = value.strip().lower().rstrip(".")
        if not value:
            return queryset
        try:
            puny = value.encode("idna").decode("ascii")
        except UnicodeError:
            puny = value
        return queryset.filter(name__contains=puny)
