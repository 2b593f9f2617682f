// Behaviour for every page, in a file: the Content-Security-Policy runs no inline script
// and no onclick attributes. A button with data-action="print" prints the page.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-action=print]");
  if (button) window.print();
});
