"""The canned replies page (/support/canned/): list, add, edit and delete the replies the actor's
team inserts into its answers. Staff manage the platform's, a reseller's support team its own;
anyone else gets 404 (customers, contacts) and a role without the support right reads the list
and changes nothing (the services refuse, RoleMiddleware before them)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from support import canned, policies
from support.forms import CannedReplyForm
from support.models import CannedReply
from support.selectors import visible_canned_replies
from support.services import _refusal
from support.views import _add_errors


def _agent_side(request: HttpRequest):
    actor = request.actor
    if not (actor.is_staff or (actor.is_reseller and actor.organisation_id is not None)):
        raise Http404
    return actor


@login_required
def canned_list(request: HttpRequest) -> HttpResponse:
    actor = _agent_side(request)
    context = {
        "replies": list(visible_canned_replies(actor)),
        "may_manage": policies.can_manage_canned_replies(actor),
        "owner": "the platform" if actor.is_staff else actor.organisation.name,
    }
    return render(request, "support/canned_list.html", context)


def _manager(request: HttpRequest):
    actor = _agent_side(request)
    if not policies.can_manage_canned_replies(actor):
        raise PermissionDenied(_refusal(actor, "Only the support team manages canned replies."))
    return actor


def _form_page(request, *, form, reply: CannedReply | None, status: int = 200) -> HttpResponse:
    return render(
        request, "support/canned_form.html", {"form": form, "reply": reply}, status=status
    )


@login_required
def canned_new(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    form = CannedReplyForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                reply = canned.canned_reply_create(actor=actor, **form.cleaned_data)
            except ValidationError as exc:
                _add_errors(form, exc, default="title")
            else:
                messages.success(request, f"Canned reply “{reply.title}” added.")
                return redirect("support:canned_list")
        return _form_page(request, form=form, reply=None, status=400)
    return _form_page(request, form=form, reply=None)


@login_required
def canned_edit(request: HttpRequest, pk: int) -> HttpResponse:
    reply = get_object_or_404(visible_canned_replies(_agent_side(request)), pk=pk)
    actor = _manager(request)
    initial = {"title": reply.title, "body": reply.body, "position": reply.position}
    form = CannedReplyForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                canned.canned_reply_update(actor=actor, canned=reply, **form.cleaned_data)
            except ValidationError as exc:
                _add_errors(form, exc, default="title")
            else:
                messages.success(request, "Canned reply saved.")
                return redirect("support:canned_list")
        return _form_page(request, form=form, reply=reply, status=400)
    return _form_page(request, form=form, reply=reply)


@login_required
@require_POST
def canned_delete(request: HttpRequest, pk: int) -> HttpResponse:
    reply = get_object_or_404(visible_canned_replies(_agent_side(request)), pk=pk)
    actor = _manager(request)
    canned.canned_reply_delete(actor=actor, canned=reply)
    messages.success(request, f"Canned reply “{reply.title}” deleted.")
    return redirect("support:canned_list")
