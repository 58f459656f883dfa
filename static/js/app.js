// Starts NHS.UK frontend's components (header menu, error summary focus,
// tabs, …). Everything works without it; it only makes pages nicer.
import { initAll } from "../vendor/nhsuk-frontend-10.6.1/nhsuk-frontend.min.js";
// The meeting clock on the chair's screen (does nothing on other pages).
import "./meeting-clock.js";

initAll();
