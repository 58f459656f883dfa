// "Print the pack" (and any page with a [data-print-page] button): shows the
// button and prints with the browser's own dialogue. Without JavaScript the
// button stays hidden and the hint beside it ([data-print-hint]) says to
// use the browser's Print command, which prints the same page.

(function () {
  "use strict";

  const button = document.querySelector("[data-print-page]");
  if (!button) return;
  button.hidden = false;
  const hint = document.querySelector("[data-print-hint]");
  if (hint) hint.hidden = true;
  button.addEventListener("click", function () {
    window.print();
  });
})();
