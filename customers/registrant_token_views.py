"""The "Registrant API tokens" section of one's account page (/account/): a customer creates a
token (shown once), lists its tokens and revokes them. The rules are
``customers.registrant_tokens``'s; these views only show them."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from customers import registrant_tokens
from portal.tenancy import Actor, ActorKind


class RegistrantTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Token name",
        help_text="What uses it, e.g. “my domain monitor”.",
    )


def section(actor: Actor, form: RegistrantTokenForm | None = None) -> dict | None:
    """The account page's section, for a customer signed in as itself (or signed in as by its
    reseller or staff); None for everyone else (members, contacts, staff)."""
    if actor.kind != ActorKind.CUSTOMER or actor.customer is None:
        return None
    if not registrant_tokens.may_manage(actor, actor.customer):
        return None
    tokens = registrant_tokens.visible_tokens(actor).filter(customer=actor.customer)
    tokens = list(tokens.order_by("-created_at", "-pk"))
    return {"tokens": tokens, "form": form or RegistrantTokenForm()}


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Create a token for one's own customer account; this answer is the only place the whole
    token is ever shown."""
    actor = request.actor
    if actor.kind != ActorKind.CUSTOMER or actor.customer is None:
        raise PermissionDenied("Registrant API tokens belong to a customer account.")
    form = RegistrantTokenForm(request.POST)
    if not form.is_valid():
        from customers.account_views import account_page_with

        return account_page_with(request, registrant_token_form=form)
    token, raw = registrant_tokens.token_create(
        actor=actor, customer=actor.customer, name=form.cleaned_data["name"]
    )
    response = render(
        request, "account/registrant_token_created.html", {"token": token, "raw_token": raw}
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST revokes (the token is refused from the next request)."""
    actor = request.actor
    token = get_object_or_404(registrant_tokens.visible_tokens(actor), pk=pk)
    if not registrant_tokens.may_manage(actor, token.customer):
        raise PermissionDenied("You may not manage this customer's registrant API tokens.")
    if request.method == "POST":
        registrant_tokens.token_revoke(actor=actor, token=token)
        messages.success(request, f"The registrant token {token.prefix}… is revoked.")
        return redirect(_back(actor, token))
    return render(
        request,
        "account/registrant_token_revoke.html",
        {"token": token, "back": _back(actor, token)},
    )


def _back(actor: Actor, token) -> str:
    """One's own account page; the customer's page for its reseller or staff."""
    if actor.kind == ActorKind.CUSTOMER:
        return reverse("account:page")
    return reverse("customers:detail", kwargs={"pk": token.customer_id})
