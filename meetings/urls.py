from django.urls import path

from meetings import urls_run
from meetings.views import actions, pack, schedule

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
    # The worklists and the buttons that change an action.
    path("actions/", actions.worklist, name="worklist"),
    path("actions/mine/", actions.my_actions, name="my_actions"),
    path("actions/new/<uuid:patient_id>/", actions.action_create, name="action_create"),
    path("actions/<uuid:action_id>/start/", actions.action_start, name="action_start"),
    path("actions/<uuid:action_id>/complete/", actions.action_complete, name="action_complete"),
    path("actions/<uuid:action_id>/reassign/", actions.action_reassign, name="action_reassign"),
    path("actions/<uuid:action_id>/cancel/", actions.action_cancel, name="action_cancel"),
    # The chair's meeting screen, close and minutes (another module's pages).
    *urls_run.urlpatterns,
]
