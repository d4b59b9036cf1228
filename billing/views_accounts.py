"""Pages of the reseller's accounts with the platform: the reseller's account page (balances of
its mode, the forecast of renewals, the sandbox top-up form), one account's ledger, the dashboard
box, and staff's pages (every reseller's balance, the top-up form, the registrar accounts short of
funds upstream).

Accounts are fetched through ``billing.ledger.visible_accounts(request.actor)`` (another tenant,
or the other mode, gets 404); every change calls ``billing.ledger``, as the API does. A refused
change answers the page again with the service's message (422, or 403 for a refused actor) and
changes nothing.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from billing import ledger
from billing.models import ResellerAccount
from customers.models import Organisation
from domains.models import RegistrarAccount
from portal.forms import style_form
from portal.views import paginate, render_htmx


class TopupForm(forms.Form):
    amount = forms.CharField(max_length=32, help_text="A positive amount, e.g. 250.00")
    reference = forms.CharField(
        max_length=100, required=False, help_text="The payment's reference (required for live)."
    )
    note = forms.CharField(max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


class SandboxTopupForm(TopupForm):
    currency = forms.CharField(max_length=3, initial="USD")

    field_order = ["amount", "currency", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["reference"]


def _errors_into(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _organisation_of(request: HttpRequest) -> Organisation:
    actor = request.actor
    if not actor.is_reseller or actor.organisation is None:
        raise Http404
    return actor.organisation


def _summaries(accounts) -> list[dict]:
    return [{"account": account, "balance": ledger.balance(account)} for account in accounts]


@login_required
@require_GET
def account_list(request: HttpRequest) -> HttpResponse:
    """Staff: every reseller's balances and the registrar accounts short of funds. A reseller:
    its accounts in its mode, the forecast of renewals, and (sandbox) the top-up form."""
    actor = request.actor
    if actor.is_staff:
        accounts = ledger.visible_accounts(actor).order_by("organisation__name", "currency")
        page_obj = paginate(request, accounts)
        return render_htmx(
            request,
            "billing/account_staff.html",
            "billing/account_staff_results.html",
            {
                "page_obj": page_obj,
                "rows": _summaries(page_obj.object_list),
                "short_upstream": RegistrarAccount.objects.filter(
                    funds_short_since__isnull=False
                ).order_by("name"),
            },
        )
    return _reseller_page(request, SandboxTopupForm())


def _reseller_page(request: HttpRequest, form: forms.Form, status: int = 200) -> HttpResponse:
    actor = request.actor
    organisation = _organisation_of(request)
    livemode = actor.livemode is not False
    accounts = ledger.visible_accounts(actor).order_by("currency", "-livemode")
    return render(
        request,
        "billing/account_list.html",
        {
            "rows": _summaries(accounts),
            "forecasts": ledger.forecast(organisation, livemode=livemode),
            "livemode": livemode,
            "form": None if livemode else form,
        },
        status=status,
    )


@login_required
@require_GET
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(ledger.visible_accounts(request.actor), pk=pk)
    return _detail(request, account, TopupForm())


def _detail(request, account: ResellerAccount, form, status: int = 200) -> HttpResponse:
    """The ledger page; an HTMX GET (the pagination) gets the entries' fragment, a refused
    top-up the whole page with the form's errors."""
    page_obj = paginate(request, ledger.account_entries(account))
    context = {
        "account": account,
        "balance": ledger.balance(account),
        "page_obj": page_obj,
        "rows": page_obj.object_list,
        "form": form if ledger.can_topup(request.actor, account) else None,
    }
    if request.method == "POST":
        return render(request, "billing/account_detail.html", context, status=status)
    return render_htmx(
        request,
        "billing/account_detail.html",
        "billing/account_entries.html",
        context,
        status=status,
    )


def _done(request: HttpRequest, url: str) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@login_required
@require_POST
def account_topup(request: HttpRequest, pk: int) -> HttpResponse:
    """Top up one account: staff (any; live with a reference), a reseller its sandbox one."""
    account = get_object_or_404(ledger.visible_accounts(request.actor), pk=pk)
    form = TopupForm(request.POST)
    if not form.is_valid():
        return _detail(request, account, form, status=422)
    try:
        entry = ledger.topup(actor=request.actor, account=account, **form.cleaned_data)
    except PermissionDenied as refused:
        form.add_error(None, str(refused))
        return _detail(request, account, form, status=403)
    except ValidationError as error:
        _errors_into(form, error)
        return _detail(request, account, form, status=422)
    messages.success(
        request,
        f"Topped up {entry.amount} {account.currency}; the balance is {entry.balance_after}.",
    )
    return _done(request, reverse("billing:account_detail", args=[account.pk]))


@login_required
@require_POST
def sandbox_topup(request: HttpRequest) -> HttpResponse:
    """The reseller tops up its sandbox account in a currency (opened if it has none yet)."""
    actor = request.actor
    organisation = _organisation_of(request)
    form = SandboxTopupForm(request.POST)
    if actor.livemode is not False:
        form.add_error(None, "Switch to sandbox mode to top up the sandbox account.")
        return _reseller_page(request, form, status=403)
    if not form.is_valid():
        return _reseller_page(request, form, status=422)
    data = form.cleaned_data
    currency = data["currency"].upper()
    try:
        if currency not in ledger.known_currencies():
            raise ValidationError({"currency": f"{currency} is not a currency we work in."})
        account = ledger.account_for(organisation, currency, False)
        entry = ledger.topup(actor=actor, account=account, amount=data["amount"], note=data["note"])
    except PermissionDenied as refused:
        form.add_error(None, str(refused))
        return _reseller_page(request, form, status=403)
    except ValidationError as error:
        _errors_into(form, error)
        return _reseller_page(request, form, status=422)
    messages.success(request, f"Sandbox account topped up by {entry.amount} {currency}.")
    return _done(request, reverse("billing:account_list"))


@login_required
@require_POST
def upstream_topped_up(request: HttpRequest) -> HttpResponse:
    """Staff: the platform's account at a registrar (``registrar`` in the form) has money
    again; what waits for it resumes."""
    if not request.actor.is_staff:
        raise Http404
    registrar = request.POST.get("registrar", "")
    if not registrar.isdigit():
        raise Http404
    account = get_object_or_404(RegistrarAccount, pk=int(registrar))
    resumed = ledger.upstream_topped_up(actor=request.actor, account=account)
    messages.success(request, f"{account.name}: {len(resumed)} operation(s) resumed.")
    return _done(request, reverse("billing:account_list"))


@login_required
@require_GET
def account_box(request: HttpRequest) -> HttpResponse:
    """The dashboard's box (loaded by HTMX): balances, renewals due in 30/60/90 days at today's
    prices, the date the balance runs out. Resellers only; others get an empty fragment."""
    actor = request.actor
    if not actor.is_reseller or actor.organisation is None:
        return HttpResponse("")
    livemode = actor.livemode is not False
    return render(
        request,
        "billing/account_box.html",
        {"forecasts": ledger.forecast(actor.organisation, livemode=livemode), "livemode": livemode},
    )
