// The header's search: a combobox whose results (an htmx swap) form a listbox under it.
// Arrow keys move through the options, Enter opens the chosen one, Escape closes the list.
(function () {
  var form = document.querySelector("[data-global-search]");
  if (!form) return;
  var input = form.querySelector("input[type=search]");
  var box = document.getElementById(input.getAttribute("aria-controls"));

  function options() {
    return Array.prototype.slice.call(box.querySelectorAll("[role=option]"));
  }
  function active() {
    var id = input.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }
  function choose(option) {
    options().forEach(function (o) {
      o.setAttribute("aria-selected", o === option ? "true" : "false");
    });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }
  function open() {
    var has = box.children.length > 0 && input.value.trim() !== "";
    box.hidden = !has;
    input.setAttribute("aria-expanded", has ? "true" : "false");
  }
  function close() {
    box.hidden = true;
    input.setAttribute("aria-expanded", "false");
    choose(null);
  }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== box) return;
    choose(null);
    open();
  });
  input.addEventListener("focus", open);
  input.addEventListener("keydown", function (event) {
    var list = options();
    var current = active();
    var index = current ? list.indexOf(current) : -1;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!list.length) return;
      event.preventDefault();
      if (box.hidden) open();
      var step = event.key === "ArrowDown" ? 1 : -1;
      choose(list[(index + step + list.length) % list.length]);
    } else if (event.key === "Enter" && current && !box.hidden) {
      event.preventDefault();
      if (current.dataset.href) window.location.assign(current.dataset.href);
    } else if (event.key === "Escape") {
      if (!box.hidden) {
        event.preventDefault();
        close();
      } else {
        input.value = "";
      }
    }
  });
  // A click outside the search closes the list; a click on an option opens its page.
  document.addEventListener("click", function (event) {
    if (!form.contains(event.target)) return close();
    var option = event.target.closest("[role=option][data-href]");
    if (option && box.contains(option)) window.location.assign(option.dataset.href);
  });
  box.addEventListener("mousemove", function (event) {
    var option = event.target.closest("[role=option]");
    if (option && option !== active()) choose(option);
  });
})();
