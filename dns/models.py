"""DNS zones hosted by Nameport, their records and DNSSEC keys."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

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
    # A disabled zone is served nowhere (no forwarding, no push) and is read only; it is kept
    # for audit when the name went to another customer (see dns.services.zone_disable).
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            # One served zone per name and mode; disabled ones are kept beside it for audit.
            models.UniqueConstraint(
                fields=["name", "livemode"],
                condition=Q(enabled=True),
                name="zone_name_unique_while_enabled",
                violation_error_message="A zone for this name exists already.",
            ),
            models.CheckConstraint(
                condition=Q(backend__in=["database", "powerdns"]), name="zone_backend_valid"
            ),
            # Sandbox zones live in the database only (PowerDNS has one namespace for both modes).
            models.CheckConstraint(
                condition=Q(livemode=True) | Q(backend="database"),
                name="zone_sandbox_in_database",
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
        ordering = ["zone_id", "name", "type", "id"]
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
        ordering = ["zone_id", "-flags", "key_tag"]
        verbose_name = "DNSSEC key"

    def __str__(self) -> str:
        return f"{self.zone} key {self.key_tag} ({self.flags})"


class ZoneTemplate(models.Model):
    """The records a new zone starts with, as zone-file lines relative to the zone (``@``).

    A template without an organisation is the platform's (staff edit it); a reseller's own
    default template wins over the platform's for its customers' zones. Templates belong to a
    mode: sandbox ones are made and used by sandbox zones only, so testing never changes what a
    live zone gets.
    """

    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="zone_templates",
        help_text="Empty: a platform template (staff only)",
    )
    livemode = models.BooleanField(
        default=True, help_text="Used for live zones; unticked: for sandbox zones only"
    )
    name = models.CharField(max_length=100)
    body = models.TextField(
        help_text="Zone-file lines relative to the zone, e.g. “www 3600 IN CNAME @”"
    )
    is_default = models.BooleanField(
        default=False, help_text="Used for new zones (one default per organisation and mode)"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation_id", "-livemode", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "livemode", "name"], name="zone_template_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ZoneChange(models.Model):
    """One change of a zone: who, when, the serial it produced and the records before and after
    (only the records that changed), so that any earlier state can be rebuilt."""

    class Action(models.TextChoices):
        CREATE = "zone.create", "Zone created"
        RECORD_CREATE = "record.create", "Record added"
        RECORD_UPDATE = "record.update", "Record changed"
        RECORD_DELETE = "record.delete", "Record deleted"
        IMPORT = "zone.import", "Zone file imported"
        ROLLBACK = "zone.rollback", "Rolled back"
        FORWARDING = "zone.forwarding", "Forwarding changed"
        DISABLE = "zone.disable", "Zone disabled"

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="changes")
    serial = models.PositiveBigIntegerField()
    action = models.CharField(max_length=20, choices=Action.choices)
    summary = models.CharField(max_length=300, blank=True)
    before = models.JSONField(default=list, blank=True)
    after = models.JSONField(default=list, blank=True)
    actor = models.CharField(max_length=200, blank=True)
    user = models.ForeignKey(
        "customers.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["zone_id", "-id"]
        indexes = [models.Index(fields=["zone", "-id"], name="zone_change_recent")]

    def __str__(self) -> str:
        return f"{self.zone} {self.serial} {self.action}"


class ZonePush(models.Model):
    """The outbox of the DNS backend: one row per change to publish, run by a Celery worker
    with the same claim/backoff/sweep rules as registry operations (see dns/outbox.py)."""

    class Kind(models.TextChoices):
        CREATE = "create", "Create zone"
        UPDATE = "update", "Update records"
        SYNC = "sync", "Publish whole zone"
        DELETE = "delete", "Delete zone"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    zone = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.SET_NULL, related_name="pushes"
    )
    zone_name = models.CharField(max_length=253)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    backend = models.CharField(max_length=10, choices=Zone.Backend.choices)
    # The zone's mode, kept on the row (a delete push outlives its zone): a sandbox push never
    # reaches a real backend.
    livemode = models.BooleanField(default=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    rrsets = models.JSONField(default=list, blank=True, help_text="[owner, type] pairs to send")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=8)
    # When a worker may take it next ("due"); always set, so the due rows are an index range.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "running", "succeeded", "failed"]),
                name="zone_push_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["create", "update", "sync", "delete"]),
                name="zone_push_kind_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="zone_push_due"),
            models.Index(fields=["zone_name", "status"], name="zone_push_zone"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.zone_name} ({self.status})"


class EmailForward(models.Model):
    """Mail for ``source@zone`` goes to ``destination`` (seed 003 ``emforwarding``). Stored and
    listed; delivery is not active yet."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="email_forwards")
    source = models.CharField(max_length=64, help_text="The part before @; * catches all")
    destination = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["zone_id", "source", "destination"]
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "source", "destination"], name="email_forward_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}@{self.zone} -> {self.destination}"
