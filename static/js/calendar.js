// Calendar and appointment form behaviours (no inline script: the CSP forbids it).
(function () {
  "use strict";

  // Close the appointment flyout.
  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-flyout-close]");
    if (close) {
      var flyout = document.getElementById("flyout");
      if (flyout) flyout.innerHTML = "";
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      var flyout = document.getElementById("flyout");
      if (flyout && flyout.innerHTML) flyout.innerHTML = "";
    }
  });

  // Recurrence: show "every / until / occurrences" only when the appointment repeats.
  function syncRecurrence(box) {
    var select = box.querySelector("select[name=repeat]");
    if (select) box.setAttribute("data-repeat", select.value || "none");
  }
  // Service form: show only the co-pay fields its payment type uses.
  function syncCopay(form) {
    var type = form.querySelector("[name=payment_type]");
    var kind = form.querySelector("[name=copay_kind]");
    if (!type || !kind) return;
    var copay = type.value === "copay";
    function show(name, visible) {
      var input = form.querySelector("[name=" + name + "]");
      var field = input && input.closest(".field");
      if (field) field.hidden = !visible;
    }
    show("copay_kind", copay);
    show("copay_amount", copay && kind.value === "fixed");
    show("copay_percent", copay && kind.value === "percent");
  }
  function init(root) {
    root.querySelectorAll("[data-recurrence]").forEach(syncRecurrence);
    root.querySelectorAll("[data-copay-form]").forEach(syncCopay);
  }
  document.addEventListener("change", function (event) {
    var box = event.target.closest("[data-recurrence]");
    if (box) syncRecurrence(box);
    var form = event.target.closest("[data-copay-form]");
    if (form) syncCopay(form);
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });
})();
