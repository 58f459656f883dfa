"""The REST API, mounted at /api/v1/.

Text is text: DRF's ``CharField`` takes a number or a boolean sent for a
text field and stores its string ("0", "True"), where the schema says a
string. The API refuses them instead (400, "Not a valid string."), for every
text field, those ``ModelSerializer`` makes included: the one rule is set
here, where the API package is first imported.
"""

from rest_framework import fields as _fields

_char_to_internal_value = _fields.CharField.to_internal_value


def _text_only(self, data):
    if not isinstance(data, str):
        self.fail("invalid")
    return _char_to_internal_value(self, data)


_fields.CharField.to_internal_value = _text_only
