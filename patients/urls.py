from django.urls import path

from patients.views import emergency, imports, patient_forms, record, referrals, register

app_name = "patients"

urlpatterns = [
    # The register and a person's record.
    path("", register.register_list, name="list"),
    path("export.csv", register.register_export, name="export"),
    path("<uuid:patient_id>/", record.patient_record, name="detail"),
    # Adding and changing a person's details.
    path("new/", patient_forms.patient_create, name="create"),
    path("<uuid:patient_id>/edit/", patient_forms.patient_edit, name="edit"),
    path("<uuid:patient_id>/conditions/", patient_forms.conditions_edit, name="conditions"),
    path("<uuid:patient_id>/carers/add/", patient_forms.carer_add, name="carer_add"),
    path(
        "<uuid:patient_id>/carers/<uuid:carer_id>/remove/",
        patient_forms.carer_remove,
        name="carer_remove",
    ),
    path("<uuid:patient_id>/consent/", patient_forms.consent_add, name="consent"),
    # Referral onto the register and triage.
    path("refer/", referrals.referral_start, name="refer_start"),
    path("<uuid:patient_id>/refer/", referrals.referral_create, name="refer"),
    path("triage/", referrals.triage_queue, name="triage"),
    path("episodes/<uuid:entry_id>/accept/", referrals.referral_accept, name="accept"),
    path("episodes/<uuid:entry_id>/decline/", referrals.referral_decline, name="decline"),
    path("episodes/<uuid:entry_id>/status/", referrals.entry_status, name="entry_status"),
    path("episodes/<uuid:entry_id>/allocate/", referrals.entry_allocate, name="allocate"),
    # Emergency access to someone outside the user's networks ("break glass").
    path("emergency-access/", emergency.emergency_access_start, name="emergency_access"),
    path(
        "emergency-access/<uuid:access_id>/",
        emergency.emergency_record,
        name="emergency_record",
    ),
    path(
        "emergency-access/<uuid:access_id>/end/",
        emergency.emergency_access_end,
        name="emergency_access_end",
    ),
    # Risk stratification.
    path("risk-import/", imports.risk_import_upload, name="risk_import"),
    path("risk-import/<uuid:import_id>/", imports.risk_import_review, name="risk_import_review"),
    path("case-finding/", imports.case_finding, name="case_finding"),
    # Hospital activity, for the outcome evaluation.
    path(
        "hospital-activity/import/",
        imports.hospital_activity_import_upload,
        name="hospital_activity_import",
    ),
    path(
        "hospital-activity/import/<uuid:import_id>/",
        imports.hospital_activity_import_review,
        name="hospital_activity_import_review",
    ),
]
