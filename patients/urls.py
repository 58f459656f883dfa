from django.urls import path

from patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list_view, name="list"),
    path("<uuid:patient_id>/", views.patient_detail_view, name="detail"),
]
