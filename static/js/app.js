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
