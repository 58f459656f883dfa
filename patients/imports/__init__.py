"""CSV imports (risk-stratification scores and hospital activity) and the
case-finding list.

Both imports work the same way, by the rules written once in ``common``. A
file is checked whole first (``*_validate``): every bad row is reported with
its line number, and nothing on the register changes. Only when the person
who uploaded it confirms (``*_apply``) are its valid rows applied, in one
transaction. Matching goes through the access gate, so a file only ever
reaches the people of the networks where the uploader may import.

- ``risk``: risk scores, each the person's history and, when latest, on the
  patient.
- ``activity``: hospital activity, one row per person per month, for the
  outcome evaluation.
- ``case_finding``: people at high risk who are not on the register yet.
"""

from patients.imports.activity import (
    ACTIVITY_COUNTS,
    ACTIVITY_FILE,
    hospital_activity_import_apply,
    hospital_activity_import_discard,
    hospital_activity_import_get_for_user,
    hospital_activity_import_validate,
)
from patients.imports.case_finding import TOP_PERCENT_RANGE, case_finding_list
from patients.imports.common import (
    NOT_ON_REGISTER,
    ImportReport,
    hospital_activity_import_require_role,
    import_discard,
    import_report,
    max_upload_bytes,
    risk_import_require_role,
    size_label,
)
from patients.imports.risk import (
    RISK_FILE,
    risk_import_apply,
    risk_import_discard,
    risk_import_get_for_user,
    risk_import_validate,
)

__all__ = [
    "ACTIVITY_COUNTS",
    "ACTIVITY_FILE",
    "NOT_ON_REGISTER",
    "RISK_FILE",
    "TOP_PERCENT_RANGE",
    "ImportReport",
    "case_finding_list",
    "hospital_activity_import_apply",
    "hospital_activity_import_discard",
    "hospital_activity_import_get_for_user",
    "hospital_activity_import_require_role",
    "hospital_activity_import_validate",
    "import_discard",
    "import_report",
    "max_upload_bytes",
    "risk_import_apply",
    "risk_import_discard",
    "risk_import_get_for_user",
    "risk_import_require_role",
    "risk_import_validate",
    "size_label",
]
