"""DNS zones hosted by Nameport, their records and DNSSEC keys."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from customers.models import Customer, Organisation
from domains.models import Domain


class Zone(models.Model):
    class Backend(models.TextChoices):
        DATABASE = "database", "Database (zone files on demand)"
        POWERDNS = "powerdns", "PowerDNS"

    class PushStatus(models.TextChoices):
        PUBLISHED = "published", "Published"
        PENDING = "pending", "Not yet published"
        FAILED = "failed", "Publishing failed"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="zones")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="zones")
    domain = models.ForeignKey(
        Domain, null=True, blank=True, on_delete=models.SET_NULL, related_name="zones"
    )
    livemode = models.BooleanField(default=True)
    name = models.CharField(max_length=253, help_text="ASCII zone name without the final dot")
    serial = models.PositiveBigIntegerField(default=1970010100)
    default_ttl = models.PositiveIntegerField(
        default=3600, validators=[MinValueValidator(60), MaxValueValidator(604800)]
    )
    backend = models.CharField(max_length=10, choices=Backend.choices, default=Backend.DATABASE)
    push_status = models.CharField(
        max_length=10, choices=PushStatus.choices, default=PushStatus.PUBLISHED
    )
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "livemode"], name="zone_name_unique"),
            models.CheckConstraint(
                condition=Q(backend__in=["database", "powerdns"]), name="zone_backend_valid"
            ),
        ]
        indexes = [models.Index(fields=["organisation", "livemode", "name"])]

    def __str__(self) -> str:
        return self.name


class Record(models.Model):
    class Type(models.TextChoices):
        A = "A"
        AAAA = "AAAA"
        CNAME = "CNAME"
        MX = "MX"
        TXT = "TXT"
        SRV = "SRV"
        NS = "NS"
        CAA = "CAA"
        PTR = "PTR"
        DS = "DS"
        URL = "URL", "URL (HTTP redirect)"
        FRAME = "FRAME", "FRAME (framed forward)"
        MXE = "MXE", "MXE (mail exchanger by IP)"

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="records")
    name = models.CharField(
        max_length=253, default="@", help_text="Relative to the zone; @ is the apex"
    )
    type = models.CharField(max_length=6, choices=Type.choices)
    ttl = models.PositiveIntegerField(
        default=3600, validators=[MinValueValidator(60), MaxValueValidator(604800)]
    )
    priority = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(65535)]
    )
    content = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["zone", "name", "type", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    type__in=[
                        "A",
                        "AAAA",
                        "CNAME",
                        "MX",
                        "TXT",
                        "SRV",
                        "NS",
                        "CAA",
                        "PTR",
                        "DS",
                        "URL",
                        "FRAME",
                        "MXE",
                    ]
                ),
                name="record_type_valid",
            )
        ]
        indexes = [models.Index(fields=["zone", "name", "type"])]

    def __str__(self) -> str:
        return f"{self.name} {self.ttl} {self.type} {self.content}"


class DnssecKey(models.Model):
    class Flags(models.IntegerChoices):
        ZSK = 256, "256 (ZSK)"
        KSK = 257, "257 (KSK)"

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="dnssec_keys")
    flags = models.PositiveIntegerField(choices=Flags.choices, default=Flags.KSK)
    protocol = models.PositiveSmallIntegerField(default=3)
    algorithm = models.PositiveSmallIntegerField(default=13)
    public_key = models.TextField()
    key_tag = models.PositiveIntegerField(validators=[MaxValueValidator(65535)])
    digest_type = models.PositiveSmallIntegerField(default=2)
    digest = models.CharField(max_length=128, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["zone", "-flags", "key_tag"]
        verbose_name = "DNSSEC key"

    def __str__(self) -> str:
        return f"{self.zone} key {self.key_tag} ({self.flags})"
