from django import forms

from mdtcare.notifications.models import (
    URGENT_KINDS,
    EmailPreference,
    NotificationKind,
    NotificationPreference,
)


class NotificationPreferencesForm(forms.Form):
    """One question per kind a person may choose for (urgent kinds are
    always e-mailed, so they are not asked)."""

    def __init__(self, *args, preferences: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            if kind in URGENT_KINDS:
                continue
            self.fields[kind.value] = forms.ChoiceField(
                label=kind.label,
                choices=EmailPreference.choices,
                initial=preferences.get(kind.value, NotificationPreference.DEFAULT),
                widget=forms.RadioSelect,
                error_messages={"required": f"Choose how you hear about: {kind.label.lower()}"},
            )
