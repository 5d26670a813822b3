// Buttons with a data-confirm question ask it before their form is submitted. An
// external script, because the Content-Security-Policy allows no inline handlers.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
