// The live board: ask twice a second whether the check-in version changed; when it did, the
// answer carries the new counts and the rows are updated in place.
(function () {
  const board = document.getElementById("board");
  const set = (id, value) => { document.getElementById(id).textContent = value; };

  function apply(data) {
    board.dataset.version = data.version;
    set("total-checked-in", data.checked_in);
    set("total-registered", data.registered);
    set("quorum-counted", data.quorum.counted);
    set("quorum-members", data.quorum.members);
    set("quorum-required", data.quorum.required);
    const state = document.getElementById("quorum-state");
    state.dataset.reached = String(data.quorum.reached);
    state.textContent = data.quorum.reached ? state.dataset.yes : state.dataset.no;
    data.cities.forEach(row => {
      const tr = board.querySelector('tr[data-city="' + row.city + '"]');
      if (!tr) return;
      tr.querySelector(".registered").textContent = row.registered;
      tr.querySelector(".checked-in").textContent = row.checked_in;
      tr.querySelector(".representative").textContent = row.representatives ? "✓" : "—";
    });
  }

  function poll() {
    fetch(board.dataset.url + "?v=" + encodeURIComponent(board.dataset.version),
          {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(r => r.ok ? r.json() : Promise.reject(r.status))
      .then(data => { if (data.changed) apply(data); })
      .catch(() => {})
      .finally(() => setTimeout(poll, 500));
  }
  setTimeout(poll, 500);
})();
