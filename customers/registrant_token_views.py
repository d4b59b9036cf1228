"""The views of the "Registrant API tokens" section of one's account page (/account/, drawn by
customers.account_views): a customer creates a token (shown once) and revokes its tokens. The
rules are ``customers.registrant_tokens``'s; these views only show them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from customers import registrant_tokens
from customers.account_forms import RegistrantTokenForm
from customers.account_views import account_page_with, form_errors
from portal.tenancy import Actor, ActorKind


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
        return account_page_with(request, registrant_token_form=form)
    try:
        token, raw = registrant_tokens.token_create(
            actor=actor, customer=actor.customer, name=form.cleaned_data["name"]
        )
    except ValidationError as exc:  # an archived account, say: the page again with the reason
        form_errors(form, exc)
        return account_page_with(request, registrant_token_form=form)
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
