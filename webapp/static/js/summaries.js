// The summaries page: poll each unfinished job's status (JSON) and update its row in place.
// The status names come translated in the script tag's data-labels.
(function () {
  const labels = JSON.parse(document.currentScript.dataset.labels);
  const colours = {queued: "secondary", running: "primary", done: "success", failed: "danger"};

  // Widths set from script (the CSP allows no style attributes in the markup).
  function setWidth(bar, progress) {
    bar.style.width = progress + "%";
  }

  function poll(row) {
    fetch(row.dataset.statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(r => r.ok ? r.json() : Promise.reject(r.status))
      .then(job => {
        row.dataset.status = job.status;
        const badge = row.querySelector(".job-badge");
        badge.textContent = labels[job.status] || job.status;
        badge.className = "badge job-badge text-bg-" + colours[job.status];
        const active = job.status === "queued" || job.status === "running";
        const bar = row.querySelector(".progress");
        bar.classList.toggle("d-none", !active);
        bar.setAttribute("aria-valuenow", job.progress);
        setWidth(bar.firstElementChild, job.progress);
        row.querySelector(".job-stage").textContent = active ? job.stage_label + " · " + job.progress + "%" : "";
        const files = row.querySelector(".job-files");
        files.replaceChildren(...Object.entries(job.downloads).map(([fmt, url]) => {
          const a = document.createElement("a");
          a.className = "btn btn-sm btn-outline-success me-1 mb-1"; a.href = url;
          a.dataset.format = fmt; a.textContent = fmt.toUpperCase(); return a;
        }));
        if (job.status === "failed") { location.reload(); return; }
        if (active) setTimeout(() => poll(row), 1000);
      })
      .catch(() => setTimeout(() => poll(row), 5000));
  }

  document.querySelectorAll(".progress-bar[data-progress]").forEach(bar => setWidth(bar, bar.dataset.progress));
  document.querySelectorAll("tr[data-job]").forEach(row => {
    if (row.dataset.status === "queued" || row.dataset.status === "running") poll(row);
  });
})();
