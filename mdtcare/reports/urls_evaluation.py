"""The outcome evaluation's pages (joined into ``reports`` urls)."""

urlpatterns: list = []
