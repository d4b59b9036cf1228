"""Every user's own account: password, e-mail address, two-factor sign-in with recovery codes,
and the list of signed-in sessions. The person acts on their own account only."""

from __future__ import annotations

import secrets
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp.plugins.otp_totp.models import TOTPDevice

from customers.models import RecoveryCode, User, UserSession
from portal.audit import audit
from portal.tenancy import Actor

RECOVERY_CODE_COUNT = 10
# Sessions are written down at most this often each (the list's "last seen" is this precise).
SESSION_TOUCH_SECONDS = 60
SESSION_SEEN_KEY = "_np_seen"
NO_DEVICE_KEY = "_np_no_2fa"
WRONG_PASSWORD = "Your current password is not correct."


def _check_password(user: User, current_password: str, field: str) -> None:
    if not current_password or not user.check_password(current_password):
        raise ValidationError({field: WRONG_PASSWORD})


# --- Password and e-mail -------------------------------------------------------------------


def password_change(*, actor: Actor, user: User, current_password: str, new_password: str) -> User:
    """Set a new password after checking the current one. Other sessions stop working (their
    auth hash no longer matches); the view keeps its own and clears the others' rows with
    :func:`sessions_end` once it has refreshed its session."""
    _check_password(user, current_password, "old_password")
    try:
        validate_password(new_password, user)
    except ValidationError as error:
        raise ValidationError({"new_password1": error.messages}) from error
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit(actor=actor, action="account.password_change", obj=user, organisation=None)
    return user


def email_change(*, actor: Actor, user: User, current_password: str, new_email: str) -> User:
    """Change the sign-in address after checking the password; the old address is told."""
    _check_password(user, current_password, "current_password")
    new_email = (new_email or "").strip().lower()
    old_email = user.email
    if new_email == old_email.lower():
        raise ValidationError({"email": "That is already your e-mail address."})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
            raise ValidationError({"email": "Another account uses this e-mail address."})
        user.email = new_email
        user.full_clean(exclude=["password"])
        user.save(update_fields=["email"])
        audit(
            actor=actor,
            action="account.email_change",
            obj=user,
            organisation=None,
            data={"from": old_email, "to": new_email},
        )
        body = (
            f"The e-mail address you sign in to Nameport with was changed from {old_email} "
            f"to {new_email}.\n\nIf you did not do this, reset your password and tell support.\n"
        )
        transaction.on_commit(
            lambda: send_mail(
                "Your Nameport sign-in address was changed",
                body,
                settings.DEFAULT_FROM_EMAIL,
                [old_email],
            )
        )
    return user


# --- Two-factor sign-in --------------------------------------------------------------------


def two_factor_enabled(user: User) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def two_factor_required(user: User, actor: Actor) -> bool:
    """Must ``user`` use two-factor sign-in (staff; an organisation's policy)?"""
    if user.is_staff:
        return bool(settings.STAFF_OTP_REQUIRED)
    organisation = actor.organisation
    if organisation is None:
        return False
    if actor.is_reseller:
        return organisation.require_2fa_members
    if actor.is_customer:
        return organisation.require_2fa_customers
    return False


def _hash_code(user: User, code: str) -> str:
    normalised = code.strip().replace("-", "").replace(" ", "").lower()
    return salted_hmac(f"nameport.recovery.{user.pk}", normalised).hexdigest()


def recovery_codes_generate(*, actor: Actor, user: User) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new ones; returns them (shown
    once; only keyed hashes are stored)."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)  # 40 bits, as ten hex digits
        codes.append(f"{raw[:5]}-{raw[5:]}")
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, code_hash=_hash_code(user, code)) for code in codes
        )
        audit(
            actor=actor,
            action="account.recovery_codes",
            obj=user,
            organisation=None,
            data={"count": len(codes)},
        )
    return codes


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def recovery_code_use(*, actor: Actor, user: User, code: str) -> bool:
    """Spend one recovery code: True once per code (a conditional update, so two requests with
    the same code cannot both pass)."""
    if not code or len(code) > 40:
        return False
    with transaction.atomic():
        used = RecoveryCode.objects.filter(
            user=user, code_hash=_hash_code(user, code), used_at__isnull=True
        ).update(used_at=timezone.now())
        if used:
            audit(
                actor=actor,
                action="account.recovery_code_used",
                obj=user,
                organisation=None,
                data={"left": recovery_codes_left(user)},
            )
    return bool(used)


def two_factor_disable(*, actor: Actor, user: User, current_password: str) -> None:
    """Turn two-factor sign-in off (not when it is required): removes the authenticator app
    and the recovery codes."""
    _check_password(user, current_password, "current_password")
    if two_factor_required(user, actor):
        raise ValidationError(
            "Two-factor sign-in is required for your account; it cannot be turned off."
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        audit(actor=actor, action="account.two_factor_off", obj=user, organisation=None)


# --- Sessions ------------------------------------------------------------------------------


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _fresh(session, name: str, key: str) -> bool:
    """Was ``session[name]`` written for this session key less than a minute ago?"""
    seen_key, _, seen_at = str(session.get(name) or "").partition("@")
    return (
        seen_key == key
        and seen_at.isdigit()
        and timezone.now().timestamp() - int(seen_at) < SESSION_TOUCH_SECONDS
    )


def _stamp(session, name: str) -> None:
    session[name] = f"{session.session_key}@{int(timezone.now().timestamp())}"


def session_touch(*, user: User, session, user_agent: str, ip_address: str | None) -> bool:
    """Write down that ``session`` was used now, at most once a SESSION_TOUCH_SECONDS per
    session (the last write's key and time are kept in the session itself): one UPDATE, or an
    INSERT for a session not seen before."""
    key = session.session_key
    if not key or _fresh(session, SESSION_SEEN_KEY, key):
        return False
    now = timezone.now()
    fields = {
        "user_agent": (user_agent or "")[:300],
        "ip_address": ip_address or None,
        "last_seen_at": now,
    }
    if not UserSession.objects.filter(session_key=key, user=user).update(**fields):
        UserSession.objects.filter(session_key=key).delete()  # a key reused by someone else
        UserSession.objects.create(session_key=key, user=user, **fields)
    _stamp(session, SESSION_SEEN_KEY)
    return True


def session_signed_in(request, user: User) -> None:
    """At sign-in (``user_logged_in``): write the new session down, and note whether the user
    has an authenticator app, so that the first requests after it cost no extra queries."""
    from portal.auth import client_ip

    session = getattr(request, "session", None)
    if session is None or not session.session_key:
        return
    session_touch(
        user=user,
        session=session,
        user_agent=request.headers.get("User-Agent", "") if hasattr(request, "headers") else "",
        ip_address=client_ip(request) or None,
    )
    if not two_factor_enabled(user):
        _stamp(session, NO_DEVICE_KEY)


def has_no_device(user: User, session) -> bool:
    """True when the user has no authenticator app; the answer is kept in the session for a
    minute (the second factor's check runs on every request)."""
    key = session.session_key if session is not None else None
    if key and _fresh(session, NO_DEVICE_KEY, key):
        return True
    if two_factor_enabled(user):
        return False
    if key:
        _stamp(session, NO_DEVICE_KEY)
    return True


def active_sessions(user: User) -> list[UserSession]:
    """The user's signed-in sessions, newest first; rows of ended sessions are cleared."""
    store = _session_store()
    rows = list(UserSession.objects.filter(user=user))
    ended = [row.pk for row in rows if not store().exists(row.session_key)]
    stale = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    ended += [row.pk for row in rows if row.last_seen_at < stale and row.pk not in ended]
    if ended:
        UserSession.objects.filter(pk__in=ended).delete()
    return [row for row in rows if row.pk not in ended]


def sessions_end(*, user: User, keep: str = "") -> int:
    """End every signed-in session of ``user`` except the one keyed ``keep``."""
    store = _session_store()
    rows = UserSession.objects.filter(user=user).exclude(session_key=keep or None)
    keys = list(rows.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


def sessions_end_others(*, actor: Actor, user: User, keep: str) -> int:
    """ "Sign out everywhere else": every session but the current one ends now."""
    with transaction.atomic():
        ended = sessions_end(user=user, keep=keep)
        audit(
            actor=actor,
            action="account.sessions_end_others",
            obj=user,
            organisation=None,
            data={"ended": ended},
        )
    return ended
