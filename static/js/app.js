// Small behaviours without inline script (the CSP forbids it).
document.addEventListener("click", function (event) {
  // Close the practice switcher when clicking elsewhere.
  document.querySelectorAll("details.switcher[open]").forEach(function (el) {
    if (!el.contains(event.target)) el.removeAttribute("open");
  });
  // Buttons with data-confirm ask before submitting.
  var btn = event.target.closest("[data-confirm]");
  if (btn && !window.confirm(btn.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
  // "Select all" checkboxes: data-select-all="name" toggles checkboxes of that name.
  var all = event.target.closest("[data-select-all]");
  if (all) {
    var name = all.getAttribute("data-select-all");
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      box.checked = all.checked;
    });
  }
});

// A wide table scrolls inside its .table-wrap. A box that scrolls must be reachable by
// keyboard and named for screen readers, so each one that actually overflows becomes a
// focusable region named after its table's caption or the heading of its section.
function labelScrollingTables(root) {
  (root || document).querySelectorAll(".table-wrap").forEach(function (wrap) {
    var scrolls = wrap.scrollWidth > wrap.clientWidth || wrap.scrollHeight > wrap.clientHeight;
    if (!scrolls) {
      if (wrap.hasAttribute("data-scroll-region")) {
        wrap.removeAttribute("data-scroll-region");
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
      }
      return;
    }
    if (wrap.hasAttribute("tabindex")) return;
    wrap.setAttribute("data-scroll-region", "");
    wrap.setAttribute("tabindex", "0");
    wrap.setAttribute("role", "region");
    if (!wrap.hasAttribute("aria-label") && !wrap.hasAttribute("aria-labelledby")) {
      var caption = wrap.querySelector("caption");
      var section = wrap.closest("section, [aria-labelledby]");
      var heading = section && section.querySelector("h1, h2, h3, h4");
      var name = (caption && caption.textContent.trim()) || (heading && heading.textContent.trim()) || "Table";
      wrap.setAttribute("aria-label", name + " (scrolls sideways)");
    }
  });
}
document.addEventListener("DOMContentLoaded", function () { labelScrollingTables(); });
// Labelled as soon as new content is in the page (afterSwap), and again once it has
// settled: a test or a keyboard user can reach the box before htmx's settle delay ends.
document.addEventListener("htmx:afterSwap", function (event) { labelScrollingTables(event.target); });
document.addEventListener("htmx:afterSettle", function (event) { labelScrollingTables(event.target); });
var resizeTimer;
window.addEventListener("resize", function () {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(labelScrollingTables, 100);
});

// Escape closes the practice switcher and puts focus back on its toggle.
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") return;
  document.querySelectorAll("details.switcher[open]").forEach(function (el) {
    el.removeAttribute("open");
    var summary = el.querySelector("summary");
    if (summary) summary.focus();
  });
});

// After a form error the page opens on its error summary (templates/_form_errors.html), so a
// keyboard or screen reader user starts from the list of what to fix; its links lead to the fields.
function focusErrorSummary(root) {
  var summary = (root || document).querySelector("[data-error-summary]");
  if (summary) summary.focus();
}
document.addEventListener("DOMContentLoaded", function () { focusErrorSummary(); });
document.addEventListener("htmx:afterSettle", function (event) { focusErrorSummary(event.target); });

// A button with data-show-figures="id" shows or hides the figures (a table) of a chart: the
// table is read by screen readers either way, and shown on the page while the button says so.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-show-figures]");
  if (!button) return;
  var figures = document.getElementById(button.getAttribute("data-show-figures"));
  if (!figures) return;
  var shown = figures.classList.toggle("figures-shown");
  button.setAttribute("aria-expanded", shown ? "true" : "false");
  button.textContent = shown ? "Hide the figures" : "Show the figures";
});
