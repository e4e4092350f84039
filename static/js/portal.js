// The client portal: the practice's theme colour. The CSP forbids style attributes in
// markup, so the colour is carried in data-theme-colour on <body> and set here.
(function () {
  function applyTheme() {
    var colour = document.body.getAttribute("data-theme-colour");
    if (colour && /^#[0-9a-f]{6}$/i.test(colour)) document.body.style.setProperty("--portal-theme", colour);
  }
  document.addEventListener("DOMContentLoaded", applyTheme);
})();
