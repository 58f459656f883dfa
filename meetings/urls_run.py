"""The chair's meeting screen, its close and the minutes. Included by
``meetings/urls.py`` (namespace ``meetings``)."""

from django.urls import path

from meetings.views import run

urlpatterns = [
    path("meetings/<uuid:meeting_id>/run/", run.meeting_run, name="meeting_run"),
    path(
        "meetings/<uuid:meeting_id>/run/<uuid:item_id>/",
        run.meeting_run_item,
        name="meeting_run_item",
    ),
    path("meetings/<uuid:meeting_id>/close/", run.meeting_close, name="meeting_close"),
    path("meetings/<uuid:meeting_id>/minutes/", run.meeting_minutes, name="meeting_minutes"),
    path(
        "meetings/<uuid:meeting_id>/minutes/<uuid:item_id>/correct/",
        run.discussion_amend,
        name="discussion_amend",
    ),
]
