"""Time-based one-time passwords (TOTP) with django-otp: who must use them,
setting up a device, and verifying a code."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from mdtcare.accounts.models import Membership
from mdtcare.accounts.selectors import memberships_cached


def required_for(request) -> bool:
    """Whether the request's user must verify a second factor."""
    return required_for_user(request.user, memberships=memberships_cached(request=request))


def required_for_user(user, *, memberships=None) -> bool:
    """Whether the user must verify a second factor (``memberships``: theirs,
    when the caller has read them already)."""
    policy = settings.TWO_FACTOR_REQUIRED_FOR
    if policy == "everyone":
        return True
    if policy == "admins":
        if memberships is None:
            memberships = Membership.objects.filter(user=user)
        return (
            user.is_superuser
            or user.is_staff
            or any(m.role == Membership.Role.ADMIN for m in memberships)
        )
    return False


def token_code_error(user, code) -> str | None:
    """Why an API token may not be issued to the user with this code, or
    None: someone who must use a second factor on the site must give their
    authenticator app's current code for a token too."""
    if not required_for_user(user):
        return None
    device = confirmed_device(user)
    if device is None:
        return "Set up your authenticator app first: log in to mdtcare in a browser"
    code = str(code or "").replace(" ", "")
    if not code or not device.verify_token(code):
        return "Enter the 6-digit code your authenticator app shows now"
    return None


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@transaction.atomic
def device_for_setup(user) -> TOTPDevice:
    """The user's unconfirmed device, made if they have none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def qr_code_svg(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def secret_for_typing(device: TOTPDevice) -> str:
    """The base32 secret in groups of four, for apps that cannot scan."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@transaction.atomic
def verify(request, *, token: str) -> bool:
    """Check a code against the user's device (confirming a new one) and mark
    this session as verified."""
    user = request.user
    device = confirmed_device(user) or TOTPDevice.objects.filter(user=user).first()
    if device is None or not device.verify_token(token.replace(" ", "")):
        return False
    if not device.confirmed:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    otp_login(request, device)
    return True
