// Payment form: while the biller has not typed an allocation, the amount is spread over
// the open invoices oldest first (the same rule the server uses when none is given).
(function () {
  function toUnits(text, places) {
    var value = parseFloat(String(text).replace(/,/g, ""));
    if (!isFinite(value) || value < 0) return null;
    return Math.round(value * Math.pow(10, places));
  }
  function fromUnits(units, places) {
    return (units / Math.pow(10, places)).toFixed(places);
  }
  function setup(form) {
    var places = parseInt(form.getAttribute("data-places") || "2", 10);
    var amount = form.querySelector("input[name=amount]");
    var inputs = Array.prototype.slice.call(form.querySelectorAll("input[data-balance]"));
    if (!amount || inputs.length === 0) return;
    var touched = false;
    inputs.forEach(function (input) {
      input.addEventListener("input", function () { touched = true; });
    });
    amount.addEventListener("input", function () {
      if (touched) return;
      var left = toUnits(amount.value, places);
      inputs.forEach(function (input) {
        if (left === null) { input.value = ""; return; }
        var owed = toUnits(input.getAttribute("data-balance"), places) || 0;
        var take = Math.min(owed, left);
        input.value = take > 0 ? fromUnits(take, places) : "";
        left -= take;
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-allocate]").forEach(setup);
  });
})();
