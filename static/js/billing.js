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
