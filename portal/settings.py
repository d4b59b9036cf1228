"""Nameport settings: one file, driven by the environment (see README "Configuration")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_list, env_rate, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("NAMEPORT_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and not env_bool("NAMEPORT_INSECURE_DEV_KEY", False):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set: set SECRET_KEY (or SECRET_KEY_FILE), or DEBUG=1 to develop."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if not DEBUG else "*")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
HOST = env_str("HOST", "127.0.0.1")
PORT = env_int("PORT", 8000)
SITE_URL = env_str("SITE_URL", f"http://{HOST}:{PORT}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "portal",
    "customers",
    "domains",
    "dns",
    "billing",
    "support",
]

MIDDLEWARE = [
    # First: a host name staff mapped to an organisation is the portal (customers.branding),
    # accepted although ALLOWED_HOSTS does not list it; then forwarded domains (URL/FRAME
    # records) are answered before host validation.
    "customers.branding.CustomHostMiddleware",
    "dns.middleware.ForwardingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.ActorMiddleware",
    "portal.audit_middleware.AuditOriginMiddleware",
    "customers.middleware.SecondFactorMiddleware",
    "customers.middleware.SessionTrackingMiddleware",
    "customers.middleware.RoleMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
                "customers.branding.brand",
                "customers.middleware.role_rights",
            ],
        },
    }
]

# Database: SQLite file by default, anything dj-database-url reads when DATABASE_URL is set.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'nameport.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        # A round trip before a kept or pooled connection is used again.
        conn_health_checks=env_bool("DB_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_POOL", True):
    # psycopg's connection pool: a closed connection goes back to the pool instead of ending a
    # PostgreSQL backend. Celery closes connections after every task and the web closes them
    # after every request, so without a pool each would open a new backend (a fork) every time.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DB_POOL_MIN", 1),
        "max_size": env_int("DB_POOL_MAX", 40),
        "timeout": env_int("DB_POOL_TIMEOUT", 30),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "customers.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# The client's address (lock-outs, throttles): the peer's address, unless BEHIND_PROXY says every
# request comes through a reverse proxy; then only the proxy's header is read, right-most hop
# first, skipping the NAMEPORT_TRUSTED_PROXIES (addresses or networks of further proxies).
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
NAMEPORT_TRUSTED_PROXY_HEADER = env_str("NAMEPORT_TRUSTED_PROXY_HEADER", "X-Forwarded-For")
NAMEPORT_TRUSTED_PROXIES = env_list("NAMEPORT_TRUSTED_PROXIES", "")

# Lock-out after repeated failed sign-ins (django-axes, portal.auth.SignInLockoutHandler): an
# account after AXES_FAILURE_LIMIT failures from any addresses, an address after
# NAMEPORT_SIGNIN_ADDRESS_LIMIT failures over any accounts, each for the cool-off. A password
# reset by e-mail ends the account's lock-out.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
NAMEPORT_SIGNIN_ADDRESS_LIMIT = env_int("NAMEPORT_SIGNIN_ADDRESS_LIMIT", 20)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_HANDLER = "portal.auth.SignInLockoutHandler"
AXES_CLIENT_IP_CALLABLE = "portal.auth.client_ip"
AXES_LOCKOUT_CALLABLE = "portal.auth.lockout_response"
# axes.W006 warns that "username" alone lets an attacker rotate addresses: the handler counts
# per address too (NAMEPORT_SIGNIN_ADDRESS_LIMIT), which axes' check cannot see.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "portal.auth.axes_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLED = env_bool("AXES_ENABLED", True)

# TOTP for staff: on unless NAMEPORT_STAFF_OTP_REQUIRED=0 (make run's demo turns it off). Staff
# without a verified device are sent to the OTP page before anything else; so is anyone who
# turned two-factor sign-in on, or whose organisation requires it (customers.middleware).
STAFF_OTP_REQUIRED = env_bool("NAMEPORT_STAFF_OTP_REQUIRED", True)
OTP_TOTP_ISSUER = "Nameport"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # attachments are served through views that check the actor
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# E-mail: console by default, anything else by EMAIL_URL
# (smtp://user:pass@host:587?tls=1, smtps://..., console://, locmem://, file:///path).
EMAIL_URL = env_str("EMAIL_URL", "console://")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Nameport <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL


def _email_settings(url: str) -> dict:
    parts = urlsplit(url)
    scheme = parts.scheme
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if scheme == "file":
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": parts.path,
        }
    if scheme in {"smtp", "smtps"}:
        query = parse_qs(parts.query)
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parts.hostname or "localhost",
            "EMAIL_PORT": parts.port or (465 if scheme == "smtps" else 25),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_SSL": scheme == "smtps",
            "EMAIL_USE_TLS": query.get("tls", ["0"])[0] in {"1", "true", "yes"},
            "EMAIL_TIMEOUT": 10,
        }
    raise ImproperlyConfigured(f"EMAIL_URL scheme {scheme!r} is not supported")


globals().update(_email_settings(EMAIL_URL))

# Security: safe defaults whenever DEBUG is off.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
    if BEHIND_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
)

# Secrets stored in the database (registrar credentials, EPP auth codes) are encrypted with keys
# derived from FIELD_ENCRYPTION_KEY (defaults to SECRET_KEY). Several keys, comma separated, allow
# rotation: the first encrypts, all decrypt.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEY", "") or [SECRET_KEY]

# Celery: the broker is a Redis server. Unset, CELERY_BROKER_URL is the embedded one that
# `make run` (portal/supervise.py) starts on a unix socket in the var directory; when nothing
# listens there, /healthz reports the broker down. The registrar rate budget
# (domains/ratelimit.py) lives in the same Redis.
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", f"redis+socket://{EMBEDDED_REDIS_SOCKET}")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# How often beat runs the outbox sweeps; how long a claimed registry operation is left to its
# worker before the sweep takes it back (a worker killed mid-call); how long a due row may stay
# pending before the sweep sends it again (its message was lost, e.g. prefetched by a worker
# that was killed).
NAMEPORT_OUTBOX_SWEEP_SECONDS = env_int("NAMEPORT_OUTBOX_SWEEP_SECONDS", 60)
NAMEPORT_OUTBOX_LEASE_SECONDS = env_int("NAMEPORT_OUTBOX_LEASE_SECONDS", 300)
NAMEPORT_OUTBOX_LOST_MESSAGE_SECONDS = env_int("NAMEPORT_OUTBOX_LOST_MESSAGE_SECONDS", 60)
# The EPP poll queues: how often beat reads every active EPP account's queue (one task per
# account, never two at once for one account: a Redis lock held at most NAMEPORT_POLL_LOCK_SECONDS)
# and how many messages one run reads at most. Transfers in progress: how often beat checks our
# pending transfers in (a transfer query, with backoff from this interval up to 6 hours) and
# answers transfer requests nobody answered, NAMEPORT_TRANSFER_DEFAULT_HOURS before the
# registry's window ends, with the TLD's default.
NAMEPORT_POLL_SECONDS = env_int("NAMEPORT_POLL_SECONDS", 300)
NAMEPORT_POLL_BATCH = env_int("NAMEPORT_POLL_BATCH", 200)
NAMEPORT_POLL_LOCK_SECONDS = env_int("NAMEPORT_POLL_LOCK_SECONDS", 240)
NAMEPORT_TRANSFER_FOLLOW_SECONDS = env_int("NAMEPORT_TRANSFER_FOLLOW_SECONDS", 300)
NAMEPORT_TRANSFER_DEFAULT_HOURS = env_int("NAMEPORT_TRANSFER_DEFAULT_HOURS", 12)
# billing.renewals: the renewal sweep runs every NAMEPORT_RENEWALS_SECONDS (daily), over the
# domains table in chunks of NAMEPORT_RENEWALS_CHUNK ids.
NAMEPORT_RENEWALS_SECONDS = env_int("NAMEPORT_RENEWALS_SECONDS", 86400)
NAMEPORT_RENEWALS_CHUNK = env_int("NAMEPORT_RENEWALS_CHUNK", 2000)
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "portal.tasks.heartbeat",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "registrar-operations-sweep": {
        "task": "domains.tasks.registrar_operations_sweep",
        "schedule": float(NAMEPORT_OUTBOX_SWEEP_SECONDS),
        "options": {"expires": NAMEPORT_OUTBOX_SWEEP_SECONDS * 5 / 6},
    },
    "domains-sync": {
        "task": "domains.tasks.domains_sync_schedule",
        "schedule": 600.0,
        "options": {"expires": 540},
    },
    "dns-pushes-sweep": {
        "task": "dns.tasks.dns_pushes_sweep",
        "schedule": float(NAMEPORT_OUTBOX_SWEEP_SECONDS),
        "options": {"expires": NAMEPORT_OUTBOX_SWEEP_SECONDS * 5 / 6},
    },
    "domains-lifecycle": {
        "task": "domains.tasks.domains_lifecycle_advance",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "registry-poll": {
        "task": "domains.tasks.registry_poll",
        "schedule": float(NAMEPORT_POLL_SECONDS),
        "options": {"expires": NAMEPORT_POLL_SECONDS * 5 / 6},
    },
    "registry-transfers": {
        "task": "domains.tasks.registry_transfers",
        "schedule": float(NAMEPORT_TRANSFER_FOLLOW_SECONDS),
        "options": {"expires": NAMEPORT_TRANSFER_FOLLOW_SECONDS * 5 / 6},
    },
    "billing-renewals": {
        "task": "billing.tasks.billing_renewals_sweep",
        "schedule": float(NAMEPORT_RENEWALS_SECONDS),
        "options": {"expires": NAMEPORT_RENEWALS_SECONDS * 5 / 6},
    },
}

# Django REST framework and the OpenAPI schema.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.PageNumberPagination",
    # JSON depth, lone surrogates, NUL and infinities are refused here for every write.
    "DEFAULT_PARSER_CLASSES": [
        "portal.api.parsers.JSONParser",
        "portal.api.parsers.FormParser",
        "portal.api.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's throttles, counting per address as portal.auth.client_ip reads it.
        "portal.auth.AnonRateThrottle",
        "portal.auth.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_THROTTLE_ANON", "60/min"),
        "user": env_rate("API_THROTTLE_USER", "6000/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Nameport API",
    "DESCRIPTION": "Native API of Nameport: customers, domains, DNS zones, invoices and tickets, "
    "scoped to the caller (API key in the `access-token` header, or a session). "
    "The compatibility APIs (Leanstack enterprise, registrant, RDAP) have their own documents: "
    "[all API documentation](/api/docs/).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # The native document lists the native API only; each compatibility API has its own.
    "PREPROCESSING_HOOKS": ["portal.api.schema.native_endpoints_only"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.schema.add_error_responses",  # 400/401/403/404 with the error body
    ],
    # Several models have a "status" with different choices; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "DomainStatusEnum": "domains.models.DomainStatus",
        "InvoiceStatusEnum": "billing.models.Invoice.Status",
        "TicketStatusEnum": "support.models.Ticket.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "portal.logging.RedactSecretsFilter"},
        # A refused request (403) is one warning line with its reason, never a traceback.
        "refusal": {"()": "portal.request_log.RefusalWithoutTraceback"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["refusal"]},
        "httpx": {"level": "WARNING"},
    },
}

# Nameport itself
NAMEPORT_DEFAULT_NAMESERVERS = env_list(
    "NAMEPORT_DEFAULT_NAMESERVERS", "ns1.nameport.test,ns2.nameport.test"
)
NAMEPORT_EXPIRY_WARNING_DAYS = env_int("NAMEPORT_EXPIRY_WARNING_DAYS", 30)
# The test payment gateway takes live invoices only with this on (make run's demo; never in
# production): billing.gateways.
NAMEPORT_TEST_GATEWAY_LIVE = env_bool("NAMEPORT_TEST_GATEWAY_LIVE", DEBUG)
# The currencies prices, accounts and invoices may be in (ISO 4217 codes).
NAMEPORT_CURRENCIES = tuple(
    code.strip().upper() for code in env_list("NAMEPORT_CURRENCIES", "USD,NGN,EUR,GBP")
)
# Registry calls a drain keeps in flight (calling threads; only the embedded sandbox adapter uses
# the database from them, so keep DB_POOL_MAX above it when that is the registry).
NAMEPORT_OUTBOX_THREADS = env_int("NAMEPORT_OUTBOX_THREADS", 32)
# Drain tasks the sweep sends for a backlog: one per worker process that should take part
# (claims never overlap, so they share the backlog).
NAMEPORT_OUTBOX_DRAINS = env_int("NAMEPORT_OUTBOX_DRAINS", 1)

# DNS hosting: where zones are published ("database": zone files on demand; "powerdns": the
# PowerDNS Authoritative HTTP API), and the addresses that answer for forwarded (URL/FRAME) names.
NAMEPORT_DNS_BACKEND = env_str("NAMEPORT_DNS_BACKEND", "database")
POWERDNS_API_URL = env_str("POWERDNS_API_URL", "http://127.0.0.1:8081")
POWERDNS_API_KEY = env_secret("POWERDNS_API_KEY")
POWERDNS_SERVER_ID = env_str("POWERDNS_SERVER_ID", "localhost")
POWERDNS_TIMEOUT_SECONDS = env_int("POWERDNS_TIMEOUT_SECONDS", 30)
NAMEPORT_FORWARDING_IPV4 = env_list("NAMEPORT_FORWARDING_IPV4", "127.0.0.1")
NAMEPORT_FORWARDING_IPV6 = env_list("NAMEPORT_FORWARDING_IPV6", "")
NAMEPORT_DNS_HOSTMASTER = env_str("NAMEPORT_DNS_HOSTMASTER", "hostmaster.nameport.test")

# RDAP (portal/compat/rdap/): who answers for the names Nameport sponsors. The registrar's name
# and IANA Registrar ID (empty: no publicIds), its abuse contact (an empty phone is left out), a
# contact-form URL that stands in for the redacted e-mail of a domain's contacts (empty: the
# e-mail is removed), the terms of use page (empty: this server's /rdap/help) and the rate per
# client address ("120/min"; empty: no limit).
NAMEPORT_RDAP_REGISTRAR_NAME = env_str("NAMEPORT_RDAP_REGISTRAR_NAME", "Nameport")
NAMEPORT_RDAP_IANA_ID = env_str("NAMEPORT_RDAP_IANA_ID", "")
NAMEPORT_RDAP_ABUSE_EMAIL = env_str("NAMEPORT_RDAP_ABUSE_EMAIL", "abuse@nameport.test")
NAMEPORT_RDAP_ABUSE_PHONE = env_str("NAMEPORT_RDAP_ABUSE_PHONE", "")
NAMEPORT_RDAP_CONTACT_FORM_URL = env_str("NAMEPORT_RDAP_CONTACT_FORM_URL", "")
NAMEPORT_RDAP_TERMS_URL = env_str("NAMEPORT_RDAP_TERMS_URL", "")
NAMEPORT_RDAP_THROTTLE = env_rate("NAMEPORT_RDAP_THROTTLE", "120/min", allow_empty=True)

# Support desk
NAMEPORT_SUPPORT_FROM_EMAIL = env_str(
    "NAMEPORT_SUPPORT_FROM_EMAIL", "Nameport Support <support@nameport.test>"
)
# A customer reply re-opens a closed ticket within this many days; later it starts a new one.
NAMEPORT_SUPPORT_REOPEN_DAYS = env_int("NAMEPORT_SUPPORT_REOPEN_DAYS", 7)
# Mail-in: the authserv-ids of OUR receiving mail server, whose Authentication-Results headers
# (RFC 8601) are believed; it must strip such headers arriving from outside. Empty: none is, and
# only a reply to a ticket's signed reply address is taken.
NAMEPORT_MAILIN_AUTHSERV_ID = env_list("NAMEPORT_MAILIN_AUTHSERV_ID", "")
NAMEPORT_ATTACHMENT_MAX_BYTES = env_int("NAMEPORT_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
# A reseller's logo (settings page): PNG, JPEG, GIF or WebP up to this size.
NAMEPORT_LOGO_MAX_BYTES = env_int("NAMEPORT_LOGO_MAX_BYTES", 512 * 1024)
NAMEPORT_ATTACHMENT_MAX_FILES = env_int("NAMEPORT_ATTACHMENT_MAX_FILES", 5)
NAMEPORT_ATTACHMENT_EXTENSIONS = env_list(
    "NAMEPORT_ATTACHMENT_EXTENSIONS", "png,jpg,jpeg,gif,webp,pdf,txt,log,csv,zip,eml"
)
