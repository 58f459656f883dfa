// Holistic assessment pages. Everything works without this script: the
// forms are saved with their buttons and the server shows the warnings.
// With it:
//  - a section's answers are saved as a draft (htmx, the form's hx-post)
//    2 seconds after an answer changes and every 30 seconds while anything
//    typed is unsaved; never when nothing changed, so an open page left alone
//    makes nobody else's page stale;
//  - the PHQ-9 question 9 warning shows as soon as an answer above zero is
//    picked, before anything is saved;
//  - "Print this page" prints.
// Loaded with `defer` after htmx, so it runs before htmx starts.

(function () {
  "use strict";

  const AFTER_CHANGE_MS = 2000;
  const EVERY_MS = 30000;
  const SELF_HARM_ITEM = "phq9_9";

  function autosave(form) {
    let dirty = false;
    let saving = false;
    let submitting = false;
    let waitingSubmitter = null;
    let changeTimer = null;

    function save() {
      if (!dirty || submitting || !window.htmx) return;
      dirty = false;
      window.htmx.trigger(form, "mdt:autosave");
    }

    form.addEventListener("input", function () {
      dirty = true;
    });
    form.addEventListener("change", function () {
      dirty = true;
      window.clearTimeout(changeTimer);
      changeTimer = window.setTimeout(save, AFTER_CHANGE_MS);
    });
    window.setInterval(save, EVERY_MS);

    form.addEventListener("htmx:beforeRequest", function (event) {
      if (submitting) {
        event.preventDefault();
        return;
      }
      saving = true;
    });
    form.addEventListener("htmx:afterRequest", function (event) {
      saving = false;
      if (!event.detail.successful) dirty = true; // try again at the next turn
      if (waitingSubmitter !== null) {
        // The save answered with the new version: now send the form with it.
        const submitter = waitingSubmitter;
        waitingSubmitter = null;
        form.requestSubmit(submitter || undefined);
      }
    });
    form.addEventListener("submit", function (event) {
      if (saving) {
        // A save is on its way with the same version: sending the form now
        // would be refused as stale against the user's own save.
        event.preventDefault();
        waitingSubmitter = event.submitter || false;
        return;
      }
      submitting = true;
      window.clearTimeout(changeTimer);
    });
  }

  for (const form of document.querySelectorAll("form[data-autosave]")) {
    autosave(form);
  }

  const warning = document.querySelector("[data-self-harm-warning]");
  if (warning) {
    document.addEventListener("change", function (event) {
      const input = event.target;
      if (input.name === SELF_HARM_ITEM && input.checked) {
        warning.hidden = !(Number(input.value) > 0);
      }
    });
  }

  const printButton = document.querySelector("[data-print-page]");
  if (printButton) {
    printButton.hidden = false;
    const hint = document.querySelector("[data-print-hint]");
    if (hint) hint.hidden = true;
    printButton.addEventListener("click", function () {
      window.print();
    });
  }
})();
