// The agenda builder's drag and drop. Everything works without this script:
// each row has Up, Down and Remove buttons (plain forms, which htmx sends
// when it runs). With it, a row is dragged by its handle (SortableJS), and
// the drop posts the row's new place to its data-move-url:
//   POST <agenda_move URL>  position=<1 is first>  revision=<the agenda's>
//                           csrfmiddlewaretoken=<the row's forms'>
// with htmx, which swaps the agenda block (#agenda-list) for the one the
// server answers with: the new order, numbers and time slots and the new
// revision, or, when the agenda changed underneath, the agenda as it is now
// and what went wrong.
// Loaded with `defer` after htmx and SortableJS, on the builder only.

(function () {
  "use strict";

  const LIST = "#agenda-list";

  function revisionOf(list) {
    return list.getAttribute("data-agenda-revision");
  }

  function sortable(body) {
    const list = body.closest(LIST);
    Sortable.create(body, {
      handle: ".mdt-drag-handle",
      draggable: "tr",
      animation: 150,
      // Mouse and touch events, not the browser's own drag and drop: the
      // dragged row (.mdt-agenda-drag) is then drawn by our CSS, the same in
      // every browser.
      forceFallback: true,
      fallbackClass: "mdt-agenda-drag",
      ghostClass: "mdt-agenda-ghost",
      chosenClass: "mdt-agenda-chosen",
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) return;
        const row = event.item;
        const token = row.querySelector('input[name="csrfmiddlewaretoken"]');
        // One change at a time: the next drop needs the revision this one
        // answers with.
        this.option("disabled", true);
        list.setAttribute("aria-busy", "true");
        window.htmx.ajax("POST", row.getAttribute("data-move-url"), {
          source: list,
          target: list,
          swap: "outerHTML",
          values: {
            position: event.newIndex + 1,
            revision: revisionOf(list),
            csrfmiddlewaretoken: token ? token.value : "",
          },
        });
      },
    });
  }

  function inAgenda(event) {
    return event.target instanceof Element && event.target.closest(LIST) !== null;
  }

  // Which item's button had the focus when a request left, to give it back
  // to that item's other button if its own is gone (Up on the new first).
  let focusedItem = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!inAgenda(event)) return;
    const button = document.activeElement;
    const match = button && button.id ? /^agenda-(?:up|down)-(.+)$/.exec(button.id) : null;
    focusedItem = match ? match[1] : null;
  });

  // Not our block (the session ended and the log-in page came back, say):
  // go where the server sent us rather than draw a page inside the table.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!inAgenda(event)) return;
    const xhr = event.detail.xhr;
    const requested = event.detail.pathInfo && event.detail.pathInfo.finalRequestPath;
    if (xhr.responseURL && requested && !xhr.responseURL.endsWith(requested.split("?")[0])) {
      event.detail.shouldSwap = false;
      window.location.assign(xhr.responseURL);
    }
  });

  // Refused outright (403, 404: someone took the item off meanwhile) or no
  // answer: the table may show a drop that did not happen; the page as the
  // server has it now is the truth.
  function reload(event) {
    if (inAgenda(event)) window.location.reload();
  }
  document.addEventListener("htmx:responseError", reload);
  document.addEventListener("htmx:sendError", reload);

  // A new agenda block: keep the page's other forms (add, publish) on its
  // revision, since the user now sees this agenda, and put the focus where
  // a keyboard or screen-reader user expects it.
  document.addEventListener("htmx:afterSettle", function (event) {
    const list = document.querySelector(LIST);
    if (!list || !event.target.isConnected || !inAgenda(event)) return;
    const revision = revisionOf(list);
    if (revision) {
      for (const input of document.querySelectorAll('input[name="revision"]')) {
        input.value = revision;
      }
    }
    const problem = list.querySelector("[data-agenda-problem]");
    const focused = document.activeElement;
    if (problem) {
      problem.focus();
    } else if (!focused || focused === document.body || !focused.isConnected) {
      const other =
        focusedItem &&
        (document.getElementById("agenda-down-" + focusedItem) ||
          document.getElementById("agenda-up-" + focusedItem));
      const done = list.querySelector("[data-agenda-done]");
      if (other) other.focus();
      else if (done) done.focus();
    }
    focusedItem = null;
  });

  window.htmx.onLoad(function (content) {
    const bodies = content.matches && content.matches("[data-agenda-sortable]")
      ? [content]
      : content.querySelectorAll("[data-agenda-sortable]");
    for (const body of bodies) sortable(body);
  });
})();
