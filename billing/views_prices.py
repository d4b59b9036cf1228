"""The price list editor: a reseller's markup rules and own prices with a preview of what it sells
at and earns per TLD and currency; staff edit the platform's exchange rates here too. Every
change goes through ``billing.prices``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from billing import price_groups, prices
from billing.models import ExchangeRate, MarkupRule, Price
from billing.selectors import visible_price_groups
from domains.models import Tld

ACTION_CHOICES = [(value, label) for value, label in Price.Action.choices]
PREMIUM_CHOICES = [
    ("markup", "With the same markup"),
    ("factor", "Times a factor"),
    ("request", "Price on request"),
]


class _Styled(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", f"{css} {css}-sm")


class MarkupRuleForm(_Styled):
    tld = forms.ModelChoiceField(
        queryset=Tld.objects.filter(is_active=True).order_by("name"),
        required=False,
        empty_label="Every TLD",
        to_field_name="name",
    )
    action = forms.ChoiceField(choices=[("", "Every action"), *ACTION_CHOICES], required=False)
    percent = forms.DecimalField(min_value=0, max_value=10000, decimal_places=2, initial=0)
    fixed = forms.DecimalField(min_value=0, decimal_places=2, initial=0, required=False)
    fixed_currency = forms.CharField(max_length=3, required=False)
    rounding = forms.ChoiceField(choices=MarkupRule.Rounding.choices, initial="none")
    premium = forms.ChoiceField(
        label="Premium names",
        choices=PREMIUM_CHOICES,
        required=False,
        help_text="How names the registry prices as premium are sold.",
    )
    premium_factor = forms.DecimalField(
        min_value=1, max_value=1000, decimal_places=3, required=False
    )

    def clean(self):
        data = super().clean()
        premium = data.get("premium") or ("factor" if data.get("premium_factor") else "markup")
        if premium == "factor" and not data.get("premium_factor"):
            self.add_error("premium_factor", "Enter the factor the registry's price is times.")
        if premium != "factor":
            data["premium_factor"] = None
        data["premium_on_request"] = premium == "request"
        return data


class PriceGroupForm(_Styled):
    name = forms.CharField(max_length=80)
    percent = forms.DecimalField(
        label="Discount (percent)",
        min_value=0,
        max_value=100,
        decimal_places=2,
        initial=0,
        error_messages={
            "min_value": "Enter a percent from 0 to 100.",
            "max_value": "Enter a percent from 0 to 100.",
        },
    )


class OwnPriceForm(_Styled):
    tld = forms.ModelChoiceField(
        queryset=Tld.objects.filter(is_active=True).order_by("name"), to_field_name="name"
    )
    action = forms.ChoiceField(choices=ACTION_CHOICES)
    years = forms.IntegerField(min_value=1, max_value=10, initial=1)
    currency = forms.CharField(max_length=3)
    sell = forms.DecimalField(min_value=0, decimal_places=2)


class PlatformPriceForm(_Styled):
    tld = forms.ModelChoiceField(
        queryset=Tld.objects.filter(is_active=True).order_by("name"), to_field_name="name"
    )
    action = forms.ChoiceField(choices=ACTION_CHOICES)
    years = forms.IntegerField(min_value=1, max_value=10, initial=1)
    currency = forms.CharField(max_length=3)
    cost = forms.DecimalField(min_value=0, decimal_places=2, label="Registry cost")
    sell = forms.DecimalField(min_value=0, decimal_places=2, label="Resellers pay")


class ExchangeRateForm(_Styled):
    base = forms.CharField(max_length=3)
    quote = forms.CharField(max_length=3)
    rate = forms.DecimalField(decimal_places=8, max_digits=18, min_value=0)
    valid_from = forms.DateField(initial=lambda: timezone.now().date())


def _reseller_or_staff(request: HttpRequest) -> None:
    actor = request.actor
    if not (actor.is_staff or actor.is_reseller):
        raise Http404


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def price_list(request: HttpRequest) -> HttpResponse:
    """GET: the rules, own prices and the preview; POST (``form`` = rule, price or rate): save
    one and come back, or show the page again with the form's errors (422)."""
    _reseller_or_staff(request)
    actor = request.actor
    action = request.GET.get("action", "register")
    if action not in Price.Action.values:
        action = "register"
    try:
        years = min(max(int(request.GET.get("years", "1")), 1), 10)
    except ValueError:
        years = 1
    groups = visible_price_groups(actor).order_by("name") if actor.is_reseller else []
    preview_group = None
    if request.GET.get("group", "").isdigit() and actor.is_reseller:
        preview_group = next((g for g in groups if g.pk == int(request.GET["group"])), None)
    group_form = PriceGroupForm(prefix="group")
    rule_form = MarkupRuleForm(prefix="rule")
    price_form = OwnPriceForm(prefix="price", initial={"currency": _currency(actor)})
    rate_form = ExchangeRateForm(prefix="rate")
    platform_form = PlatformPriceForm(prefix="platform", initial={"currency": "USD"})
    status = 200
    if request.method == "POST":
        which = request.POST.get("form")
        if which not in {"rule", "price", "rate", "platform", "group"}:
            raise Http404
        if which == "rule":
            rule_form = MarkupRuleForm(request.POST, prefix="rule")
            if rule_form.is_valid():
                data = rule_form.cleaned_data
                _run(
                    rule_form,
                    lambda: prices.markup_rule_save(
                        actor=actor,
                        tld=data["tld"],
                        action=data["action"],
                        percent=data["percent"],
                        fixed=data["fixed"] or 0,
                        fixed_currency=data["fixed_currency"],
                        rounding=data["rounding"],
                        premium_factor=data["premium_factor"],
                        premium_on_request=data["premium_on_request"],
                    ),
                )
        elif which == "price":
            price_form = OwnPriceForm(request.POST, prefix="price")
            if price_form.is_valid():
                data = price_form.cleaned_data
                _run(
                    price_form,
                    lambda: prices.price_override_save(
                        actor=actor,
                        tld=data["tld"],
                        action=data["action"],
                        years=data["years"],
                        currency=data["currency"],
                        sell=data["sell"],
                    ),
                )
        elif which == "rate":
            rate_form = ExchangeRateForm(request.POST, prefix="rate")
            if rate_form.is_valid():
                data = rate_form.cleaned_data
                _run(rate_form, lambda: prices.exchange_rate_save(actor=actor, **data))
        elif which == "group":
            group_form = PriceGroupForm(request.POST, prefix="group")
            if group_form.is_valid():
                data = group_form.cleaned_data
                saved = _run(
                    group_form,
                    lambda: price_groups.price_group_save(
                        actor=actor, name=data["name"], percent=data["percent"]
                    ),
                )
                if saved is not None:
                    _warn_below_cost(request, saved)
        elif which == "platform":
            platform_form = PlatformPriceForm(request.POST, prefix="platform")
            if platform_form.is_valid():
                data = platform_form.cleaned_data
                _run(platform_form, lambda: prices.platform_price_save(actor=actor, **data))
        bound = {
            "rule": rule_form,
            "price": price_form,
            "rate": rate_form,
            "platform": platform_form,
            "group": group_form,
        }[which]
        if not bound.errors:
            messages.success(request, "Saved. The preview below shows the new prices.")
            return redirect(f"{request.path}?action={action}&years={years}")
        status = 422
    context = {
        "rules": _rules(actor),
        "own_prices": _own_prices(actor),
        "rates": ExchangeRate.objects.order_by("base", "quote", "-valid_from")[:50],
        "preview": (
            prices.price_preview(
                actor=actor,
                tlds=list(Tld.objects.filter(is_active=True).order_by("name")),
                action=action,
                years=years,
                group=preview_group,
            )
            if actor.is_reseller
            else []
        ),
        "action": action,
        "years": years,
        "groups": groups,
        "preview_group": preview_group,
        "group_form": group_form,
        "actions": ACTION_CHOICES,
        "rule_form": rule_form,
        "price_form": price_form,
        "rate_form": rate_form,
        "platform_form": platform_form,
        "platform_prices": (
            Price.objects.filter(organisation__isnull=True)
            .select_related("tld")
            .order_by("tld__name", "action", "years", "currency")
            if actor.is_staff
            else Price.objects.none()
        ),
        "can_edit": actor.livemode is not False and (actor.is_reseller or actor.is_staff),
    }
    return render(request, "billing/price_list.html", context, status=status)


def _run(form: forms.Form, save):
    """``save()``'s result, or None with its refusal on the form."""
    try:
        return save()
    except ValidationError as exc:
        _apply_errors(form, exc)
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
    return None


def _warn_below_cost(request: HttpRequest, group) -> None:
    """Tell the reseller which TLDs the group's discount puts below what it pays: those are not
    sold to its customers (refused as any sale below cost)."""
    rows = prices.price_preview(
        actor=request.actor,
        tlds=list(Tld.objects.filter(is_active=True).order_by("name")),
        group=group,
    )
    below = [f".{row['tld']}" for row in rows if row["below_cost"]]
    if below:
        messages.warning(
            request,
            f"At {group.percent}% off, {', '.join(below)} would sell below what you pay: "
            f"customers of {group.name} cannot order them until you lower the discount or "
            "raise your prices.",
        )


def _currency(actor) -> str:
    return actor.organisation.default_currency if actor.organisation else "USD"


def _rules(actor):
    queryset = MarkupRule.objects.select_related("tld").order_by("tld__name", "action")
    if actor.is_staff:
        return queryset.none()
    return queryset.filter(organisation_id=actor.organisation_id)


def _own_prices(actor):
    if actor.is_staff:
        return Price.objects.none()
    return (
        Price.objects.filter(organisation_id=actor.organisation_id)
        .select_related("tld")
        .order_by("tld__name", "action", "years", "currency")
    )


@login_required
@require_POST
def markup_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    if not actor.is_reseller or actor.livemode is False:
        raise Http404
    rule = get_object_or_404(MarkupRule, pk=pk, organisation_id=actor.organisation_id)
    prices.markup_rule_delete(actor=actor, rule=rule)
    messages.success(request, "Rule deleted.")
    return redirect("billing:price_list")


@login_required
@require_POST
def own_price_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    if not actor.is_reseller or actor.livemode is False:
        raise Http404
    row = get_object_or_404(Price, pk=pk, organisation_id=actor.organisation_id)
    prices.price_override_delete(actor=actor, row=row)
    messages.success(request, "Price deleted: the rules price it again.")
    return redirect("billing:price_list")
