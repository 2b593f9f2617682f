// Behaviour for every page, in a file: the Content-Security-Policy runs no inline script
// and no onclick attributes.
(function () {
  "use strict";

  // A button with data-action="print" prints the page.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action=print]");
    if (button) window.print();
  });

  // Tables marked .table-stack become cards on a phone; each cell shows its column's header.
  document.querySelectorAll("table.table-stack").forEach(function (table) {
    var headers = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      // data-label on the header gives a shorter label ("" for none).
      if (th.hasAttribute("data-label")) return th.getAttribute("data-label");
      // The header's parts apart: "Local time" and its zone line read "Local time Asia/Tomsk".
      return Array.prototype.map.call(th.childNodes, function (part) {
        return part.textContent;
      }).join(" ").replace(/\s+/g, " ").trim();
    });
    table.querySelectorAll("tbody tr, tfoot tr").forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        var label = headers[column];
        if (label && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", label);
        column += cell.colSpan || 1;
      });
    });
  });

  // A form with data-confirm asks first, in the page's <dialog>, naming the consequence.
  var dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var pending = null;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.confirm || form.dataset.confirmed === "yes") return;
    event.preventDefault();
    pending = {form: form, submitter: event.submitter || null};
    document.getElementById("confirm-message").textContent = form.dataset.confirm;
    var ok = document.getElementById("confirm-ok");
    ok.textContent = form.dataset.confirmButton || ok.dataset.default;
    dialog.returnValue = "";
    dialog.showModal();
  }, true);
  dialog.addEventListener("close", function () {
    if (pending && dialog.returnValue === "ok") {
      pending.form.dataset.confirmed = "yes";
      if (pending.form.requestSubmit) pending.form.requestSubmit(pending.submitter);
      else pending.form.submit();
    }
    pending = null;
  });
})();

// The assembly form: the host's time zone follows the host city until one is typed.
(function () {
  "use strict";
  document.querySelectorAll("select[data-zones]").forEach(function (select) {
    var zones = JSON.parse(select.dataset.zones);
    var target = document.querySelector(select.dataset.zoneTarget);
    if (!target) return;
    select.addEventListener("change", function () {
      target.placeholder = zones[select.value] || "";
    });
  });
})();
