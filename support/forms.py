"""Forms check shape; the services decide."""

from __future__ import annotations

from django import forms
from django.conf import settings

from portal.forms import style_form
from portal.tenancy import Actor
from support.models import Ticket
from support.selectors import assignable_agents, triage_departments, visible_departments
from support.services import assignee_refusal


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; limits are checked by the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def attachments_help() -> str:
    from django.template.defaultfilters import filesizeformat

    extensions = ", ".join(settings.NAMEPORT_ATTACHMENT_EXTENSIONS)
    return (
        f"Up to {settings.NAMEPORT_ATTACHMENT_MAX_FILES} files of at most "
        f"{filesizeformat(settings.NAMEPORT_ATTACHMENT_MAX_BYTES)} each: {extensions}."
    )


class TicketOpenForm(forms.Form):
    department = forms.ModelChoiceField(queryset=None, empty_label=None)
    subject = forms.CharField(max_length=200)
    priority = forms.ChoiceField(choices=Ticket.Priority.choices, initial="medium")
    domain = forms.ModelChoiceField(queryset=None, required=False, empty_label="Not about a domain")
    customer = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Not about a customer (a question of our own)"
    )
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 8}))
    attachments = MultipleFileField(help_text="")

    def __init__(self, *args, actor: Actor, **kwargs):
        super().__init__(*args, **kwargs)
        from customers.selectors import visible_customers
        from domains.selectors import visible_domains

        departments = visible_departments(actor)
        if not actor.is_staff:
            departments = departments.filter(is_public=True)
        self.fields["department"].queryset = departments
        self.fields["attachments"].help_text = attachments_help()
        if actor.is_customer:
            self.fields["domain"].queryset = visible_domains(actor).order_by("name")
            del self.fields["customer"]
        else:
            del self.fields["domain"]
            if actor.is_reseller:
                self.fields["customer"].queryset = visible_customers(actor).order_by(
                    "last_name", "first_name"
                )
            else:
                del self.fields["customer"]
        style_form(self)


class ReplyForm(forms.Form):
    body = forms.CharField(label="Your reply", widget=forms.Textarea(attrs={"rows": 5}), strip=True)
    internal = forms.BooleanField(
        label="Internal note (only the support team sees it; no e-mail is sent)", required=False
    )
    attachments = MultipleFileField(help_text="")

    def __init__(self, *args, agent: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not agent:
            del self.fields["internal"]
        self.fields["attachments"].help_text = attachments_help()
        style_form(self)


class TicketManageForm(forms.Form):
    status = forms.ChoiceField(choices=Ticket.Status.choices)
    priority = forms.ChoiceField(choices=Ticket.Priority.choices)
    department = forms.ModelChoiceField(queryset=None, empty_label=None)
    assignee = forms.ModelChoiceField(queryset=None, required=False, empty_label="Unassigned")

    def __init__(self, *args, actor: Actor, ticket: Ticket, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "status": ticket.status,
                "priority": ticket.priority,
                "department": ticket.department_id,
                "assignee": ticket.assignee_id,
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = triage_departments(actor, ticket)
        self.fields["assignee"].queryset = assignable_agents(ticket).order_by("email")
        self.fields["assignee"].error_messages["invalid_choice"] = assignee_refusal(ticket)
        style_form(self)


class EscalateForm(forms.Form):
    reason = forms.CharField(
        label="What do you need from the platform's staff?",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Staff answer you in an internal note; your customer does not see it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


class EscalationAnswerForm(forms.Form):
    body = forms.CharField(
        label="Answer the reseller",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="An internal note: the reseller's team reads it, its customer does not.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


class CannedReplyForm(forms.Form):
    title = forms.CharField(max_length=100)
    body = forms.CharField(label="Text", widget=forms.Textarea(attrs={"rows": 8}))
    position = forms.IntegerField(
        min_value=0, max_value=32767, initial=0, help_text="Lower numbers come first in the list."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)
