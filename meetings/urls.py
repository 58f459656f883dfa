from django.urls import path

from meetings import urls_run
from meetings.views import pack, schedule

app_name = "meetings"

urlpatterns = [
    path("meetings/", schedule.meeting_list, name="meeting_list"),
    path("meetings/new/", schedule.meeting_schedule, name="meeting_schedule"),
    path("meetings/<uuid:meeting_id>/", schedule.meeting_view, name="meeting"),
    path("meetings/<uuid:meeting_id>/cancel/", schedule.meeting_cancel, name="meeting_cancel"),
    path("meetings/<uuid:meeting_id>/agenda/", schedule.agenda_builder, name="agenda_builder"),
    path("meetings/<uuid:meeting_id>/agenda/add/", schedule.agenda_add, name="agenda_add"),
    path(
        "meetings/<uuid:meeting_id>/agenda/publish/",
        schedule.agenda_publish,
        name="agenda_publish",
    ),
    path(
        "meetings/<uuid:meeting_id>/agenda/<uuid:item_id>/move/",
        schedule.agenda_move,
        name="agenda_move",
    ),
    path(
        "meetings/<uuid:meeting_id>/agenda/<uuid:item_id>/remove/",
        schedule.agenda_remove,
        name="agenda_remove",
    ),
    path("meetings/<uuid:meeting_id>/pack/", pack.meeting_pack, name="meeting_pack"),
    # The chair's meeting screen, close and minutes (another module's pages).
    *urls_run.urlpatterns,
]
