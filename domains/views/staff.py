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
from domains.forms import TldForm
from domains.forms_staff import ACCOUNT_FORMS, TldPageForm
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


def _account_kind(request: HttpRequest, account: RegistrarAccount | None) -> str:
    if account is not None:
        return account.kind
    kind = request.GET.get("kind") or request.POST.get("kind") or RegistrarAccount.Kind.SANDBOX
    return kind if kind in ACCOUNT_FORMS else RegistrarAccount.Kind.SANDBOX


def _account_form_page(request: HttpRequest, account: RegistrarAccount | None) -> HttpResponse:
    """A typed form per adapter kind (``domains.forms_staff``); credentials write-only."""
    kind = _account_kind(request, account)
    form_class = ACCOUNT_FORMS[kind]
    status = 200
    if request.method == "POST":
        form = form_class(request.POST, account=account)
        if form.is_valid():
            try:
                account = admin_services.registrar_account_save(
                    actor=request.actor, account=account, **form.service_values()
                )
            except ValidationError as exc:
                add_service_errors(form, exc, "name")
            else:
                messages.success(request, f"Registrar account {account.name} saved.")
                return redirect("domains:account_edit", pk=account.pk)
        status = INVALID
    else:
        form = form_class(account=account)
    context = {
        "form": form,
        "account": account,
        "kind": kind,
        "kinds": RegistrarAccount.Kind.choices,
        "kind_label": RegistrarAccount.Kind(kind).label,
        "has_credentials": bool(account and account.credentials),
        "kept_settings": form.kept_settings(),
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


@login_required
@require_POST
def account_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Log in with the account's adapter and show what the registry answered (its code and
    message; never the credentials)."""
    _staff_only(request)
    account = get_object_or_404(visible_registrar_accounts(request.actor), pk=pk)
    report = admin_services.registrar_account_test(actor=request.actor, account=account)
    context = {"account": account, "report": report}
    if is_htmx(request):
        return vary_on_htmx(render(request, "domains/staff/_connection_report.html", context))
    level = messages.success if report.ok else messages.error
    code = f" ({report.code})" if report.code is not None else ""
    level(request, f"{account.name}: {report.message}{code}")
    return redirect("domains:account_edit", pk=account.pk)


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


def _tld_page(request: HttpRequest, tld) -> HttpResponse:
    accounts = list(visible_registrar_accounts(request.actor))
    creating = tld is None
    form = TldPageForm(request.POST, accounts=accounts, creating=creating)
    if form.is_valid():
        values = dict(form.cleaned_data)
        try:
            if creating:
                tld = admin_services.tld_create(actor=request.actor, **values)
            else:
                admin_services.tld_update(actor=request.actor, tld=tld, **values)
        except ValidationError as exc:
            add_service_errors(form, exc, "name" if creating else "max_years")
        else:
            messages.success(request, f".{tld.name} saved.")
            return redirect("domains:tld_list")
    return render(
        request,
        "domains/staff/tld_form.html",
        {"form": form, "tld": tld},
        status=INVALID,
    )


@login_required
@require_http_methods(["GET", "POST"])
def tld_create(request: HttpRequest) -> HttpResponse:
    """Add a TLD: its lifecycle days, years, IDN, reserved names and routing."""
    _staff_only(request)
    if request.method == "POST":
        return _tld_page(request, None)
    accounts = list(visible_registrar_accounts(request.actor))
    form = TldPageForm(
        accounts=accounts,
        creating=True,
        initial={
            "grace_days": 30,
            "redemption_days": 30,
            "min_years": 1,
            "max_years": 10,
            "is_active": True,
        },
    )
    return render(request, "domains/staff/tld_form.html", {"form": form, "tld": None})


@login_required
@require_GET
def tld_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One TLD's edit page (the list's rows save the routing and days in place)."""
    _staff_only(request)
    tld = get_object_or_404(visible_tlds(request.actor), pk=pk)
    accounts = list(visible_registrar_accounts(request.actor))
    form = TldPageForm.for_page(tld, accounts=accounts)
    return render(request, "domains/staff/tld_form.html", {"form": form, "tld": tld})


@login_required
@require_POST
def tld_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    tld = get_object_or_404(visible_tlds(request.actor), pk=pk)
    if request.POST.get("page") == "tld":
        return _tld_page(request, tld)
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
