"""Forwarding (web and e-mail), DNSSEC keys and zone templates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from dns import services
from dns.forms import (
    DnssecKeyForm,
    EmailForwardForm,
    ForwardingForm,
    ZoneTemplateForm,
    add_service_errors,
)
from dns.models import ZoneTemplate
from dns.selectors import (
    editable_templates,
    visible_dnssec_keys,
    visible_email_forwards,
    visible_templates,
)
from dns.views._common import can_edit_templates, go, zone_for, zone_tabs
from portal.tenancy import ActorKind

# --- forwarding -----------------------------------------------------------------------------------


def _forwarding_page(request, zone, *, forwarding_form=None, email_form=None, status=200):
    context = zone_tabs(request, zone, "forwarding")
    context.update(
        {
            "forwards": zone.records.filter(type__in=["URL", "FRAME"]).order_by("name"),
            "email_forwards": visible_email_forwards(request.actor).filter(zone=zone),
            "forwarding_form": forwarding_form or ForwardingForm(initial={"name": "@"}),
            "email_form": email_form or EmailForwardForm(),
        }
    )
    return render(request, "dns/zone_forwarding.html", context, status=status)


@login_required
def zone_forwarding(request: HttpRequest, pk: int) -> HttpResponse:
    """Web forwarding (seed 003 ``PUT /domain/@id/forwarding``) as URL/FRAME records, and e-mail
    forwarding rules (``emforwarding``), stored and listed."""
    zone = zone_for(request, pk)
    if request.method != "POST":
        return _forwarding_page(request, zone)
    if not zone_tabs(request, zone, "")["can_edit"]:
        raise PermissionDenied("You may not change this zone's DNS.")
    form = ForwardingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "clear":
                removed = services.forwarding_clear(
                    actor=request.actor, zone=zone, name=data["name"] or "@"
                )
                messages.success(request, "Forwarding removed." if removed else "Nothing to do.")
            else:
                record = services.forwarding_set(
                    actor=request.actor,
                    zone=zone,
                    name=data["name"] or "@",
                    kind=data["kind"],
                    target=data["target"],
                )
                messages.success(request, f"{record.name} now forwards to {record.content}.")
        except ValidationError as exc:
            add_service_errors(form, exc, rename={"content": "target", "type": "kind"})
        else:
            return go(request, reverse("dns:zone_forwarding", args=[zone.pk]))
    return _forwarding_page(request, zone, forwarding_form=form, status=422)


@login_required
@require_POST
def email_forward_add(request: HttpRequest, pk: int) -> HttpResponse:
    zone = zone_for(request, pk)
    form = EmailForwardForm(request.POST)
    if form.is_valid():
        try:
            services.email_forward_add(actor=request.actor, zone=zone, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "E-mail forwarding saved.")
            return go(request, reverse("dns:zone_forwarding", args=[zone.pk]))
    return _forwarding_page(request, zone, email_form=form, status=422)


@login_required
@require_POST
def email_forward_delete(request: HttpRequest, pk: int, forward_pk: int) -> HttpResponse:
    zone = zone_for(request, pk)
    forward = get_object_or_404(
        visible_email_forwards(request.actor).filter(zone=zone), pk=forward_pk
    )
    services.email_forward_delete(actor=request.actor, forward=forward)
    messages.success(request, "E-mail forwarding removed.")
    return go(request, reverse("dns:zone_forwarding", args=[zone.pk]))


# --- DNSSEC ---------------------------------------------------------------------------------------


@login_required
def zone_dnssec(request: HttpRequest, pk: int) -> HttpResponse:
    zone = zone_for(request, pk)
    context = zone_tabs(request, zone, "dnssec")
    form = DnssecKeyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not context["can_edit"]:
            raise PermissionDenied("You may not change this zone's DNS.")
        if form.is_valid():
            try:
                key = services.dnssec_key_add(actor=request.actor, zone=zone, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Key {key.key_tag} added.")
                return go(request, reverse("dns:zone_dnssec", args=[zone.pk]))
        status = 422
    context["keys"] = visible_dnssec_keys(request.actor).filter(zone=zone)
    context["form"] = form
    context["flags"] = services.DNSSEC_FLAGS
    return render(request, "dns/zone_dnssec.html", context, status=status)


@login_required
@require_POST
def dnssec_key_delete(request: HttpRequest, pk: int, key_pk: int) -> HttpResponse:
    zone = zone_for(request, pk)
    key = get_object_or_404(visible_dnssec_keys(request.actor).filter(zone=zone), pk=key_pk)
    services.dnssec_key_delete(actor=request.actor, key=key)
    messages.success(request, f"Key {key.key_tag} removed.")
    return go(request, reverse("dns:zone_dnssec", args=[zone.pk]))


# --- zone templates (staff and resellers) ---------------------------------------------------------


def _templates_allowed(request: HttpRequest) -> None:
    if not can_edit_templates(request):
        raise Http404


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    _templates_allowed(request)
    templates = visible_templates(request.actor).order_by("organisation_id", "name")
    editable = set(editable_templates(request.actor).values_list("pk", flat=True))
    context = {
        "templates": templates,
        "editable": editable,
        "default_body": services.template_body(None),
    }
    return render(request, "dns/template_list.html", context)


def _template_form(request, template: ZoneTemplate | None) -> HttpResponse:
    actor = request.actor
    choose_mode = template is None and actor.kind == ActorKind.STAFF
    form = ZoneTemplateForm(request.POST or None, instance=template, choose_mode=choose_mode)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            organisation = None
            if template is None and actor.kind != ActorKind.STAFF:
                organisation = actor.organisation
            try:
                saved = services.template_save(
                    actor=actor,
                    template=template,
                    organisation=organisation,
                    name=data["name"],
                    body=data["body"],
                    is_default=data["is_default"],
                    livemode=data.get("livemode") if choose_mode else None,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"Template {saved.name} saved.")
                return go(request, reverse("dns:template_list"))
        status = 422
    return render(
        request, "dns/template_form.html", {"form": form, "template": template}, status=status
    )


@login_required
def template_create(request: HttpRequest) -> HttpResponse:
    _templates_allowed(request)
    return _template_form(request, None)


@login_required
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _templates_allowed(request)
    template = get_object_or_404(editable_templates(request.actor), pk=pk)
    return _template_form(request, template)


@login_required
@require_POST
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _templates_allowed(request)
    template = get_object_or_404(editable_templates(request.actor), pk=pk)
    services.template_delete(actor=request.actor, template=template)
    messages.success(request, f"Template {template.name} deleted.")
    return go(request, reverse("dns:template_list"))
