"""The header's notification bell: the user's unread count."""

from mdtcare.notifications.selectors import unread_count


def unread(request):
    """``notifications_unread``: a callable, so a page that draws no header
    pays nothing; read once per request, from the cache when it can be (no
    query on most pages)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count() -> int:
        if getattr(request, "_mdtcare_unread_for", None) != user.pk:
            request._mdtcare_unread = unread_count(user=user)
            request._mdtcare_unread_for = user.pk
        return request._mdtcare_unread

    return {"notifications_unread": count}
