"""Pages of the customers app (staff and reseller members only; customers get 404), plus the
contact invitation page (anyone with a valid link) and the end of "sign in as this customer"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.http import require_POST

from billing.selectors import credit_balance, visible_invoices
from customers import accounts, contacts, impersonation
from customers.filtersets import CustomerFilterSet
from customers.forms import ContactForm, CustomerForm
from customers.models import Contact, Customer, User
from customers.selectors import visible_contacts, visible_customers, visible_organisations
from dns.selectors import visible_zones
from domains.selectors import visible_domains
from portal.forms import StyledSetPasswordForm
from portal.models import AuditEntry
from portal.tenancy import Actor, may_impersonate
from portal.views import list_context, render_htmx
from support.selectors import visible_tickets

SORT_COLUMNS = {
    "name": ("last_name", "first_name"),
    "email": ("email",),
    "company": ("company",),
    "domains": ("domain_count",),
    "created": ("created_at",),
}
ACTIVITY_ROWS = 25


def _require_reseller_or_staff(actor: Actor) -> None:
    if not (actor.is_staff or actor.is_reseller):
        raise Http404


def _form_errors(form, exc: ValidationError) -> None:
    """A service's ValidationError, shown on the form beside its field (or above the form)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _customer(request: HttpRequest, pk: int) -> Customer:
    _require_reseller_or_staff(request.actor)
    return get_object_or_404(visible_customers(request.actor), pk=pk)


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    _require_reseller_or_staff(actor)
    queryset = (
        visible_customers(actor)
        .annotate(domain_count=Count("domains", distinct=True))
        .order_by("-created_at", "-pk")
    )
    context = list_context(request, queryset, CustomerFilterSet, sort_columns=SORT_COLUMNS)
    context["can_add"] = accounts.can_manage_customers(actor)
    return render_htmx(
        request, "customers/customer_list.html", "customers/_customer_results.html", context
    )


@login_required
def customer_create(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    _require_reseller_or_staff(actor)
    organisations = visible_organisations(actor) if actor.is_staff else None
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organisation = actor.organisation
        if organisations is not None:
            organisation = organisations.filter(pk=request.POST.get("organisation") or 0).first()
        if organisation is None:
            form.add_error(None, "Choose the reseller the customer belongs to.")
        else:
            try:
                customer = accounts.customer_create(
                    actor=actor,
                    organisation=organisation,
                    livemode=actor.livemode is not False,
                    values=form.cleaned_data,
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, f"Customer {customer.name} added.")
                return redirect("customers:detail", pk=customer.pk)
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "organisations": organisations, "customer": None},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    form = CustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.customer_update(
                actor=request.actor, customer=customer, values=form.cleaned_data
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Customer details saved.")
            return redirect("customers:detail", pk=customer.pk)
    customer.refresh_from_db()
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "customer": customer},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def customer_archive(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    wanted = request.POST.get("archived")
    if wanted not in {"0", "1"}:
        return HttpResponseBadRequest("Say archived=1 to archive or archived=0 to unarchive.")
    if wanted == "0":
        accounts.customer_unarchive(actor=request.actor, customer=customer)
        messages.success(request, f"{customer.name} is active again and may order.")
    else:
        accounts.customer_archive(actor=request.actor, customer=customer)
        messages.success(
            request, f"{customer.name} is archived: its history stays, it places no new orders."
        )
    return redirect("customers:detail", pk=customer.pk)


def _activity(customer: Customer, domain_ids, zone_ids, invoice_ids, ticket_ids, contact_ids):
    about = (
        Q(object_type="customers.customer", object_id=str(customer.pk))
        | Q(data__customer=customer.pk)
        | Q(data__impersonating_customer=customer.pk)
    )
    for label, ids in (
        ("domains.domain", domain_ids),
        ("dns.zone", zone_ids),
        ("billing.invoice", invoice_ids),
        ("support.ticket", ticket_ids),
        ("customers.contact", contact_ids),
    ):
        if ids:
            about |= Q(object_type=label, object_id__in=[str(pk) for pk in ids])
    return (
        AuditEntry.objects.filter(about)
        .select_related("user")
        .order_by("-created_at", "-id")[:ACTIVITY_ROWS]
    )


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    customer = _customer(request, pk)
    domains = visible_domains(actor).filter(customer=customer)
    zones = visible_zones(actor).filter(customer=customer)
    invoices = visible_invoices(actor).filter(customer=customer)
    tickets = visible_tickets(actor).filter(customer=customer)
    contact_rows = list(visible_contacts(actor).filter(customer=customer))
    activity = _activity(
        customer,
        list(domains.values_list("pk", flat=True)[:500]),
        list(zones.values_list("pk", flat=True)[:500]),
        list(invoices.values_list("pk", flat=True)[:500]),
        list(tickets.values_list("pk", flat=True)[:500]),
        [c.pk for c in contact_rows],
    )
    context = {
        "customer": customer,
        "contacts": contact_rows,
        "domains": domains.order_by("expires_at", "pk")[:10],
        "domain_count": domains.count(),
        "zones": zones[:10],
        "zone_count": zones.count(),
        "invoices": invoices[:10],
        "invoice_count": invoices.count(),
        "unpaid_count": invoices.filter(status="Unpaid").count(),
        "credit": credit_balance(actor, customer_id=customer.pk, currency=customer.currency),
        "tickets": tickets[:10],
        "ticket_count": tickets.count(),
        "activity": activity,
        "can_manage": accounts.can_manage_customers(actor),
        "can_manage_contacts": contacts.can_manage_contacts(actor, customer),
        "can_impersonate": may_impersonate(actor, customer),
    }
    return render(request, "customers/customer_detail.html", context)


# --- contacts ------------------------------------------------------------------------------------
def _domains_of(actor: Actor, customer: Customer):
    return visible_domains(actor).filter(customer=customer).order_by("name")


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


@login_required
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    customer = _customer(request, pk)
    domains = list(_domains_of(actor, customer))
    form = ContactForm(request.POST or None, domains=domains)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # a contact that cannot be invited is not added either
                contact = contacts.contact_create(
                    actor=actor,
                    customer=customer,
                    values=form.values(),
                    privileges=form.privileges(),
                    allowed_domain_ids=[d.pk for d in domains],
                )
                if form.cleaned_data.get("send_invitation"):
                    contact = contacts.contact_invite(
                        actor=actor, contact=contact, base_url=_base_url(request)
                    )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            invited = " and invited by e-mail" if contact.user_id else ""
            messages.success(request, f"Contact {contact.first_name} added{invited}.")
            return redirect("customers:detail", pk=customer.pk)
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": customer, "contact": None},
        status=400 if request.method == "POST" else 200,
    )


def _contact(request: HttpRequest, pk: int) -> Contact:
    _require_reseller_or_staff(request.actor)
    return get_object_or_404(visible_contacts(request.actor).select_related("user"), pk=pk)


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    contact = _contact(request, pk)
    customer = contact.customer
    domains = list(_domains_of(actor, customer))
    form = ContactForm(request.POST or None, domains=domains, contact=contact)
    if request.method == "POST" and form.is_valid():
        try:
            contacts.contact_update(
                actor=actor,
                contact=contact,
                values=form.values(),
                privileges=form.privileges(),
                allowed_domain_ids=[d.pk for d in domains],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Contact saved.")
            return redirect("customers:detail", pk=customer.pk)
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": customer, "contact": contact},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    customer_pk = contact.customer_id
    contacts.contact_delete(actor=request.actor, contact=contact)
    messages.success(request, f"Contact {contact.first_name} {contact.last_name} removed.")
    return redirect("customers:detail", pk=customer_pk)


@login_required
@require_POST
def contact_invite(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    try:
        contacts.contact_invite(actor=request.actor, contact=contact, base_url=_base_url(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Invitation sent to {contact.email}.")
    return redirect("customers:detail", pk=contact.customer_id)


def contact_invitation(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The invitation link: set a password (once, before it expires), then signed in."""
    try:
        user = User.objects.filter(pk=int(force_str(urlsafe_base64_decode(uidb64)))).first()
    except (TypeError, ValueError, OverflowError):
        user = None
    valid = (
        user is not None
        and user.is_active
        and Contact.objects.filter(user=user).exists()
        and contacts.invitation_tokens.check_token(user, token)
    )
    if not valid:
        return render(request, "customers/contact_invitation.html", {"valid": False}, status=404)
    form = StyledSetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = contacts.invitation_accept(user=user, password=form.cleaned_data["new_password1"])
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Your password is set; welcome.")
        return redirect("dashboard")
    return render(
        request,
        "customers/contact_invitation.html",
        {"valid": True, "form": form, "email": user.email},
        status=400 if request.method == "POST" else 200,
    )


# --- sign in as this customer --------------------------------------------------------------
@login_required
@require_POST
def customer_impersonate(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    if request.POST.get("confirm") != "1":  # the button says so; a bare POST starts nothing
        return HttpResponseBadRequest("Confirm with the button on the customer's page.")
    impersonation.impersonation_start(
        actor=request.actor, customer=customer, session=request.session
    )
    messages.info(request, f"You are signed in as {customer.name}.")
    return redirect("dashboard")


@login_required
@require_POST
def impersonation_stop(request: HttpRequest) -> HttpResponse:
    customer = impersonation.impersonation_stop(actor=request.actor, session=request.session)
    if customer is None:
        return redirect("dashboard")
    messages.info(request, f"You are back as {request.user.email}.")
    return redirect(reverse("customers:detail", kwargs={"pk": customer.pk}))
