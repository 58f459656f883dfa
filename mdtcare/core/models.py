"""The one abstract base every clinical and reference model shares."""

import uuid

from django.conf import settings
from django.db import models


class BaseModel(models.Model):
    """UUID public id, when created and changed, and by whom it was created.

    Who changed what afterwards is in the audit's change history."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )

    class Meta:
        abstract = True
