"""Holistic assessments and integrated care and support plans (to come)."""
