// Settings > Invoice template: the preview's theme colour. The document's stylesheet
// (documents.css) reads --doc-theme; the CSP forbids style attributes in markup, so the
// colour is carried in data-theme-colour and set here through the CSSOM, on load and
// after each htmx swap of the preview.
(function () {
  function applyTheme(root) {
    var scope = root || document;
    var docs = scope.matches && scope.matches("[data-theme-colour]") ? [scope] : [];
    scope.querySelectorAll("[data-theme-colour]").forEach(function (el) { docs.push(el); });
    docs.forEach(function (el) {
      var colour = el.getAttribute("data-theme-colour");
      if (/^#[0-9a-f]{6}$/i.test(colour)) el.style.setProperty("--doc-theme", colour);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { applyTheme(document); });
  document.addEventListener("htmx:afterSwap", function (event) { applyTheme(event.detail.target); });
})();
