from mdtcare.reports import urls_evaluation

app_name = "reports"

urlpatterns = [
    *urls_evaluation.urlpatterns,
]
