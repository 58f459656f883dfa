// Marks the page as having JavaScript, as NHS.UK frontend expects (its CSS
// shows interactive components only then). Loaded first in <body>.
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " nhsuk-frontend-supported" : "");
