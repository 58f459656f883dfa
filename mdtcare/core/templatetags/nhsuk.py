"""Helpers for the ``nhsuk`` crispy-forms template pack (templates/nhsuk/).

The pack renders Django forms with the markup of NHS.UK frontend v10. The
templates stay declarative; the decisions that are awkward in a template live
here: which NHS.UK component a widget becomes, the classes its input needs,
the ids of the hint and error message and the ``aria-describedby`` that ties
them to the input, and where each entry of the error summary links to.

Usage in a template::

    {% load nhsuk %}
    {% nhsuk_field field form_show_errors as nf %}
    {% nhsuk_error_summary_items form as error_items %}
"""

from dataclasses import dataclass

from django import forms, template
from django.forms.boundfield import BoundField, BoundWidget
from django.forms.formsets import BaseFormSet
from django.utils.functional import cached_property
from django.utils.translation import gettext

register = template.Library()

# Kinds of field, as far as the markup is concerned.
HIDDEN = "hidden"
INPUT = "input"  # text, email, number, password, date, url, ...
TEXTAREA = "textarea"
SELECT = "select"
FILE = "file"
CHECKBOX = "checkbox"  # a single checkbox (BooleanField)
RADIOS = "radios"  # RadioSelect
CHECKBOXES = "checkboxes"  # CheckboxSelectMultiple
MULTI = "multi"  # MultiWidget (e.g. SplitDateTimeWidget) and SelectDateWidget

# The class an input of each kind gets, and the one it adds when it has errors.
INPUT_CLASSES = {
    INPUT: ("nhsuk-input", "nhsuk-input--error"),
    TEXTAREA: ("nhsuk-textarea", "nhsuk-textarea--error"),
    SELECT: ("nhsuk-select", "nhsuk-select--error"),
    # NHS.UK frontend 10.x styles file inputs as `nhsuk-file-upload__input`
    # and has no error modifier for them.
    FILE: ("nhsuk-file-upload__input", ""),
    CHECKBOX: ("nhsuk-checkboxes__input", ""),
    RADIOS: ("nhsuk-radios__input", ""),
    CHECKBOXES: ("nhsuk-checkboxes__input", ""),
    MULTI: ("nhsuk-input", "nhsuk-input--error"),
}


def widget_kind(bound_field: BoundField) -> str:
    """The kind of NHS.UK component a bound field renders as."""
    widget = bound_field.field.widget
    if widget.is_hidden:
        return HIDDEN
    # CheckboxSelectMultiple is a subclass of RadioSelect: test it first.
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return CHECKBOXES
    if isinstance(widget, forms.RadioSelect):
        return RADIOS
    if isinstance(widget, forms.CheckboxInput):
        return CHECKBOX
    if isinstance(widget, forms.MultiWidget | forms.SelectDateWidget):
        return MULTI
    if isinstance(widget, forms.Textarea):
        return TEXTAREA
    if isinstance(widget, forms.Select):  # also SelectMultiple, NullBooleanSelect
        return SELECT
    if isinstance(widget, forms.FileInput):  # also ClearableFileInput
        return FILE
    return INPUT


def join_tokens(*class_strings: str | None) -> str:
    """Join space-separated lists (classes, ids), dropping blanks and repeats."""
    seen: list[str] = []
    for classes in class_strings:
        for name in (classes or "").split():
            if name not in seen:
                seen.append(name)
    return " ".join(seen)


def field_anchor(bound_field: BoundField) -> str:
    """The id the error summary links to: the field's first focusable input.

    For radios and checkboxes that is the first option (``id_role_0``); for a
    MultiWidget the first of its inputs (``id_when_0``).
    """
    kind = widget_kind(bound_field)
    if kind in (RADIOS, CHECKBOXES):
        subwidgets = bound_field.subwidgets
        if subwidgets:
            return subwidgets[0].id_for_label or ""
        return bound_field.auto_id or ""
    anchor = bound_field.id_for_label
    if not anchor and kind == MULTI and bound_field.auto_id:
        anchor = f"{bound_field.auto_id}_0"
    return anchor or ""


@dataclass(frozen=True)
class ChoiceOption:
    """One radio or checkbox of a group."""

    id: str
    label: str
    tag: str  # the rendered <input>


class NhsukField:
    """What the pack's field templates need to know about one bound field."""

    def __init__(self, bound_field: BoundField, show_errors=True, show_labels=True, label_class=""):
        self.field = bound_field
        self.kind = widget_kind(bound_field)
        # A missing context variable arrives as "": only an explicit False hides.
        self.show_errors = show_errors is not False
        self.show_labels = show_labels is not False
        self.extra_label_class = label_class or ""

    @property
    def is_fieldset(self) -> bool:
        """Radios, checkbox groups and multi-part inputs are wrapped in a fieldset."""
        return self.kind in (RADIOS, CHECKBOXES, MULTI)

    @property
    def id(self) -> str:
        return self.field.field.widget.attrs.get("id") or self.field.auto_id or ""

    @property
    def label_for(self) -> str:
        return self.field.id_for_label or ""

    @property
    def label(self) -> str:
        """The label text; NHS.UK style marks optional questions, not required ones.

        A single checkbox is a statement to tick rather than a question, so it is
        not marked.
        """
        label = str(self.field.label or "")
        if label and not self.field.field.required and self.kind != CHECKBOX:
            label = f"{label} {gettext('(optional)')}"
        return label

    @property
    def label_classes(self) -> str:
        """Classes added to the label (or legend): the helper's ``label_class``,
        and visually hidden when the helper hides labels (NHS.UK needs a label
        for every input, so it stays for screen readers)."""
        return join_tokens(
            self.extra_label_class, "" if self.show_labels else "nhsuk-u-visually-hidden"
        )

    @property
    def help_text(self) -> str:
        return self.field.help_text or ""

    @property
    def hint_id(self) -> str:
        return f"{self.id}-hint" if self.help_text and self.id else ""

    @property
    def has_hint(self) -> bool:
        return bool(self.help_text)

    @cached_property
    def errors(self) -> list[str]:
        return list(self.field.errors) if self.show_errors else []

    @property
    def error_id(self) -> str:
        return f"{self.id}-error" if self.errors and self.id else ""

    @property
    def describedby(self) -> str:
        """The ids of the hint and error message, and any set on the widget."""
        return join_tokens(
            self.hint_id,
            self.error_id,
            self.field.field.widget.attrs.get("aria-describedby"),
        )

    def input_classes(self, existing: str | None = None) -> str:
        base, error = INPUT_CLASSES.get(self.kind, ("", ""))
        if self.kind == MULTI and isinstance(self.field.field.widget, forms.SelectDateWidget):
            base, error = INPUT_CLASSES[SELECT]
        return join_tokens(base, error if self.errors else "", existing)

    @cached_property
    def widget(self) -> str:
        """The rendered input (or select, textarea) with the NHS.UK classes added.

        Classes already on the widget (e.g. ``nhsuk-input--width-10``) are kept.
        Groups put ``aria-describedby`` on their fieldset instead of the input.
        """
        bound_field = self.field
        widget = bound_field.field.widget
        attrs = bound_field.build_widget_attrs(
            {"class": self.input_classes(widget.attrs.get("class"))}, widget
        )
        # Django points aria-describedby at ids of its own (`id_x_helptext`,
        # `id_x_error`) that this pack doesn't render: use ours, or none.
        attrs.pop("aria-describedby", None)
        if self.describedby and not self.is_fieldset:
            attrs["aria-describedby"] = self.describedby
        # What BoundField.as_widget() does, without it re-adding Django's ids.
        if bound_field.field.localize:
            widget.is_localized = True
        if bound_field.auto_id and "id" not in widget.attrs:
            attrs.setdefault("id", bound_field.auto_id)
        return widget.render(
            name=bound_field.html_name,
            value=bound_field.value(),
            attrs=attrs,
            renderer=bound_field.form.renderer,
        )

    @cached_property
    def options(self) -> list[ChoiceOption]:
        """The radios or checkboxes of a group, each input with its NHS.UK class."""
        if self.kind not in (RADIOS, CHECKBOXES):
            return []
        options = []
        for subwidget in self.field.subwidgets:
            data = dict(subwidget.data)
            attrs = dict(data.get("attrs") or {})
            attrs["class"] = self.input_classes(attrs.get("class"))
            data["attrs"] = attrs
            # A copy, so the bound field's cached subwidgets stay untouched.
            option = BoundWidget(subwidget.parent_widget, data, subwidget.renderer)
            options.append(
                ChoiceOption(
                    id=attrs.get("id", ""),
                    label=data.get("label", ""),
                    tag=option.tag(wrap_label=False),
                )
            )
        return options


@register.simple_tag(takes_context=True)
def nhsuk_field(context, bound_field):
    """``{% nhsuk_field field as nf %}``: see `NhsukField`.

    Reads crispy's options from the context: ``form_show_errors``,
    ``form_show_labels``, and ``label_class`` (helper) or ``labelclass``
    (layout objects).
    """
    return NhsukField(
        bound_field,
        show_errors=context.get("form_show_errors", True),
        show_labels=context.get("form_show_labels", True),
        label_class=join_tokens(context.get("label_class"), context.get("labelclass")),
    )


@dataclass(frozen=True)
class ErrorSummaryItem:
    message: str
    anchor: str = ""  # the id to link to; no link when empty


def _form_error_items(form) -> list[ErrorSummaryItem]:
    visible = form.visible_fields()
    first_anchor = field_anchor(visible[0]) if visible else ""
    # Errors about the whole form link to its first question.
    items = [ErrorSummaryItem(str(message), first_anchor) for message in form.non_field_errors()]
    for bound_field in form.hidden_fields():
        for message in bound_field.errors:
            text = gettext("(Hidden field %(name)s) %(error)s") % {
                "name": bound_field.name,
                "error": message,
            }
            items.append(ErrorSummaryItem(text))
    for bound_field in visible:
        anchor = field_anchor(bound_field)
        items.extend(ErrorSummaryItem(str(message), anchor) for message in bound_field.errors)
    return items


@register.simple_tag
def nhsuk_error_summary_items(form) -> list[ErrorSummaryItem]:
    """The entries of the error summary for a form (or formset), in field order.

    ``{% nhsuk_error_summary_items form as error_items %}``; an empty list when
    there are no errors, or no form.
    """
    if isinstance(form, BaseFormSet):
        if not form.is_bound:
            return []
        forms_with_fields = [f for f in form.forms if f.visible_fields()]
        first_anchor = (
            field_anchor(forms_with_fields[0].visible_fields()[0]) if forms_with_fields else ""
        )
        items = [ErrorSummaryItem(str(message), first_anchor) for message in form.non_form_errors()]
        for each in form.forms:
            items.extend(_form_error_items(each))
        return items
    if not isinstance(form, forms.BaseForm) or not form.is_bound or not form.errors:
        return []
    return _form_error_items(form)


# The classes crispy's input objects carry by default are Bootstrap's.
_CRISPY_DEFAULT_INPUT_CLASSES = {"btn", "btn-primary", "btn-secondary", "hidden"}


@register.filter
def nhsuk_button_classes(crispy_input) -> str:
    """The classes of a crispy Submit/Button/Reset rendered as an NHS.UK button.

    Crispy's own default classes (``btn btn-primary``) are dropped and any
    ``css_class`` given is kept, e.g. ``Submit("save", "Save",
    css_class="nhsuk-button--secondary")``.
    """
    extra = [
        name
        for name in (getattr(crispy_input, "field_classes", "") or "").split()
        if name not in _CRISPY_DEFAULT_INPUT_CLASSES
    ]
    return join_tokens("nhsuk-button", *extra)
