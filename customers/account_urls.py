"""One's own account, mounted at /account/."""

from django.urls import path

from customers import account_views, registrant_token_views

app_name = "account"
urlpatterns = [
    path("", account_views.account_page, name="page"),
    path("password/", account_views.password_change, name="password"),
    path("email/", account_views.email_change, name="email"),
    path("two-factor/disable/", account_views.two_factor_disable, name="two_factor_disable"),
    path("two-factor/recovery-codes/", account_views.recovery_codes, name="recovery_codes"),
    path("sessions/sign-out-others/", account_views.sessions_end_others, name="sessions_end"),
    path(
        "registrant-tokens/",
        registrant_token_views.token_create,
        name="registrant_token_create",
    ),
    path(
        "registrant-tokens/<int:pk>/revoke/",
        registrant_token_views.token_revoke,
        name="registrant_token_revoke",
    ),
]
