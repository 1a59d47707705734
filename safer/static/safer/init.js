// Starts GOV.UK Frontend's components (Exit this page, error summary, header…).
import { initAll } from "/static/build/govuk-frontend.min.js";

initAll();
