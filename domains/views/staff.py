"""Staff pages: registrar accounts, TLD routing and the registries' poll messages. Everyone else
gets 404 (as for any object outside their scope)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from domains import admin_services
from domains.filtersets import RegistryMessageFilterSet
from domains.forms import RegistrarAccountForm, TldForm
from domains.models import RegistrarAccount
from domains.selectors import visible_registrar_accounts, visible_registry_messages, visible_tlds
from domains.views._common import INVALID, add_service_errors, is_htmx, toast, vary_on_htmx
from portal.views import list_context, render_htmx


def _staff_only(request: HttpRequest) -> None:
    if not request.actor.is_staff:
        raise Http404


@login_required
@require_GET
def account_list(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    accounts = visible_registrar_accounts(request.actor).annotate(
        tld_count=Count("tlds", distinct=True)
    )
    return render(request, "domains/staff/account_list.html", {"accounts": list(accounts)})


def _account_form_page(request: HttpRequest, account: RegistrarAccount | None) -> HttpResponse:
    if request.method == "POST":
        form = RegistrarAccountForm(request.POST)
        if form.is_valid():
            try:
                account = admin_services.registrar_account_save(
                    actor=request.actor, account=account, **form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc, "settings")
            else:
                messages.success(request, f"Registrar account {account.name} saved.")
                return redirect("domains:account_list")
        status = INVALID
    else:
        form = (
            RegistrarAccountForm.for_account(account)
            if account
            else RegistrarAccountForm(
                initial={
                    "rate_per_second": 20,
                    "max_sessions": 4,
                    "is_active": True,
                    "settings": {},
                }
            )
        )
        status = 200
    context = {
        "form": form,
        "account": account,
        "has_credentials": bool(account and account.credentials),
    }
    return render(request, "domains/staff/account_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def account_create(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    return _account_form_page(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    account = get_object_or_404(visible_registrar_accounts(request.actor), pk=pk)
    return _account_form_page(request, account)


# --- TLD routing --------------------------------------------------------------------------------
@login_required
@require_GET
def tld_list(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    accounts = list(visible_registrar_accounts(request.actor))
    rows = [
        {"tld": tld, "form": TldForm.for_tld(tld, accounts=accounts)}
        for tld in visible_tlds(request.actor)
    ]
    return render(request, "domains/staff/tld_list.html", {"rows": rows, "accounts": accounts})


@login_required
@require_POST
def tld_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    tld = get_object_or_404(visible_tlds(request.actor), pk=pk)
    accounts = list(visible_registrar_accounts(request.actor))
    form = TldForm(request.POST, prefix=f"tld-{tld.pk}", accounts=accounts)
    saved = False
    if form.is_valid():
        try:
            admin_services.tld_update(actor=request.actor, tld=tld, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc, "max_years")
        else:
            saved = True
    if not is_htmx(request):
        if saved:
            messages.success(request, f".{tld.name} saved.")
        else:
            errors = "; ".join(e for errs in form.errors.values() for e in errs)
            messages.error(request, f".{tld.name} was not saved: {errors}")
        return redirect("domains:tld_list")
    if saved:
        form = TldForm.for_tld(tld, accounts=accounts)
    response = render(
        request,
        "domains/staff/_tld_row.html",
        {"row": {"tld": tld, "form": form, "saved": saved}},
        status=200 if saved else INVALID,
    )
    if saved:
        toast(response, f".{tld.name} saved.")
    return vary_on_htmx(response)


# --- the registries' poll messages -------------------------------------------------------------
MESSAGE_SORT = {"created": ("created_at",), "queued": ("queued_at",), "name": ("name",)}


@login_required
@require_GET
def registry_message_list(request: HttpRequest) -> HttpResponse:
    """Every message read from an EPP poll queue, what Nameport did about it and when it was
    acknowledged; the ones it could not apply first to look at (filter: not applied)."""
    _staff_only(request)
    queryset = visible_registry_messages(request.actor).select_related("account", "domain")
    context = list_context(request, queryset, RegistryMessageFilterSet, sort_columns=MESSAGE_SORT)
    return render_htmx(
        request,
        "domains/staff/registry_message_list.html",
        "domains/staff/_registry_message_results.html",
        context,
    )
