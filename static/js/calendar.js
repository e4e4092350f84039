// Calendar and appointment form behaviours (no inline script or style: the CSP forbids them).
(function () {
  "use strict";

  // --- The side panel (flyout) ------------------------------------------------------------
  // It takes focus when it opens and gives it back to what opened it when it closes; on a
  // phone it is a full-screen sheet, scrolled into view.
  var opener = null;
  function flyout() { return document.getElementById("flyout"); }
  function closeFlyout() {
    var panel = flyout();
    if (!panel || !panel.innerHTML) return;
    panel.innerHTML = "";
    // The calendar may have been redrawn behind the panel: find the entry again by its link.
    var back = opener && (document.body.contains(opener) ? opener
      : document.querySelector('.appt[href="' + opener.getAttribute("href") + '"]'));
    if (back) back.focus();
    opener = null;
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-flyout-close]")) closeFlyout();
    var appt = event.target.closest(".appt[hx-get]");
    if (appt) opener = appt;
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeFlyout();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var panel = flyout();
    if (!panel || event.detail.target !== panel || !panel.innerHTML) return;
    var heading = panel.querySelector(".detail-title");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    }
    panel.scrollIntoView({ block: "start" });
  });

  // --- The time grid ---------------------------------------------------------------------
  // The server computes each entry's top and height as percentages of the day; they reach
  // CSS as custom properties (the CSSOM is allowed where style attributes are not).
  function place(root) {
    root.querySelectorAll("[data-top]").forEach(function (el) {
      el.style.setProperty("--top", el.dataset.top + "%");
      if (el.dataset.height) el.style.setProperty("--height", el.dataset.height + "%");
      if (el.dataset.lanes) {
        el.style.setProperty("--lane", el.dataset.lane);
        el.style.setProperty("--lanes", el.dataset.lanes);
      }
    });
    var grid = root.querySelector && root.querySelector(".tgrid");
    if (grid) grid.style.setProperty("--hours", grid.dataset.hours);
    var fresh = root.querySelector && root.querySelector(".appt.is-new");
    if (fresh) fresh.scrollIntoView({ block: "center" });
  }

  // Arrow keys: left and right move to the same time on the previous or next day, up and
  // down through the times and sessions of a day; Enter opens (they are links).
  function focusables(col) {
    return Array.prototype.slice.call(col.querySelectorAll(".tgrid-slot, .appt"));
  }
  document.addEventListener("keydown", function (event) {
    var keys = ["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"];
    if (keys.indexOf(event.key) < 0) return;
    var col = event.target.closest && event.target.closest(".tgrid-col");
    if (!col) return;
    var items = focusables(col);
    var index = items.indexOf(event.target);
    var target = null;
    if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      target = items[index + (event.key === "ArrowDown" ? 1 : -1)];
    } else {
      var cols = Array.prototype.slice.call(col.parentNode.querySelectorAll(".tgrid-col"));
      var next = cols[cols.indexOf(col) + (event.key === "ArrowRight" ? 1 : -1)];
      if (next) {
        var time = event.target.dataset.time;
        target = (time && next.querySelector('.tgrid-slot[data-time="' + time + '"]')) || focusables(next)[0];
      }
    }
    if (target) {
      event.preventDefault();
      target.focus();
    }
  });

  // --- Forms -----------------------------------------------------------------------------
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
  // Booking: the client and service lists become type-ahead pickers (Tom Select, vendored).
  // Without the script they stay plain multi-selects, which work as well.
  function typeahead(select) {
    if (typeof window.TomSelect !== "function" || select.tomselect) return;
    var label = select.id && document.querySelector('label[for="' + select.id + '"]');
    var name = label ? label.textContent.trim() : "";
    var picker = new window.TomSelect(select, {
      plugins: ["remove_button"],
      maxOptions: 200,
      hideSelected: true,
      closeAfterSelect: select.dataset.typeahead !== "clients",
    });
    // The label now points at the picker's text box; the list it stands for keeps the
    // same name, so a screen reader names both ("Clients").
    if (name) {
      select.setAttribute("aria-label", name);
      if (picker.control_input) picker.control_input.setAttribute("aria-label", name);
    }
  }
  function init(root) {
    root.querySelectorAll("select[data-typeahead]").forEach(typeahead);
    root.querySelectorAll("[data-recurrence]").forEach(syncRecurrence);
    root.querySelectorAll("[data-copay-form]").forEach(syncCopay);
    place(root);
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
