from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from customers.account import session_signed_in

        # Django's sign-in event (as its own update_last_login): the session list's row and
        # the "no authenticator app" note are written when the session starts.
        user_logged_in.connect(
            lambda sender, request, user, **kwargs: session_signed_in(request, user),
            dispatch_uid="customers.session_signed_in",
            weak=False,
        )
