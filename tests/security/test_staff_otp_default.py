"""Issue 9, section 5: staff TOTP is on unless NAMEPORT_STAFF_OTP_REQUIRED turns it off (it was
off by default). The settings module is read afresh with the environment under test."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

SETTINGS = Path(__file__).resolve().parents[2] / "portal" / "settings.py"


def fresh_settings() -> dict:
    return runpy.run_path(str(SETTINGS))


def test_staff_otp_is_required_when_the_variable_is_unset(monkeypatch):
    monkeypatch.delenv("NAMEPORT_STAFF_OTP_REQUIRED", raising=False)
    monkeypatch.delenv("NAMEPORT_STAFF_OTP_REQUIRED_FILE", raising=False)

    assert fresh_settings()["STAFF_OTP_REQUIRED"] is True


@pytest.mark.parametrize(("value", "required"), [("0", False), ("1", True), ("yes", True)])
def test_the_variable_still_decides(monkeypatch, value, required):
    monkeypatch.setenv("NAMEPORT_STAFF_OTP_REQUIRED", value)

    assert fresh_settings()["STAFF_OTP_REQUIRED"] is required


@pytest.mark.django_db
def test_by_default_staff_are_sent_to_the_second_factor(client, settings, monkeypatch):
    from tests.customers.factories import StaffFactory

    monkeypatch.delenv("NAMEPORT_STAFF_OTP_REQUIRED", raising=False)
    settings.STAFF_OTP_REQUIRED = fresh_settings()["STAFF_OTP_REQUIRED"]
    staff = StaffFactory(email="staff@example.test")
    client.force_login(staff)

    response = client.get("/")

    assert response.status_code == 302
    assert response.url.startswith("/accounts/otp/")
