// Starts GOV.UK Frontend's components: Exit this page (and its Shift-three-times shortcut),
// the skip link, error summaries, the service navigation menu and the rest.
//
// The page passes Frontend's URL in a data attribute rather than this file importing a fixed
// path: in production collectstatic gives the file a content-hashed name, and only the
// template's {% static %} tag knows it.
const script = document.querySelector("script[data-govuk-frontend]");

// The inline js-enabled snippet marks browsers Frontend supports; without it (an old browser, or
// a page rendered with no request, such as the 500 page) the page works as plain HTML.
if (script && document.body.classList.contains("govuk-frontend-supported")) {
  import(script.dataset.govukFrontend).then(({ initAll }) => initAll());
}
