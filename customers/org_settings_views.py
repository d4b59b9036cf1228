"""The organisation's settings page (/settings/): reseller members only (everyone else 404).
Every role reads it; owner and admin change it (RoleMiddleware refuses the others before the
view, and the service again)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from customers.account_views import form_errors
from customers.branding import brand_of
from customers.org_settings import organisation_update_settings
from customers.org_settings_forms import OrganisationSettingsForm
from customers.roles import Right, may, refusal
from portal.tenancy import ActorKind

FIELD_GROUPS = [
    ("Organisation", ["name", "default_currency", "support_email"], ""),
    (
        "On invoices",
        ["legal_name", "address", "tax_number", "invoice_email"],
        "What your customers' invoices show as the seller.",
    ),
    ("Domains", ["default_nameservers"], ""),
    ("Renewals", ["renewal_invoice_days", "reminder_days"], ""),
    (
        "Brand",
        ["portal_name", "accent_colour", "logo", "remove_logo"],
        "Your customers and their contacts see this brand on their pages and in the e-mails "
        "they get; your team keeps seeing Nameport.",
    ),
]


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    if actor.kind != ActorKind.RESELLER:
        raise Http404
    organisation = actor.organisation
    status = 200
    if request.method == "POST":
        form = OrganisationSettingsForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                organisation, changed = organisation_update_settings(
                    actor=actor,
                    organisation=organisation,
                    values=form.values(),
                    logo=form.cleaned_data.get("logo"),
                    remove_logo=form.cleaned_data.get("remove_logo", False),
                )
            except ValidationError as error:
                form_errors(form, error)
            else:
                messages.success(
                    request, "Settings saved." if changed else "Nothing changed in the settings."
                )
                return redirect("org_settings:page")
        status = 400
    else:
        form = OrganisationSettingsForm(initial=OrganisationSettingsForm.initial_for(organisation))
    can_change = may(actor, Right.SETTINGS)
    groups = [(title, [form[name] for name in names], note) for title, names, note in FIELD_GROUPS]
    return render(
        request,
        "customers/settings.html",
        {
            "form": form,
            "groups": groups,
            "organisation": organisation,
            "preview": brand_of(organisation),
            "can_change": can_change,
            "read_only_reason": "" if can_change else refusal(actor, Right.SETTINGS),
        },
        status=status,
    )
