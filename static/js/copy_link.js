// Copy payment link: the button copies the read-only field it names and says so in its
// status line. Without the clipboard API (an http page, an old browser) the text is
// selected instead, for the biller to copy by hand.
(function () {
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy-from]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy-from"));
    var status = button.parentElement.querySelector("[data-copy-status]");
    if (!field) return;
    function say(text) { if (status) status.textContent = text; }
    function selectIt() {
      field.focus();
      field.select();
      say("Selected: press Ctrl+C (or Cmd+C) to copy.");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(function () { say("Copied."); }, selectIt);
    } else {
      selectIt();
    }
  });
})();
