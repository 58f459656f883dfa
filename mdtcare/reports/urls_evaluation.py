"""The outcome evaluation's pages (joined into ``reports`` urls)."""

from django.urls import path

from mdtcare.reports.views import evaluation

urlpatterns: list = [
    path("evaluation/", evaluation.evaluation_page, name="evaluation"),
    path("evaluation/export.csv", evaluation.evaluation_export, name="evaluation_export"),
]
