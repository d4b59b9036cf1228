"""A reseller's brand: what its customers and contacts see instead of "Nameport".

Who sees which brand (:func:`brand_for_request`):
- a customer or contact (also staff or a reseller signed in as one): its organisation's brand;
- nobody signed in yet, on a host name staff mapped to an organisation
  (``Organisation.custom_host``, resolved by :class:`CustomHostMiddleware`): that organisation's;
- staff and reseller members, and everyone on the portal's own host names: Nameport's.

E-mails to customers (invoices, reminders, ticket mail) take the sender name and the portal
name of the customer's organisation from :func:`brand_of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest
from django.http.request import split_domain_port
from django.utils.functional import SimpleLazyObject

from customers.models import HOST_PATTERN, Organisation
from portal.tenancy import ActorKind

PLATFORM_NAME = "Nameport"
# Logos: raster images only (an SVG can carry script), at most NAMEPORT_LOGO_MAX_BYTES.
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
LOGO_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WEBP"}
LOGO_MAX_PIXELS = 4096


def logo_max_bytes() -> int:
    return int(settings.NAMEPORT_LOGO_MAX_BYTES)


@dataclass(frozen=True)
class Brand:
    name: str = PLATFORM_NAME
    accent: str = ""
    logo_version: str = ""  # empty: no logo
    organisation_id: int | None = None

    @property
    def is_platform(self) -> bool:
        return self.organisation_id is None


NAMEPORT = Brand()


def brand_of(organisation: Organisation | None) -> Brand:
    """The brand ``organisation`` set on its settings page (Nameport's for what it left empty)."""
    if organisation is None:
        return NAMEPORT
    if not (organisation.portal_name or organisation.accent_colour or organisation.logo):
        return NAMEPORT
    return Brand(
        name=organisation.portal_name or PLATFORM_NAME,
        accent=organisation.accent_colour,
        logo_version=Path(organisation.logo.name).stem if organisation.logo else "",
        organisation_id=organisation.pk,
    )


def brand_organisation(request: HttpRequest) -> Organisation | None:
    """Whose brand this request shows (see the module's docstring)."""
    actor = getattr(request, "actor", None)
    if actor is not None and actor.is_authenticated:
        if actor.kind in {ActorKind.CUSTOMER, ActorKind.CONTACT}:
            return actor.organisation
        return None
    return getattr(request, "host_organisation", None)


def brand_for_request(request: HttpRequest) -> Brand:
    return brand_of(brand_organisation(request))


def brand(request):
    """Template context: ``brand`` (name, accent, logo) of this request's page shell."""
    return {"brand": SimpleLazyObject(lambda: brand_for_request(request))}


# --- e-mail ----------------------------------------------------------------------------------


def branded_sender(organisation: Organisation | None, default: str) -> str:
    """``default`` (e.g. DEFAULT_FROM_EMAIL) under the organisation's portal name."""
    _name, address = parseaddr(default)
    shown = brand_of(organisation)
    if shown.is_platform:
        return default
    return formataddr((shown.name, address))


def site_url_for(organisation: Organisation | None) -> str:
    """The portal's address as the organisation's customers know it (its own host name when
    staff mapped one), without a trailing slash."""
    site = settings.SITE_URL.rstrip("/")
    if organisation is not None and organisation.custom_host:
        scheme = urlsplit(site).scheme or "https"
        return f"{scheme}://{organisation.custom_host}"
    return site


# --- logos -----------------------------------------------------------------------------------


def validate_logo(upload) -> str:
    """Check an uploaded logo: a PNG, JPEG, GIF or WebP image (read by Pillow, not trusted from
    its name or content type) of at most ``logo_max_bytes()``. Returns Pillow's format name."""
    from PIL import Image, UnidentifiedImageError

    limit = logo_max_bytes()
    if upload.size > limit:
        raise ValidationError(
            f"The logo is too large ({upload.size // 1024} KB): at most {limit // 1024} KB."
        )
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            width, height = image.size
            image.verify()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
    ) as error:
        raise ValidationError("The logo must be a PNG, JPEG, GIF or WebP image.") from error
    finally:
        upload.seek(0)
    if image_format not in LOGO_FORMATS:
        raise ValidationError("The logo must be a PNG, JPEG, GIF or WebP image.")
    if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
        raise ValidationError(f"The logo is too big: at most {LOGO_MAX_PIXELS} pixels a side.")
    return image_format


def logo(request: HttpRequest):
    """GET /brand/logo/: the logo of the brand this request shows, or a member's own
    organisation's (no object id: nobody can ask for another organisation's logo)."""
    organisation = brand_organisation(request)
    actor = getattr(request, "actor", None)
    if organisation is None and actor is not None and actor.kind == ActorKind.RESELLER:
        organisation = actor.organisation  # its own logo, for the settings page's preview
    if organisation is None or not organisation.logo:
        raise Http404
    kind = LOGO_SUFFIXES.get(Path(organisation.logo.name).suffix.lower())
    if kind is None:
        raise Http404
    try:
        handle = organisation.logo.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type=LOGO_FORMATS[kind])
    response["Cache-Control"] = "private, max-age=86400"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


# --- custom host names -----------------------------------------------------------------------


def _portal_hosts() -> set[str]:
    """The portal's own names (exactly these: a subdomain pattern may still be mapped)."""
    hosts = {"localhost", "testserver", "127.0.0.1", urlsplit(settings.SITE_URL).hostname or ""}
    hosts.update(h.lower() for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith("."))
    return hosts


def organisation_for_host(host: str) -> Organisation | None:
    host = (host or "").strip().lower().rstrip(".")
    if not host or not HOST_PATTERN.match(host):
        return None
    return Organisation.objects.filter(custom_host=host, is_active=True).first()


class CustomHostMiddleware:
    """A request to a host name staff mapped to an organisation: ``request.host_organisation``
    is that organisation (None otherwise), and the host is accepted although ALLOWED_HOSTS does
    not list it (the mapping is the list: ``request.get_host()`` answers it for this request
    only, so CSRF's origin check and absolute URLs use it). Any other unknown host still fails
    Django's host validation. Runs before anything that reads the host."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.portal_hosts: set[str] | None = None

    def __call__(self, request):
        request.host_organisation = None
        if self.portal_hosts is None:
            self.portal_hosts = _portal_hosts()
        raw = request._get_raw_host()
        domain, _port = split_domain_port(raw)
        if domain and domain not in self.portal_hosts:
            organisation = organisation_for_host(domain)
            if organisation is not None:
                request.host_organisation = organisation
                request.get_host = lambda: raw
        return self.get_response(request)
