"""The `nhsuk` crispy-forms template pack renders NHS.UK frontend v10 markup.

No database: the forms are plain Django forms, rendered through templates.
"""

from html.parser import HTMLParser

import pytest
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.template import Context, Template

VOID_ELEMENTS = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag = tag
        self.attrs = {name: value or "" for name, value in attrs}
        self.parent = parent
        self.children = []  # Nodes and strings

    @property
    def classes(self):
        return self.attrs.get("class", "").split()

    @property
    def text(self):
        parts = [c if isinstance(c, str) else c.text for c in self.children]
        return " ".join("".join(parts).split())

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag=None, cls=None, **attrs):
        return [
            node
            for node in self.iter()
            if (tag is None or node.tag == tag)
            and (cls is None or cls in node.classes)
            and all(
                node.attrs.get(name.rstrip("_").replace("_", "-")) == v for name, v in attrs.items()
            )
        ]

    def find(self, tag=None, cls=None, **attrs):
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag or '*'} class={cls!r} {attrs}>"
        return found[0]

    def by_id(self, element_id):
        return self.find(id=element_id)


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#root", [])

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID_ELEMENTS:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, attrs, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html):
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def render(source, **context):
    return Template("{% load crispy_forms_tags %}" + source).render(Context(context))


def group_of(node):
    """The nhsuk-form-group an element sits in."""
    while node is not None and "nhsuk-form-group" not in node.classes:
        node = node.parent
    assert node is not None
    return node


ROLES = [("gp", "GP"), ("nurse", "Community nurse")]
TEAMS = [("north", "North"), ("south", "South")]
SITES = [("", "Choose a site"), ("riverside", "Riverside")]


class ReferralForm(forms.Form):
    name = forms.CharField(help_text="As it appears on the patient record")
    nickname = forms.CharField(required=False, help_text="What the patient likes to be called")
    email = forms.EmailField()
    role = forms.ChoiceField(choices=ROLES, widget=forms.RadioSelect, help_text="Choose one")
    teams = forms.MultipleChoiceField(
        choices=TEAMS, widget=forms.CheckboxSelectMultiple, required=False
    )
    consent = forms.BooleanField(help_text="The patient has agreed to the referral")
    notes = forms.CharField(widget=forms.Textarea, min_length=10)
    site = forms.ChoiceField(choices=SITES)

    def clean(self):
        raise forms.ValidationError("The referral could not be saved")


INVALID_DATA = {"nickname": "Sam", "email": "not-an-email", "role": "surgeon", "notes": "short"}


@pytest.fixture
def invalid_form():
    form = ReferralForm(data=INVALID_DATA)
    assert not form.is_valid()
    return form


@pytest.fixture
def page(invalid_form):
    """An invalid form rendered with the error summary and |crispy."""
    html = render(
        '{% include "includes/error_summary.html" with form=form %}{{ form|crispy }}',
        form=invalid_form,
    )
    return parse(html)


def test_text_input_with_error_has_hint_error_and_describedby(page):
    field = page.by_id("id_name")
    group = group_of(field)
    assert group.classes == ["nhsuk-form-group", "nhsuk-form-group--error"]
    assert field.tag == "input"
    assert field.attrs["type"] == "text"
    assert field.classes == ["nhsuk-input", "nhsuk-input--error"]
    assert field.attrs["aria-describedby"] == "id_name-hint id_name-error"

    label = group.find("label", for_="id_name")
    assert label.classes == ["nhsuk-label"]
    assert label.text == "Name"

    hint = page.by_id("id_name-hint")
    assert hint.tag == "div"
    assert hint.classes == ["nhsuk-hint"]
    assert hint.text == "As it appears on the patient record"

    error = page.by_id("id_name-error")
    assert error.tag == "span"
    assert error.classes == ["nhsuk-error-message"]
    assert error.find("span", cls="nhsuk-u-visually-hidden").text == "Error:"
    assert error.text == "Error: This field is required."

    # Label, then hint, then error message, then the input.
    order = [node for node in group.iter() if node in (label, hint, error, field)]
    assert order == [label, hint, error, field]


def test_optional_fields_are_marked_and_required_ones_are_not(page):
    assert group_of(page.by_id("id_nickname")).find("label").text == ("Nickname (optional)")
    assert group_of(page.by_id("id_email")).find("label").text == "Email"
    assert page.find("legend", cls="nhsuk-fieldset__legend").text == "Role"
    teams_legend = group_of(page.by_id("id_teams_0")).find("legend")
    assert teams_legend.text == "Teams (optional)"
    assert "*" not in page.text
    assert not page.find_all(cls="asteriskField")


def test_field_without_errors_has_no_error_markup(page):
    field = page.by_id("id_nickname")
    assert group_of(field).classes == ["nhsuk-form-group"]
    assert field.classes == ["nhsuk-input"]
    assert field.attrs["aria-describedby"] == "id_nickname-hint"
    assert not page.find_all(id="id_nickname-error")


def test_email_input(page):
    field = page.by_id("id_email")
    assert field.attrs["type"] == "email"
    assert field.classes == ["nhsuk-input", "nhsuk-input--error"]
    assert field.attrs["aria-describedby"] == "id_email-error"
    assert page.by_id("id_email-error").text == "Error: Enter a valid email address."


def test_textarea_and_select(page):
    notes = page.by_id("id_notes")
    assert notes.tag == "textarea"
    assert notes.classes == ["nhsuk-textarea", "nhsuk-textarea--error"]
    assert notes.attrs["aria-describedby"] == "id_notes-error"

    site = page.by_id("id_site")
    assert site.tag == "select"
    assert site.classes == ["nhsuk-select", "nhsuk-select--error"]
    assert site.attrs["aria-describedby"] == "id_site-error"
    assert [option.text for option in site.find_all("option")] == ["Choose a site", "Riverside"]


def test_radio_group_is_a_fieldset_of_nhsuk_radios(page):
    first = page.by_id("id_role_0")
    group = group_of(first)
    assert "nhsuk-form-group--error" in group.classes

    fieldset = group.find("fieldset")
    assert fieldset.classes == ["nhsuk-fieldset"]
    assert fieldset.attrs["aria-describedby"] == "id_role-hint id_role-error"
    legend = fieldset.find("legend")
    assert legend.classes == ["nhsuk-fieldset__legend", "nhsuk-fieldset__legend--s"]
    assert fieldset.find(id="id_role-hint").classes == ["nhsuk-hint"]
    assert fieldset.find(id="id_role-error").text.startswith("Error: Select a valid choice.")

    radios = fieldset.find("div", cls="nhsuk-radios")
    assert radios.attrs["data-module"] == "nhsuk-radios"
    items = radios.find_all("div", cls="nhsuk-radios__item")
    assert len(items) == 2
    for index, (item, (value, text)) in enumerate(zip(items, ROLES, strict=True)):
        radio = item.find("input")
        assert radio.attrs["id"] == f"id_role_{index}"
        assert radio.attrs["type"] == "radio"
        assert radio.attrs["name"] == "role"
        assert radio.attrs["value"] == value
        assert radio.classes == ["nhsuk-radios__input"]
        assert "aria-describedby" not in radio.attrs  # the fieldset carries it
        label = item.find("label")
        assert label.classes == ["nhsuk-label", "nhsuk-radios__label"]
        assert label.attrs["for"] == f"id_role_{index}"
        assert label.text == text


def test_checkbox_group_is_a_fieldset_of_nhsuk_checkboxes(page):
    fieldset = group_of(page.by_id("id_teams_0")).find("fieldset")
    assert "aria-describedby" not in fieldset.attrs  # no hint, no error
    checkboxes = fieldset.find("div", cls="nhsuk-checkboxes")
    assert checkboxes.attrs["data-module"] == "nhsuk-checkboxes"
    items = checkboxes.find_all("div", cls="nhsuk-checkboxes__item")
    assert len(items) == 2
    for index, item in enumerate(items):
        box = item.find("input")
        assert box.attrs["type"] == "checkbox"
        assert box.attrs["id"] == f"id_teams_{index}"
        assert box.classes == ["nhsuk-checkboxes__input"]
        label = item.find("label")
        assert label.classes == ["nhsuk-label", "nhsuk-checkboxes__label"]
        assert label.attrs["for"] == f"id_teams_{index}"


def test_single_checkbox_is_a_one_item_checkboxes(page):
    box = page.by_id("id_consent")
    group = group_of(box)
    assert "nhsuk-form-group--error" in group.classes
    assert not group.find_all("fieldset")
    checkboxes = group.find_all("div", cls="nhsuk-checkboxes")
    assert len(checkboxes) == 1
    items = checkboxes[0].find_all("div", cls="nhsuk-checkboxes__item")
    assert len(items) == 1
    assert box.parent is items[0]
    assert box.attrs["type"] == "checkbox"
    assert box.classes == ["nhsuk-checkboxes__input"]
    assert box.attrs["aria-describedby"] == "id_consent-hint id_consent-error"
    label = items[0].find("label", for_="id_consent")
    assert label.classes == ["nhsuk-label", "nhsuk-checkboxes__label"]
    assert label.text == "Consent"
    assert page.by_id("id_consent-hint").classes == ["nhsuk-hint", "nhsuk-checkboxes__hint"]
    assert page.by_id("id_consent-error").text == "Error: This field is required."


def test_error_summary_links_each_error_to_its_field_in_order(page):
    summary = page.find("div", cls="nhsuk-error-summary")
    assert summary.attrs["data-module"] == "nhsuk-error-summary"
    alert = summary.find("div", role="alert")
    assert alert.find("h2", cls="nhsuk-error-summary__title").text == "There is a problem"
    error_list = alert.find("div", cls="nhsuk-error-summary__body").find("ul")
    assert error_list.classes == ["nhsuk-list", "nhsuk-error-summary__list"]
    links = [(li.find("a").attrs["href"], li.text) for li in error_list.find_all("li")]
    assert links == [
        # The form-wide error links to the first question.
        ("#id_name", "The referral could not be saved"),
        ("#id_name", "This field is required."),
        ("#id_email", "Enter a valid email address."),
        ("#id_role_0", "Select a valid choice. surgeon is not one of the available choices."),
        ("#id_consent", "This field is required."),
        ("#id_notes", "Ensure this value has at least 10 characters (it has 5)."),
        ("#id_site", "This field is required."),
    ]
    # Every link points at an element on the page.
    for href, _text in links:
        page.by_id(href[1:])


def test_non_field_errors_only_appear_in_the_summary(invalid_form, page):
    assert page.text.count("The referral could not be saved") == 1
    assert render("{{ form|as_crispy_errors }}", form=invalid_form).strip() == ""


def test_error_summary_renders_nothing_without_errors():
    class NameForm(forms.Form):
        name = forms.CharField()

    summary = '{% include "includes/error_summary.html" with form=form %}'
    valid = NameForm(data={"name": "Ada"})
    assert valid.is_valid()
    assert render(summary, form=valid).strip() == ""
    assert render(summary, form=ReferralForm()).strip() == ""  # unbound
    assert render('{% include "includes/error_summary.html" %}').strip() == ""  # no form


def test_crispy_tag_renders_form_with_nhsuk_buttons(invalid_form):
    invalid_form.helper = FormHelper()
    invalid_form.helper.form_action = "/referrals/new/"
    invalid_form.helper.add_input(Submit("save", "Save referral"))
    invalid_form.helper.add_input(
        Submit("draft", "Save as draft", css_class="nhsuk-button--secondary")
    )
    page = parse(render("{% crispy form %}", form=invalid_form, csrf_token="token123"))

    form = page.find("form")
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == "/referrals/new/"
    assert "novalidate" in form.attrs
    assert form.find("input", type="hidden", name="csrfmiddlewaretoken").attrs["value"]
    assert form.by_id("id_name").classes == ["nhsuk-input", "nhsuk-input--error"]

    assert not form.find_all("input", type="submit")
    save, draft = form.find_all("button")
    assert save.classes == ["nhsuk-button"]
    assert save.attrs["type"] == "submit"
    assert save.attrs["data-module"] == "nhsuk-button"
    assert save.text == "Save referral"
    assert draft.classes == ["nhsuk-button", "nhsuk-button--secondary"]
    assert draft.text == "Save as draft"


def test_crispy_tag_without_form_tag_and_with_a_layout(invalid_form):
    helper = FormHelper()
    helper.form_tag = False
    helper.layout = Layout(Fieldset("About the patient", "name", "nickname"), "role")
    page = parse(render("{% crispy form helper %}", form=invalid_form, helper=helper))

    assert not page.find_all("form")
    legend = page.find("legend", cls="nhsuk-fieldset__legend--m")
    assert legend.text == "About the patient"
    assert legend.parent.find(id="id_name").classes == ["nhsuk-input", "nhsuk-input--error"]
    assert page.by_id("id_role_0").classes == ["nhsuk-radios__input"]
    assert not page.find_all(id="id_email")  # not in the layout


def test_no_inline_script_or_style(invalid_form, page):
    invalid_form.helper = FormHelper()
    invalid_form.helper.add_input(Submit("save", "Save"))
    crispy_page = parse(render("{% crispy form %}", form=invalid_form))
    for root in (page, crispy_page):
        assert not root.find_all("script")
        assert not root.find_all("style")
        for node in root.iter():
            assert "style" not in node.attrs
            assert not any(name.startswith("on") for name in node.attrs)
