// Payment form: while the biller has not typed an allocation, the amount is spread over
// the open invoices oldest first (the same rule the server uses when none is given).
(function () {
  // Typed amounts are in the practice's locale ("1.000,50" in de_DE): the form names its
  // decimal and group signs, and what is written back uses the same decimal sign, so the
  // server's strict parser reads it. data-balance is a plain machine number ("150.000").
  function toUnits(text, places, signs) {
    var plain = String(text).replace(/[\s\u00a0\u202f]/g, "");
    if (signs) plain = plain.split(signs.group).join("").split(signs.decimal).join(".");
    if (!/^\d*\.?\d*$/.test(plain)) return null;
    var value = parseFloat(plain);
    if (!isFinite(value) || value < 0) return null;
    return Math.round(value * Math.pow(10, places));
  }
  function fromUnits(units, places, signs) {
    return (units / Math.pow(10, places)).toFixed(places).replace(".", signs.decimal);
  }
  function setup(form) {
    var places = parseInt(form.getAttribute("data-places") || "2", 10);
    var signs = { decimal: form.getAttribute("data-decimal") || ".", group: form.getAttribute("data-group") || "," };
    var amount = form.querySelector("input[name=amount]");
    var inputs = Array.prototype.slice.call(form.querySelectorAll("input[data-balance]"));
    if (!amount || inputs.length === 0) return;
    var touched = false;
    inputs.forEach(function (input) {
      input.addEventListener("input", function () { touched = true; });
    });
    amount.addEventListener("input", function () {
      if (touched) return;
      var left = toUnits(amount.value, places, signs);
      inputs.forEach(function (input) {
        if (left === null) { input.value = ""; return; }
        var owed = toUnits(input.getAttribute("data-balance"), places) || 0;
        var take = Math.min(owed, left);
        input.value = take > 0 ? fromUnits(take, places, signs) : "";
        left -= take;
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-allocate]").forEach(setup);
  });
})();

// Free lines: "Add line" appends a copy of the formset's empty form and counts it in
// TOTAL_FORMS. Without this script the button submits and the server adds the row.
(function () {
  function setup(button) {
    var prefix = button.getAttribute("data-add-line");
    var form = button.form;
    var table = form.querySelector('[data-line-table="' + prefix + '"]');
    var template = form.querySelector('template[data-line-template="' + prefix + '"]');
    var total = form.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    var max = form.querySelector('input[name="' + prefix + '-MAX_NUM_FORMS"]');
    if (!table || !template || !total) return;
    var limit = max ? parseInt(max.value, 10) : 1000;
    // No longer a submit button, so Enter in a field submits the form's main action.
    button.type = "button";
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10) || 0;
      if (index >= limit) return;
      var holder = document.createElement("template");
      holder.innerHTML = template.innerHTML
        .replace(/__prefix__/g, String(index))
        .replace(/__number__/g, String(index + 1));
      var row = holder.content.querySelector("tr");
      table.tBodies[0].appendChild(holder.content);
      total.value = String(index + 1);
      if (index + 1 >= limit) button.disabled = true;
      var first = row && row.querySelector("input, select");
      if (first) first.focus();
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-add-line]").forEach(setup);
  });
})();

// The invoice page's Print button: shown only when this script runs, since it does nothing without it.
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
