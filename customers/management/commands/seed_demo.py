"""``manage.py seed_demo``: the demo data of ``make run``, so that every page has something to show.

Idempotent: every row is looked up by a natural key and only created when missing, so a second run
creates nothing and changes nothing (and never undoes what was done in the running demo since).
The demo logins are created only here, each with the password ``nameport-demo``.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import models, transaction
from django.utils import timezone

from billing.models import (
    AccountEntry,
    CreditEntry,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Order,
    OrderItem,
    Payment,
    PaymentMethod,
    Price,
    ResellerAccount,
    TaxRule,
)
from customers.models import ApiKey, Contact, Customer, Membership, Organisation, User
from customers.services import hash_api_key
from dns.models import DnssecKey, Record, Zone
from domains.lifecycle import lifecycle_dates
from domains.models import (
    DnssecDs,
    Domain,
    DomainContact,
    DomainStatus,
    DomainStatusChange,
    HostRecord,
    Nameserver,
    RegistrarAccount,
    RegistrarOperation,
    Tld,
)
from support.models import DEFAULT_DEPARTMENT, CannedReply, Department, Message, Ticket

DEMO_PASSWORD = "nameport-demo"
CENT = Decimal("0.01")

# The platform's selling price per TLD and year (what resellers pay): USD and NGN, as seed 000
# quotes them (.com 4.90 USD / 4000 NGN, .tech 41 USD / 15000 NGN, com.ng 5 USD / 3000 NGN).
PLATFORM_PRICES: dict[str, dict[str, tuple[str, str]]] = {
    "com": {"register": ("4.90", "4000"), "renew": ("4.90", "4000"), "transfer": ("4.90", "4000")},
    "net": {"register": ("9.50", "7600"), "renew": ("9.50", "7600"), "transfer": ("9.50", "7600")},
    "org": {"register": ("8.90", "7100"), "renew": ("8.90", "7100"), "transfer": ("8.90", "7100")},
    "io": {
        "register": ("32.00", "26000"),
        "renew": ("32.00", "26000"),
        "transfer": ("32.00", "26000"),
    },
    "tech": {
        "register": ("41.00", "15000"),
        "renew": ("48.00", "17500"),
        "transfer": ("41.00", "15000"),
    },
    "ng": {
        "register": ("12.00", "9500"),
        "renew": ("12.00", "9500"),
        "transfer": ("12.00", "9500"),
    },
    "com.ng": {
        "register": ("5.00", "3000"),
        "renew": ("5.00", "3000"),
        "transfer": ("5.00", "3000"),
    },
    "ee": {
        "register": ("14.00", "11000"),
        "renew": ("14.00", "11000"),
        "transfer": ("14.00", "11000"),
    },
}
REDEMPTION_PRICES = {
    "com": ("80.00", "64000"),
    "net": ("80.00", "64000"),
    "org": ("80.00", "64000"),
}
# The registry's cost is this share of the platform's selling price.
PLATFORM_COST_SHARE = Decimal("0.85")
# Reseller markups on the platform price: (organisation slug, markup, currencies).
RESELLER_MARKUPS = [
    ("demo-reseller", Decimal("0.20"), ("USD", "NGN")),
    ("other-reseller", Decimal("0.15"), ("USD",)),
]
# Seed 003 GET /payment/fees.
PAYMENT_METHODS = [
    ("Bank Transfer", "0.00", "0.00"),
    ("Stripe", "0.50", "2.90"),
    ("Credit Card", "0.10", "2.40"),
    ("PayPal", "0.30", "2.90"),
]
# A static ECDSA P-256 public key (algorithm 13) for the DNSSEC demo of magi.ee.
DEMO_DNSKEY = (
    "RUZKbPBS3TiSyI2qYApOWME+MHsJGqbhzKySnthX5UImHAN3Qu4oJNOPgCw+pO+rdyID5+/3zcPFEVDTVMTl0g=="
)

# Demo Reseller's API keys, known like the demo password so that software written against the
# Leanstack enterprise API (or the native API) can be tried on a fresh `make run` at once. Demo
# data only: a real key is issued at /team/api-keys/ and shown once.
DEMO_API_KEYS = {
    True: "np_live_demo0000live_nameport-demo-live-key",
    False: "np_test_demo0000test_nameport-demo-sandbox-key",
}

LOGINS = [
    ("staff@example.com", "platform staff: everything, and the admin site at /admin/"),
    ("reseller@example.com", "owner of Demo Reseller (demo-reseller)"),
    ("other-reseller@example.com", "owner of Other Reseller (other-reseller)"),
    ("customer@example.com", "customer of Demo Reseller (Ada Okafor)"),
    ("contact@example.com", "contact of Ada Okafor's account, limited by privileges"),
]


def money(value: str | Decimal, currency: str = "USD") -> Decimal:
    step = Decimal("1") if currency == "NGN" else CENT
    return Decimal(value).quantize(step, rounding=ROUND_HALF_UP).quantize(CENT)


def dnskey_rdata(flags: int, protocol: int, algorithm: int, public_key: str) -> bytes:
    return struct.pack("!HBB", flags, protocol, algorithm) + base64.b64decode(public_key)


def key_tag(rdata: bytes) -> int:
    """RFC 4034 appendix B."""
    total = 0
    for index, byte in enumerate(rdata):
        total += byte if index & 1 else byte << 8
    total += (total >> 16) & 0xFFFF
    return total & 0xFFFF


def ds_digest_sha256(zone: str, rdata: bytes) -> str:
    owner = b"".join(bytes([len(label)]) + label.encode() for label in zone.split(".")) + b"\0"
    return hashlib.sha256(owner + rdata).hexdigest().upper()


class Seeder:
    def __init__(self) -> None:
        self.created = 0
        self.now = timezone.now().replace(microsecond=0)
        self.today = self.now.date()

    # --- the one primitive: find by natural key, or create (validated) ---------------------------
    def ensure(
        self,
        model: type[models.Model],
        defaults: dict[str, Any] | None = None,
        *,
        validate: bool = True,
        **lookup,
    ):
        obj = model._default_manager.filter(**lookup).first()
        if obj is not None:
            return obj
        obj = model(**lookup, **(defaults or {}))
        if validate:
            # Field validation here; uniqueness and check constraints are the database's job
            # (checking them in Python too would double the time of a seed for no gain).
            obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save()
        self.created += 1
        return obj

    def user(self, email: str, **extra) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, **extra)
            self.created += 1
        return user

    def days(self, n: int) -> datetime:
        return self.now + timedelta(days=n)

    # --- the data ---------------------------------------------------------------------------
    def run(self) -> None:
        self.people_and_organisations()
        self.registry_and_prices()
        self.price_rules()
        self.billing_setup()
        self.domains()
        self.reseller_accounts()
        self.dns()
        self.invoices()
        self.customer_billing()
        self.support()

    def people_and_organisations(self) -> None:
        self.staff = self.user(
            "staff@example.com",
            first_name="Sam",
            last_name="Staff",
            is_staff=True,
            is_superuser=True,
        )
        self.demo = self.ensure(
            Organisation,
            slug="demo-reseller",
            defaults={"name": "Demo Reseller Ltd", "default_currency": "USD"},
        )
        self.other = self.ensure(
            Organisation,
            slug="other-reseller",
            defaults={"name": "Other Reseller OÜ", "default_currency": "USD"},
        )
        self.reseller = self.user("reseller@example.com", first_name="Rita", last_name="Reseller")
        self.ensure(
            Membership,
            user=self.reseller,
            organisation=self.demo,
            defaults={"role": Membership.Role.OWNER},
        )
        self.ensure(
            Membership,
            user=self.user("support@demo-reseller.example.com", first_name="Sade", last_name="Ojo"),
            organisation=self.demo,
            defaults={"role": Membership.Role.SUPPORT},
        )
        for livemode, raw_key in DEMO_API_KEYS.items():
            self.ensure(
                ApiKey,
                prefix=raw_key[: raw_key.index("_", len("np_live_"))],
                defaults={
                    "organisation": self.demo,
                    "name": "Demo key (demo data)",
                    "livemode": livemode,
                    "key_hash": hash_api_key(raw_key),
                    "created_by": self.reseller,
                },
            )
        self.other_owner = self.user(
            "other-reseller@example.com", first_name="Olev", last_name="Tamm"
        )
        self.ensure(
            Membership,
            user=self.other_owner,
            organisation=self.other,
            defaults={"role": Membership.Role.OWNER},
        )

        self.ada = self.customer(
            self.demo,
            "customer@example.com",
            user=self.user("customer@example.com", first_name="Ada", last_name="Okafor"),
            first_name="Ada",
            last_name="Okafor",
            company="Ada's Bakery",
            phone="+234.8012345678",
            address="12 Marina Road",
            city="Lagos",
            state="Lagos",
            post_code="101001",
            country="NG",
            currency="USD",
        )
        self.bola = self.customer(
            self.demo,
            "bola@bola-logistics.example.com",
            first_name="Bola",
            last_name="Adeyemi",
            company="Bola Logistics",
            phone="+234.8098765432",
            address="3 Ring Road",
            city="Ibadan",
            state="Oyo",
            post_code="200001",
            country="NG",
            currency="NGN",
        )
        self.sandy = self.customer(
            self.demo,
            "sandbox-tester@example.com",
            livemode=False,
            first_name="Sandy",
            last_name="Tester",
            phone="+1.3035555555",
            address="1 Test Street",
            city="Denver",
            state="CO",
            post_code="80202",
            country="US",
            currency="USD",
        )
        self.carla = self.customer(
            self.other,
            "carla@magi.example.com",
            first_name="Carla",
            last_name="Mägi",
            company="Mägi Disain",
            phone="+372.5551234",
            address="Narva mnt 5",
            city="Tallinn",
            post_code="10117",
            country="EE",
            currency="USD",
        )
        self.chidi = self.ensure(
            Contact,
            customer=self.ada,
            email="contact@example.com",
            defaults={
                "user": self.user("contact@example.com", first_name="Chidi", last_name="Okafor"),
                "first_name": "Chidi",
                "last_name": "Okafor",
                "phone": "+234.8011111111",
                "country": "NG",
                "city": "Lagos",
                "privileges": {
                    "billing": ["emails", "payinvoice", "balance"],
                    "support": ["newticket", "tickets", "closeticket", "emails"],
                    "misc": ["emails"],
                    "domains": {"full": 1},
                },
            },
        )
        self.ensure(
            Contact,
            customer=self.bola,
            email="accounts@bola-logistics.example.com",
            defaults={
                "first_name": "Kemi",
                "last_name": "Bello",
                "company_name": "Bola Logistics",
                "type": Contact.Type.COMPANY,
                "phone": "+234.8022222222",
                "country": "NG",
                "privileges": {
                    "billing": ["emails", "payinvoice", "orders", "balance", "addfunds"],
                    "misc": ["editmain", "emails", "manageprofiles"],
                },
            },
        )

    def customer(self, organisation: Organisation, email: str, livemode: bool = True, **fields):
        return self.ensure(
            Customer,
            organisation=organisation,
            livemode=livemode,
            email=email,
            defaults=fields,
        )

    def registry_and_prices(self) -> None:
        costs = {
            tld: {
                action: str(money(Decimal(usd) * PLATFORM_COST_SHARE))
                for action, (usd, _) in a.items()
            }
            for tld, a in PLATFORM_PRICES.items()
        }
        self.sandbox = self.ensure(
            RegistrarAccount,
            name="Sandbox registry",
            defaults={
                "kind": RegistrarAccount.Kind.SANDBOX,
                "livemode": False,
                "settings": {
                    "latency_ms": 300,
                    "failure_rate": 0,
                    "reserved": ["reserved-name.com"],
                    "premium": {"premium.io": "950.00"},
                    "prices": costs,
                    "balance": "100000",
                },
                "rate_per_second": 20,
                "max_sessions": 4,
            },
        )
        self.tlds: dict[str, Tld] = {}
        for name in PLATFORM_PRICES:
            self.tlds[name] = self.ensure(
                Tld,
                name=name,
                defaults={
                    "registrar_account": self.sandbox,
                    "max_years": 1 if name == "ee" else 10,
                    "idn_allowed": name in {"com", "net", "org"},
                },
            )
        self.platform_sell: dict[tuple[str, str, str], Decimal] = {}
        for name, actions in PLATFORM_PRICES.items():
            rows = dict(actions)
            if name in REDEMPTION_PRICES:
                rows["redemption"] = REDEMPTION_PRICES[name]
            for action, (usd, ngn) in rows.items():
                for currency, amount in (("USD", usd), ("NGN", ngn)):
                    sell = money(amount, currency)
                    self.platform_sell[(name, action, currency)] = sell
                    self.ensure(
                        Price,
                        organisation=None,
                        tld=self.tlds[name],
                        action=action,
                        years=1,
                        currency=currency,
                        defaults={
                            "cost": money(sell * PLATFORM_COST_SHARE, currency),
                            "sell": sell,
                        },
                    )
        for slug, markup, currencies in RESELLER_MARKUPS:
            organisation = Organisation.objects.get(slug=slug)
            for (name, action, currency), platform in self.platform_sell.items():
                if currency not in currencies:
                    continue
                self.ensure(
                    Price,
                    organisation=organisation,
                    tld=self.tlds[name],
                    action=action,
                    years=1,
                    currency=currency,
                    defaults={"cost": platform, "sell": money(platform * (1 + markup), currency)},
                )

    def price_rules(self) -> None:
        """Exchange rates for the currencies the platform lists no price in, and a markup rule
        of the other reseller for what it set no price of its own for (NGN, EUR)."""
        from billing.models import ExchangeRate, MarkupRule

        since = self.today - timedelta(days=30)
        for base, quote, rate in (("USD", "EUR", "0.92000000"), ("USD", "GBP", "0.79000000")):
            self.ensure(
                ExchangeRate,
                base=base,
                quote=quote,
                valid_from=since,
                defaults={"rate": Decimal(rate), "created_by": self.staff},
            )
        self.ensure(
            MarkupRule,
            organisation=self.other,
            tld=None,
            action="",
            defaults={"percent": Decimal("15.00"), "rounding": MarkupRule.Rounding.NINETY_NINE},
        )
        # A customer price group of the demo reseller (10% off its 20% markup), with Bola in it.
        from billing.models import PriceGroup, PriceGroupMembership

        trade = self.ensure(
            PriceGroup,
            organisation=self.demo,
            name="Trade customers",
            defaults={"percent": Decimal("10.00")},
        )
        self.ensure(
            PriceGroupMembership,
            customer=self.bola,
            defaults={"group": trade, "organisation": self.demo, "livemode": True},
        )

    def sell(self, organisation: Organisation, tld: str, action: str, currency: str) -> Decimal:
        return Price.objects.get(
            organisation=organisation, tld__name=tld, action=action, years=1, currency=currency
        ).sell

    def billing_setup(self) -> None:
        self.methods = {
            name: self.ensure(
                PaymentMethod,
                organisation=None,
                name=name,
                defaults={"fixed_fee": Decimal(fixed), "percent_fee": Decimal(percent)},
            )
            for name, fixed, percent in PAYMENT_METHODS
        }
        self.ensure(
            TaxRule,
            organisation=None,
            country="NG",
            state="",
            defaults={"name": "VAT", "rate": Decimal("7.50")},
        )
        self.ensure(
            TaxRule,
            organisation=None,
            country="EE",
            state="",
            defaults={"name": "VAT", "rate": Decimal("22.00")},
        )

    # --- the resellers' accounts with the platform (the wholesale ledger) -------------------
    def reseller_accounts(self) -> None:
        """Both demo resellers' live and sandbox USD accounts with the platform, funded by an
        opening top-up, and the demo reseller's live ledger charged for ada-bakery.com's
        registration (the succeeded operation above), so the ledger shows something."""
        fundings = [(self.demo, "500.00", "1000.00"), (self.other, "250.00", "1000.00")]
        for organisation, live, sandbox in fundings:
            for livemode, amount in ((True, live), (False, sandbox)):
                account = self.ensure(
                    ResellerAccount, organisation=organisation, currency="USD", livemode=livemode
                )
                if account.entries.exists():
                    continue
                mode = "live" if livemode else "sandbox"
                AccountEntry.objects.create(
                    account=account,
                    kind=AccountEntry.Kind.TOPUP,
                    amount=Decimal(amount),
                    balance_after=Decimal(amount),
                    reference=f"DEMO-{organisation.slug}-{mode}",
                    note="Opening top-up (demo data)",
                    created_by=self.staff,
                )
                self.created += 1
        operation = RegistrarOperation.objects.filter(
            domain=self.ada_bakery,
            kind=RegistrarOperation.Kind.REGISTER,
            status=RegistrarOperation.Status.SUCCEEDED,
        ).first()
        if operation is None or AccountEntry.objects.filter(operation=operation).exists():
            return
        account = ResellerAccount.objects.get(organisation=self.demo, currency="USD", livemode=True)
        cost = self.platform_sell[("com", "register", "USD")]
        latest = account.entries.order_by("-id").first()
        AccountEntry.objects.create(
            account=account,
            kind=AccountEntry.Kind.CHARGE,
            amount=-cost,
            balance_after=latest.balance_after - cost,
            operation=operation,
            note="Register ada-bakery.com (1 y)",
        )
        self.created += 1

    # --- domains in every state --------------------------------------------------------------
    def domain(
        self,
        customer: Customer,
        name: str,
        status: str,
        *,
        registered: int | None,
        expires: int | None,
        nameservers: list[str] | None = None,
        history: list[tuple[str, str, str]] = (),
        **extra,
    ) -> Domain:
        name_puny = name.encode("idna").decode("ascii")
        tld = self.tlds[name.split(".", 1)[1]]
        fields: dict[str, Any] = {
            "organisation": customer.organisation,
            "customer": customer,
            "name": name,
            "tld": tld,
            "registrar_account": self.sandbox,
            "status": status,
            "registered_at": self.days(registered) if registered is not None else None,
            "expires_at": self.days(expires) if expires is not None else None,
            "epp_statuses": ["clientTransferProhibited"] if status == "active" else [],
            "last_synced_at": self.now if registered is not None else None,
        }
        if expires is not None:
            # The same dates the lifecycle sweep reads, so nothing moves before its time.
            fields.update(lifecycle_dates(tld, self.days(expires)))
        fields.update(extra)
        domain = self.ensure(
            Domain, name_puny=name_puny, livemode=customer.livemode, defaults=fields
        )
        if status == DomainStatus.DELETED:
            return domain
        for position, hostname in enumerate(
            nameservers or settings.NAMEPORT_DEFAULT_NAMESERVERS, start=1
        ):
            self.ensure(
                Nameserver, domain=domain, position=position, defaults={"hostname": hostname}
            )
        for role in DomainContact.Role.values:
            self.ensure(
                DomainContact,
                domain=domain,
                role=role,
                defaults={
                    "handle": f"NP-{customer.pk}-{role[:3].upper()}",
                    "first_name": customer.first_name,
                    "last_name": customer.last_name,
                    "organization": customer.company,
                    "email": customer.email,
                    "phone": customer.phone,
                    "address_1": customer.address,
                    "city": customer.city,
                    "state": customer.state,
                    "zip": customer.post_code,
                    "country": customer.country,
                },
            )
        for from_status, to_status, reason in history:
            self.ensure(
                DomainStatusChange,
                domain=domain,
                from_status=from_status,
                to_status=to_status,
                defaults={"reason": reason, "actor": "system"},
            )
        if registered is not None and status not in {
            DomainStatus.TRANSFERRED_AWAY,
            DomainStatus.PENDING_TRANSFER,
        }:
            self.mirror_in_sandbox_registry(domain)
        return domain

    def mirror_in_sandbox_registry(self, domain: Domain) -> None:
        """The sandbox registry keeps its own state: tell it about the demo's registered names,
        so that a sync from the running demo finds them."""
        try:
            model = apps.get_model("domains", "SandboxDomain")
        except LookupError:
            return
        wanted = {
            "account": self.sandbox.name,
            "registered_at": domain.registered_at,
            "expires_at": domain.expires_at,
            "statuses": domain.epp_statuses or ["ok"],
            "nameservers": list(domain.nameservers.values_list("hostname", flat=True)),
            "locked": domain.registrar_lock,
            "privacy": domain.id_protection,
            "autorenew": domain.autorenew,
            "auth_code": hashlib.sha256(f"demo:{domain.name_puny}".encode()).hexdigest()[:16],
        }
        names = {field.name for field in model._meta.get_fields()}
        self.ensure(
            model,
            name=domain.name_puny,
            defaults={key: value for key, value in wanted.items() if key in names},
            validate=False,  # the simulated registry's own rows; its JSON lists may be empty
        )

    def domains(self) -> None:
        ada, bola, carla = self.ada, self.bola, self.carla
        expired_history = [("active", "expired", "Expiry date passed without renewal")]
        self.ada_bakery = self.domain(
            ada, "ada-bakery.com", "active", registered=-400, expires=330, id_protection=True
        )
        self.domain(ada, "ada-bakery.ng", "active", registered=-300, expires=65)
        self.lagos_eats = self.domain(
            ada, "lagos-eats.com.ng", "active", registered=-353, expires=12, autorenew=False
        )
        self.okafor_tech = self.domain(
            ada,
            "okafor.tech",
            "active",
            registered=-340,
            expires=25,
            nameservers=["ns1.okafor.tech", "ns2.okafor.tech"],
        )
        for index, hostname in enumerate(["ns1.okafor.tech", "ns2.okafor.tech"], start=53):
            self.ensure(
                HostRecord,
                domain=self.okafor_tech,
                hostname=hostname,
                defaults={"ipv4": [f"192.0.2.{index}"], "ipv6": [f"2001:db8::{index}"]},
            )
        # The registry refused this registration (the failed operation and its tickets below):
        # the name is free again for a new order, and staff may retry it.
        self.pending = self.domain(
            ada,
            "ada-cakes.io",
            "registration_failed",
            registered=None,
            expires=None,
            history=[("pending_registration", "registration_failed", "Registration refused")],
        )
        self.domain(ada, "ada-cookies.io", "pending_registration", registered=None, expires=None)
        self.domain(
            ada, "old-bakery.org", "expired", registered=-370, expires=-5, history=expired_history
        )
        self.domain(
            ada,
            "ada-pastry.net",
            "grace",
            registered=-380,
            expires=-15,
            history=[("active", "grace", "Expiry date passed; renewable at the normal price")],
        )
        self.domain(
            bola,
            "bola-freight.com",
            "redemption",
            registered=-410,
            expires=-45,
            autorenew=False,
            history=[
                ("active", "expired", "Expiry date passed without renewal"),
                ("expired", "redemption", "Grace period over"),
            ],
        )
        self.domain(
            bola,
            "bola-cargo.net",
            "pending_delete",
            registered=-430,
            expires=-62,
            autorenew=False,
            history=[("redemption", "pending_delete", "Redemption period over")],
        )
        self.domain(
            bola,
            "bola-old.org",
            "deleted",
            registered=-500,
            expires=-100,
            autorenew=False,
            history=[("pending_delete", "deleted", "Deleted by the registry")],
        )
        self.bola_logistics = self.domain(
            bola, "bola-logistics.net", "active", registered=-30, expires=335
        )
        self.transfer_domain = self.domain(
            bola, "bola-transfer.com", "pending_transfer", registered=None, expires=140
        )
        self.domain(
            bola,
            "bola-moved.net",
            "transfer_failed",
            registered=None,
            expires=None,
            history=[("pending_transfer", "transfer_failed", "The losing registrar rejected it")],
        )
        self.domain(
            bola,
            "bola-sold.com",
            "transferred_away",
            registered=-800,
            expires=200,
            history=[("active", "transferred_away", "Transferred to another registrar")],
        )
        self.domain(
            bola,
            "bücher-demo.com",
            "suspended",
            registered=-100,
            expires=265,
            epp_statuses=["clientHold"],
            history=[("active", "suspended", "Suspended by staff: abuse report")],
        )
        self.domain(self.sandy, "sandbox-demo.com", "active", registered=-10, expires=355)
        self.magi = self.domain(carla, "magi.ee", "active", registered=-200, expires=165)
        self.domain(carla, "carla-design.com", "active", registered=-50, expires=20)

        self.ensure(
            Contact,
            customer=ada,
            email="ngozi@ada-bakery.example.com",
            defaults={
                "first_name": "Ngozi",
                "last_name": "Eze",
                "phone": "+234.8033333333",
                "country": "NG",
                "privileges": {
                    "support": ["tickets", "newticket"],
                    "domains": {
                        "full": 0,
                        str(self.ada_bakery.pk): ["basic", "nameservers", "dnsmanagement"],
                    },
                },
            },
        )

        self.ensure(
            RegistrarOperation,
            domain=self.ada_bakery,
            kind=RegistrarOperation.Kind.REGISTER,
            defaults={
                "organisation": self.demo,
                "registrar_account": self.sandbox,
                "livemode": True,
                "payload": {"name": "ada-bakery.com", "years": 1},
                "status": RegistrarOperation.Status.SUCCEEDED,
                "attempts": 1,
                "upstream_reference": "SBX-ada-bakery.com",
                "result": {"expires_at": self.ada_bakery.expires_at.isoformat()},
                "started_at": self.days(-400),
                "finished_at": self.days(-400),
            },
        )
        self.failed_operation = self.ensure(
            RegistrarOperation,
            domain=self.pending,
            kind=RegistrarOperation.Kind.REGISTER,
            defaults={
                "organisation": self.demo,
                "registrar_account": self.sandbox,
                "livemode": True,
                "payload": {"name": "ada-cakes.io", "years": 1},
                "status": RegistrarOperation.Status.FAILED,
                "attempts": 1,
                "last_error": "2306 Parameter value policy error: registrant e-mail not verified",
                "created_by": self.ada.user,
                "started_at": self.days(-1),
                "finished_at": self.days(-1),
            },
        )

    def dns(self) -> None:
        zone = self.ensure(
            Zone,
            name="ada-bakery.com",
            livemode=True,
            defaults={
                "organisation": self.demo,
                "customer": self.ada,
                "domain": self.ada_bakery,
                "serial": int(self.today.strftime("%Y%m%d01")),
                "last_pushed_at": self.now,
            },
        )
        for name, rtype, content, priority in [
            ("@", "A", "192.0.2.10", None),
            ("@", "AAAA", "2001:db8::10", None),
            ("www", "CNAME", "ada-bakery.com.", None),
            ("@", "MX", "mail.ada-bakery.com.", 10),
            ("mail", "A", "192.0.2.25", None),
            ("@", "TXT", '"v=spf1 mx -all"', None),
            ("@", "CAA", '0 issue "letsencrypt.org"', None),
            ("_sip._tcp", "SRV", "5 5060 sip.ada-bakery.com.", 10),
            ("shop", "URL", "https://shop.example.net/ada", None),
        ]:
            self.ensure(
                Record,
                zone=zone,
                name=name,
                type=rtype,
                content=content,
                defaults={"priority": priority, "ttl": 3600},
            )
        magi_zone = self.ensure(
            Zone,
            name="magi.ee",
            livemode=True,
            defaults={
                "organisation": self.other,
                "customer": self.carla,
                "domain": self.magi,
                "serial": int(self.today.strftime("%Y%m%d01")),
                "last_pushed_at": self.now,
            },
        )
        for name, rtype, content in [
            ("@", "A", "198.51.100.7"),
            ("www", "A", "198.51.100.7"),
            ("@", "TXT", '"hello from Tallinn"'),
        ]:
            self.ensure(Record, zone=magi_zone, name=name, type=rtype, content=content)
        rdata = dnskey_rdata(257, 3, 13, DEMO_DNSKEY)
        tag = key_tag(rdata)
        digest = ds_digest_sha256("magi.ee", rdata)
        self.ensure(
            DnssecKey,
            zone=magi_zone,
            key_tag=tag,
            defaults={
                "flags": 257,
                "protocol": 3,
                "algorithm": 13,
                "public_key": DEMO_DNSKEY,
                "digest_type": 2,
                "digest": digest,
            },
        )
        self.ensure(
            DnssecDs,
            domain=self.magi,
            key_tag=tag,
            algorithm=13,
            digest_type=2,
            digest=digest,
        )

    # --- invoices, payments, credit --------------------------------------------------------
    def invoice(
        self,
        customer: Customer,
        number: str,
        status: str,
        lines: list[tuple[str, Decimal, bool]],
        *,
        issued: int,
        due: int,
        taxrate: str,
        currency: str,
        order: Order | None = None,
        credit: Decimal = Decimal("0.00"),
    ) -> Invoice:
        subtotal = sum((amount for _, amount, _ in lines), Decimal("0.00"))
        taxable = sum((amount for _, amount, taxed in lines if taxed), Decimal("0.00"))
        tax = money(taxable * Decimal(taxrate) / 100)
        issued_on: date = self.today + timedelta(days=issued)
        invoice = self.ensure(
            Invoice,
            organisation=customer.organisation,
            number=number,
            defaults={
                "customer": customer,
                "livemode": customer.livemode,
                "order": order,
                "status": status,
                "date": issued_on,
                "duedate": self.today + timedelta(days=due),
                "paybefore": self.today + timedelta(days=due),
                "datepaid": self.days(issued + 1) if status == Invoice.Status.PAID else None,
                "subtotal": subtotal,
                "tax": tax,
                "taxrate": Decimal(taxrate),
                "credit": credit,
                "total": subtotal + tax,
                "currency": currency,
            },
        )
        for description, amount, taxed in lines:
            self.ensure(
                InvoiceLine,
                invoice=invoice,
                description=description,
                defaults={
                    "type": "Domain" if "omain" in description else "Other",
                    "amount": amount,
                    "qty": Decimal("1.00"),
                    "taxed": taxed,
                    "linetotal": amount,
                },
            )
        return invoice

    def invoices(self) -> None:
        demo = self.demo
        register_com = self.sell(demo, "com", "register", "USD")
        order = self.ensure(
            Order,
            organisation=demo,
            idempotency_key="demo-order-ada-bakery",
            defaults={
                "customer": self.ada,
                "status": Order.Status.COMPLETED,
                "currency": "USD",
                "total": register_com,
                "created_by": self.ada.user,
            },
        )
        self.ensure(
            OrderItem,
            order=order,
            domain_name="ada-bakery.com",
            kind=OrderItem.Kind.DOMAIN_REGISTER,
            defaults={
                "domain": self.ada_bakery,
                "years": 1,
                "amount": register_com,
                "currency": "USD",
                "status": "completed",
            },
        )
        paid = self.invoice(
            self.ada,
            "D-0001",
            Invoice.Status.PAID,
            [
                ("Domain registration ada-bakery.com (1 year)", register_com, True),
                ("ID protection ada-bakery.com (1 year)", Decimal("3.00"), True),
            ],
            issued=-60,
            due=-53,
            taxrate="7.50",
            currency="USD",
            order=order,
        )
        stripe = self.methods["Stripe"]
        self.ensure(
            Payment,
            invoice=paid,
            reference="ch_demo_0001",
            defaults={
                "method": stripe,
                "amount": paid.total,
                "fee": money(stripe.fixed_fee + paid.total * stripe.percent_fee / 100),
                "currency": "USD",
                "status": Payment.Status.COMPLETED,
            },
        )
        unpaid = self.invoice(
            self.ada,
            "D-0002",
            Invoice.Status.UNPAID,
            [
                (
                    "Domain renewal lagos-eats.com.ng (1 year)",
                    self.sell(demo, "com.ng", "renew", "USD"),
                    True,
                ),
                (
                    "Domain renewal okafor.tech (1 year)",
                    self.sell(demo, "tech", "renew", "USD"),
                    True,
                ),
            ],
            issued=-2,
            due=5,
            taxrate="7.50",
            currency="USD",
            credit=Decimal("10.00"),
        )
        self.ensure(
            CreditEntry,
            customer=self.ada,
            reason="Funds added by bank transfer",
            defaults={
                "organisation": demo,
                "amount": Decimal("50.00"),
                "currency": "USD",
                "created_by": self.staff,
            },
        )
        self.ensure(
            CreditEntry,
            customer=self.ada,
            reason="Credit applied to invoice D-0002",
            defaults={
                "organisation": demo,
                "amount": Decimal("-10.00"),
                "currency": "USD",
                "invoice": unpaid,
                "created_by": self.ada.user,
            },
        )
        self.invoice(
            self.bola,
            "D-0003",
            Invoice.Status.UNPAID,
            [
                (
                    "Domain registration bola-logistics.net (1 year)",
                    self.sell(demo, "net", "register", "NGN"),
                    True,
                ),
            ],
            issued=-30,
            due=-16,
            taxrate="7.50",
            currency="NGN",
        )
        self.invoice(
            self.bola,
            "D-0004",
            Invoice.Status.CANCELLED,
            [("Domain transfer bola-transfer.com (1 year)", Decimal("11400.00"), True)],
            issued=-20,
            due=-13,
            taxrate="7.50",
            currency="NGN",
        )
        self.ensure(
            CreditEntry,
            customer=self.bola,
            reason="Welcome credit",
            defaults={"organisation": demo, "amount": Decimal("5000.00"), "currency": "NGN"},
        )
        other_paid = self.invoice(
            self.carla,
            "O-0001",
            Invoice.Status.PAID,
            [
                (
                    "Domain registration magi.ee (1 year)",
                    self.sell(self.other, "ee", "register", "USD"),
                    True,
                )
            ],
            issued=-200,
            due=-193,
            taxrate="22.00",
            currency="USD",
        )
        bank = self.methods["Bank Transfer"]
        self.ensure(
            Payment,
            invoice=other_paid,
            reference="BANK-2025-0042",
            defaults={
                "method": bank,
                "amount": other_paid.total,
                "fee": Decimal("0.00"),
                "currency": "USD",
                "status": Payment.Status.COMPLETED,
            },
        )
        self.invoice(
            self.carla,
            "O-0002",
            Invoice.Status.UNPAID,
            [
                (
                    "Domain renewal carla-design.com (1 year)",
                    self.sell(self.other, "com", "renew", "USD"),
                    True,
                )
            ],
            issued=-1,
            due=6,
            taxrate="22.00",
            currency="USD",
        )
        self.unpaid_invoice = unpaid

    # --- the customer ledger through billing.services -----------------------------------------
    def customer_billing(self) -> None:
        """Payment methods on their gateways, the credit ledger's balance_after, the sellers'
        invoice details, and invoices as billing.services issues them (numbers from the
        sequence, taxes from the rules, credit applied with its ledger entry, a payment)."""
        PaymentMethod.objects.filter(organisation=None, name="Bank Transfer").update(
            gateway="bank_transfer"
        )
        PaymentMethod.objects.filter(organisation=None).exclude(name="Bank Transfer").update(
            gateway="test"
        )
        for organisation, legal_name, address, tax_number in (
            (
                self.demo,
                "Demo Reseller Ltd",
                "4 Adeola Odeku Street\nVictoria Island, Lagos\nNG",
                "NG-TIN-10293847",
            ),
            (self.other, "Other Reseller OÜ", "Narva mnt 7\n10117 Tallinn\nEE", "EE101234567"),
        ):
            if not organisation.legal_name:
                organisation.legal_name = legal_name
                organisation.address = address
                organisation.tax_number = tax_number
                organisation.save(update_fields=["legal_name", "address", "tax_number"])
        # The entries written before balance_after existed get their running balance.
        running: dict[tuple, Decimal] = {}
        for entry in CreditEntry.objects.order_by("id"):
            key = (entry.customer_id, entry.currency, entry.livemode)
            running[key] = running.get(key, Decimal("0.00")) + entry.amount
            if entry.balance_after is None:
                CreditEntry.objects.filter(pk=entry.pk).update(balance_after=running[key])

        # Invoices as billing.services.invoice_issue leaves them (customers may not import
        # billing's services: the layers): numbers from the organisation's sequence for the
        # year and mode, VAT from the rules rounded per line, credit applied from the ledger.
        marker = "Issued like billing.services.invoice_issue (demo)."
        if Invoice.objects.filter(notes=marker).exists():
            return
        cent = Decimal("0.01")

        def issue(customer: Customer, lines: list[tuple], *, days_ago: int) -> Invoice:
            on = self.today - timedelta(days=days_ago)
            sequence = InvoiceSequence.objects.filter(
                organisation=customer.organisation, year=on.year, livemode=customer.livemode
            ).first() or InvoiceSequence(
                organisation=customer.organisation, year=on.year, livemode=customer.livemode
            )
            sequence.last += 1
            sequence.save()
            rule = TaxRule.objects.filter(
                organisation=None, country=customer.country, level=1
            ).first()
            rate = rule.rate if rule and not customer.tax_exempt else Decimal("0.00")
            rows = []
            for description, amount, qty, taxed in lines:
                total = (amount * qty).quantize(cent, rounding=ROUND_HALF_UP)
                rows.append((description, amount, qty, taxed, total))
            subtotal = sum((row[4] for row in rows), Decimal("0.00"))
            tax = sum(
                (
                    (row[4] * rate / 100).quantize(cent, rounding=ROUND_HALF_UP)
                    for row in rows
                    if row[3]
                ),
                Decimal("0.00"),
            )
            prefix = "" if customer.livemode else "TEST-"
            invoice = Invoice.objects.create(
                organisation=customer.organisation,
                customer=customer,
                livemode=customer.livemode,
                number=f"{prefix}{on.year}/{on.month:02d}/{sequence.last}",
                status=Invoice.Status.UNPAID,
                issued_at=self.days(-days_ago),
                date=on,
                duedate=on + timedelta(days=14),
                paybefore=on + timedelta(days=14),
                subtotal=subtotal,
                tax=tax,
                taxrate=rate,
                taxname=rule.name if rule and rate else "",
                total=subtotal + tax,
                currency=customer.currency,
                notes=marker,
            )
            InvoiceLine.objects.bulk_create(
                InvoiceLine(
                    invoice=invoice,
                    description=description,
                    amount=amount,
                    qty=qty,
                    taxed=taxed,
                    linetotal=total,
                )
                for description, amount, qty, taxed, total in rows
            )
            self.created += 1
            return invoice

        renew_com = self.sell(self.demo, "com", "renew", "USD")
        paid = issue(
            self.ada, [("Domain renewal ada-bakery.com (1 year)", renew_com, 1, True)], days_ago=10
        )
        # 5.00 of Ada's credit applied (its ledger entry with the balance after), the rest paid
        # by bank transfer and marked paid by the reseller.
        balance = sum(
            CreditEntry.objects.filter(customer=self.ada, currency="USD").values_list(
                "amount", flat=True
            ),
            Decimal("0.00"),
        )
        applied = min(Decimal("5.00"), balance, paid.total)
        CreditEntry.objects.create(
            organisation=self.demo,
            customer=self.ada,
            amount=-applied,
            currency="USD",
            balance_after=balance - applied,
            reason=f"Credit applied to invoice {paid.number}",
            invoice=paid,
            created_by=self.ada.user,
        )
        Payment.objects.create(
            invoice=paid,
            method=self.methods["Bank Transfer"],
            amount=paid.total - applied,
            currency="USD",
            reference="BANK-DEMO-0003",
            status=Payment.Status.COMPLETED,
            gateway="bank_transfer",
            created_by=self.reseller,
        )
        Invoice.objects.filter(pk=paid.pk).update(
            credit=applied, status=Invoice.Status.PAID, datepaid=self.days(-9)
        )
        issue(
            self.ada,
            [
                ("ID protection ada-bakery.com (1 year)", Decimal("3.00"), Decimal("1"), True),
                ("Setup help (hours)", Decimal("12.50"), Decimal("1.5"), False),
            ],
            days_ago=1,
        )
        issue(
            self.sandy,
            [("Domain registration sandy-test.com (1 year)", Decimal("9.99"), Decimal("1"), True)],
            days_ago=0,
        )

    # --- support -------------------------------------------------------------------------------
    def support(self) -> None:
        technical = self.ensure(
            Department,
            organisation=None,
            name="Technical support",
            defaults={"email": "support@nameport.example.com", "position": 1},
        )
        billing = self.ensure(
            Department,
            organisation=None,
            name="Billing",
            defaults={"email": "billing@nameport.example.com", "position": 2},
        )
        self.ensure(
            Department,
            organisation=None,
            name="Registry operations",
            defaults={"email": "ops@nameport.example.com", "position": 3, "is_public": False},
        )
        self.ensure(
            Department,
            organisation=self.demo,
            name="Sales",
            defaults={"email": "sales@demo-reseller.example.com", "position": 1},
        )
        # Every organisation's default department (made with the organisation): its customers'
        # tickets land there and its support team answers them.
        demo_desk = self.ensure(
            Department,
            organisation=self.demo,
            name=DEFAULT_DEPARTMENT,
            defaults={"email": "support@demo-reseller.example.com", "position": 0},
        )
        self.ensure(
            Department, organisation=self.other, name=DEFAULT_DEPARTMENT, defaults={"position": 0}
        )
        self.ensure(
            CannedReply,
            organisation=self.demo,
            title="Nameserver change takes time",
            defaults={
                "body": "The change is made at the registry; resolvers may show the old "
                "nameservers for up to 24 hours while their caches expire.",
                "position": 1,
            },
        )
        self.ensure(
            CannedReply,
            organisation=self.demo,
            title="We are on it",
            defaults={
                "body": "Thank you for writing. We are looking into it and will answer here.",
                "position": 2,
            },
        )
        self.ensure(
            CannedReply,
            organisation=None,
            title="Registry accepted the change",
            defaults={"body": "The registry has accepted the change.", "position": 1},
        )
        ada_user = self.ada.user
        staff_name = "Sam Staff"
        self.ticket(
            "700001",
            customer=self.ada,
            department=technical,
            subject="Nameservers for ada-bakery.com do not update",
            status=Ticket.Status.ANSWERED,
            domain=self.ada_bakery,
            created_by=ada_user,
            first_response_at=self.days(-3),
            messages=[
                (
                    ada_user,
                    "Ada Okafor",
                    "I changed the nameservers yesterday; whois still shows the old ones.",
                    False,
                    False,
                ),
                (self.staff, staff_name, "Registry confirmed the update at 10:02 UTC.", True, True),
                (
                    self.staff,
                    staff_name,
                    "The registry has accepted the change; whois caches can "
                    "take up to 24 hours to show it.",
                    True,
                    False,
                ),
            ],
        )
        self.ticket(
            "700002",
            customer=self.ada,
            department=billing,
            subject="Question about invoice D-0002",
            status=Ticket.Status.CUSTOMER_REPLY,
            invoice=self.unpaid_invoice,
            created_by=ada_user,
            first_response_at=self.days(-1),
            messages=[
                (ada_user, "Ada Okafor", "Can I pay D-0002 with my account credit?", False, False),
                (
                    self.staff,
                    staff_name,
                    "Yes: 10.00 USD of credit is already applied.",
                    True,
                    False,
                ),
                (ada_user, "Ada Okafor", "Thanks, I will pay the rest by card.", False, False),
            ],
        )
        self.ticket(
            "700003",
            customer=self.bola,
            department=technical,
            subject="Transfer of bola-transfer.com",
            status=Ticket.Status.CLOSED,
            priority=Ticket.Priority.LOW,
            domain=self.transfer_domain,
            closed_at=self.days(-2),
            messages=[
                (None, "Bola Adeyemi", "How long does the transfer take?", False, False),
                (
                    self.staff,
                    staff_name,
                    "Up to five days; the losing registrar may approve it sooner.",
                    True,
                    False,
                ),
            ],
        )
        self.ticket(
            "700004",
            customer=self.ada,
            department=technical,
            subject="Registration of ada-cakes.io failed",
            status=Ticket.Status.OPEN,
            priority=Ticket.Priority.HIGH,
            domain=self.pending,
            operation=self.failed_operation,
            is_system=True,
            # The registry's words are for staff; Ada reads ticket 700006, written for her.
            staff_only=True,
            messages=[
                (
                    None,
                    "Nameport",
                    "The registry refused the registration of ada-cakes.io: "
                    "2306 Parameter value policy error. Staff must fix the registrant data and "
                    "retry the operation.",
                    True,
                    True,
                ),
            ],
        )
        self.ticket(
            "700006",
            customer=self.ada,
            department=technical,
            subject="The registration of ada-cakes.io did not go through yet",
            status=Ticket.Status.OPEN,
            priority=Ticket.Priority.HIGH,
            domain=self.pending,
            operation=self.failed_operation,
            is_system=True,
            messages=[
                (
                    None,
                    "Nameport",
                    "The registry did not accept the registration of ada-cakes.io, so the change "
                    "has not been made yet. Our team has been told and is looking into it; there "
                    "is nothing you need to do now. We will write here when it is done, or if we "
                    "need anything from you.",
                    True,
                    False,
                ),
            ],
        )
        self.ticket(
            "700005",
            customer=self.carla,
            department=technical,
            subject="DNSSEC for magi.ee",
            status=Ticket.Status.OPEN,
            domain=self.magi,
            messages=[
                (
                    None,
                    "Carla Mägi",
                    "Is the DS record published at the .ee registry?",
                    False,
                    False,
                ),
            ],
        )

        # A customer's ticket in its reseller's department, answered by the reseller's support
        # member, who escalated it to the platform's staff (waiting for their answer).
        sade = User.objects.get(email="support@demo-reseller.example.com")
        self.ticket(
            "700007",
            customer=self.ada,
            department=demo_desk,
            subject="E-mail stopped after the DNS change",
            status=Ticket.Status.ANSWERED,
            domain=self.ada_bakery,
            created_by=ada_user,
            assignee=sade,
            first_response_at=self.days(-1),
            escalated_at=self.days(0),
            escalated_by=sade,
            messages=[
                (ada_user, "Ada Okafor", "Since yesterday no e-mail reaches us.", False, False),
                (
                    sade,
                    "Sade Ojo",
                    "We are looking into it: the MX records look right to us.",
                    True,
                    False,
                ),
                (
                    sade,
                    "Sade Ojo",
                    "Escalated to Nameport: the MX records are in the zone but the platform's "
                    "nameservers do not serve them.",
                    True,
                    True,
                ),
            ],
        )

    def ticket(self, number: str, *, customer: Customer, messages: list[tuple], **fields) -> Ticket:
        ticket = self.ensure(
            Ticket,
            ticket_number=number,
            defaults={
                "organisation": customer.organisation,
                "customer": customer,
                "last_reply_at": self.now,
                **fields,
            },
        )
        # A ticket answered or closed days ago was opened before that (created_at is set on
        # insert): move its opening back so response and resolution times make sense.
        moments = [m for m in (fields.get("first_response_at"), fields.get("closed_at")) if m]
        if moments and ticket.created_at > min(moments):
            opened = min(moments) - timedelta(hours=6)
            Ticket.objects.filter(pk=ticket.pk).update(created_at=opened)
            ticket.created_at = opened
        for author, author_name, body, is_staff, is_internal in messages:
            self.ensure(
                Message,
                ticket=ticket,
                body=body,
                defaults={
                    "author": author,
                    "author_name": author_name,
                    "author_email": author.email if author else "",
                    "is_staff": is_staff,
                    "is_internal": is_internal,
                },
            )
        return ticket


class Command(BaseCommand):
    help = (
        "Load the demo data (two resellers, customers, domains in every state, zones, invoices, "
        "tickets) and the demo logins. Safe to run again: it only adds what is missing."
    )

    def handle(self, *args, **options) -> None:
        seeder = Seeder()
        with transaction.atomic():
            seeder.run()
        if seeder.created:
            self.stdout.write(self.style.SUCCESS(f"Demo data loaded ({seeder.created} rows)."))
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        self.stdout.write(f'Demo logins (password "{DEMO_PASSWORD}"):')
        width = max(len(email) for email, _ in LOGINS)
        for email, role in LOGINS:
            self.stdout.write(f"  {email:<{width}}  {role}")
        self.stdout.write("Demo API keys of Demo Reseller (header access-token; see /api/docs/):")
        for livemode, raw_key in DEMO_API_KEYS.items():
            self.stdout.write(f"  {'live' if livemode else 'sandbox':<7}  {raw_key}")
