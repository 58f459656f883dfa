"""What every page's header needs: the network the user is working in and
navigation for their role."""

from mdtcare.accounts.models import Membership
from mdtcare.accounts.selectors import current_membership, memberships_cached

_NAVIGATION = {
    Membership.Role.MATRON: [
        ("My caseload", "home"),
        ("My actions", "meetings:my_actions"),
        ("Assessments", "careplans:assessment_list"),
        ("Care plans", "careplans:plan_attention"),
        ("Register", "patients:list"),
        ("Refer someone", "patients:refer_start"),
    ],
    Membership.Role.GP_CHAIR: [
        ("Home", "home"),
        ("Meetings", "meetings:meeting_list"),
        ("My actions", "meetings:my_actions"),
        ("Care plans", "careplans:plan_attention"),
        ("Register", "patients:list"),
        ("Refer someone", "patients:refer_start"),
    ],
    Membership.Role.NAVIGATOR: [
        ("Today", "home"),
        ("Referrals", "patients:triage"),
        ("Worklist", "meetings:worklist"),
        ("My actions", "meetings:my_actions"),
        ("Meetings", "meetings:meeting_list"),
        ("Care plans", "careplans:plan_attention"),
        ("Register", "patients:list"),
        ("Case finding", "patients:case_finding"),
    ],
    Membership.Role.ADMIN: [
        ("Activity", "home"),
        ("Reports", "reports:monthly_activity"),
        ("My actions", "meetings:my_actions"),
        ("Register", "patients:list"),
        ("Risk import", "patients:risk_import"),
        ("Hospital activity import", "patients:hospital_activity_import"),
        ("Users", "admin:accounts_user_changelist"),
        ("Audit", "admin:audit_accessevent_changelist"),
    ],
    Membership.Role.MEMBER: [
        ("Home", "home"),
        ("My actions", "meetings:my_actions"),
        ("Register", "patients:list"),
        ("Refer someone", "patients:refer_start"),
    ],
}


def service(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    membership = current_membership(request=request)
    return {
        "current_membership": membership,
        "memberships": memberships_cached(request=request),
        "navigation": _NAVIGATION.get(membership.role, []) if membership else [],
    }
