// The check-in scanner: the camera reads QR codes with zxing-wasm (vendored), a search finds
// people without their badge, and scans made while the connection is down are kept in this
// phone's storage with their own time and sent, in order, when it returns.
(function () {
  const root = document.getElementById("checkin");
  const labels = JSON.parse(document.currentScript.dataset.labels);
  const csrf = root.dataset.csrf;
  const queueKey = root.dataset.queueKey;
  const $ = id => document.getElementById(id);
  let shown = null;  // the person in the result panel
  let lastCode = "", lastCodeAt = 0;

  // --- the result panel -----------------------------------------------------------------
  function show(person, state, tone) {
    shown = person;
    const box = $("result");
    box.classList.remove("d-none", "border-success", "border-warning", "border-danger");
    box.classList.add("border-" + tone, "border-3");
    box.dataset.state = tone;
    $("result-state").textContent = state;
    $("result-state").className = "fw-bold fs-5 mb-1 text-" + tone;
    $("result-name").textContent = person ? person.delegate.name : "";
    $("result-local").textContent = person && person.delegate.name_local !== person.delegate.name ? person.delegate.name_local : "";
    $("result-city").textContent = person ? (person.city_name[document.documentElement.lang] || person.city_name.en || person.city) : "";
    $("result-role").textContent = person ? (labels.roles[person.delegate.role] || person.delegate.role) : "";
    $("undo").classList.toggle("d-none", !(person && person.checked_in));
  }

  function showAnswer(person) {
    if (person.already) show(person, labels.already.replace("{time}", person.checked_in_at_text), "warning");
    else show(person, labels.checked_in, "success");
  }

  function showError(body) {
    show(null, (body && body.error && body.error.message) || "?", "danger");
  }

  // --- talking to the server, and the offline queue --------------------------------------
  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin",
                       headers: {"Content-Type": "application/json", "X-CSRFToken": csrf,
                                 "Accept": "application/json"},
                       body: JSON.stringify(body || {})});
  }

  function queue() {
    try { return JSON.parse(localStorage.getItem(queueKey) || "[]"); } catch (e) { return []; }
  }
  function saveQueue(items) {
    localStorage.setItem(queueKey, JSON.stringify(items));
    const box = $("connection");
    box.classList.toggle("d-none", items.length === 0);
    box.textContent = labels.waiting.replace("{n}", items.length);
  }

  // A scan: sent now, or kept (with the time it was made) when the network does not answer.
  function checkIn(scan) {
    scan.at = scan.at || new Date().toISOString();
    if (queue().length) {  // keep the order: earlier scans go first
      saveQueue(queue().concat([scan]));
      show(null, labels.queued, "warning");
      flush();
      return Promise.resolve();
    }
    return post(root.dataset.scanUrl, scan).then(r => {
      if (r.status >= 500) throw new Error("server " + r.status);
      return r.json().then(body => r.ok ? showAnswer(body) : showError(body));
    }).catch(() => {
      saveQueue(queue().concat([scan]));
      show(null, labels.queued, "warning");
    });
  }

  let flushing = false;
  function flush() {
    const items = queue();
    if (flushing || !items.length) return;
    flushing = true;
    $("connection").textContent = labels.sending;
    post(root.dataset.scanUrl, items[0]).then(r => {
      if (r.status >= 500) throw new Error("server " + r.status);
      return r.json().then(body => {
        saveQueue(queue().slice(1));  // sent (or refused for good: shown, not retried)
        if (r.ok) showAnswer(body); else showError(body);
        flushing = false;
        flush();
      });
    }).catch(() => { flushing = false; saveQueue(queue()); });
  }
  window.addEventListener("online", flush);
  setInterval(flush, 3000);
  saveQueue(queue());
  flush();

  $("undo").addEventListener("click", () => {
    if (!shown) return;
    post(root.dataset.undoUrl.replace(/\/0\/undo$/, "/" + shown.delegate.id + "/undo"))
      .then(r => r.json().then(body => r.ok ? show(body, labels.undone, "secondary") : showError(body)))
      .catch(() => show(null, labels.queued, "danger"));
  });

  // --- search ------------------------------------------------------------------------------
  let searchTimer = null;
  function search() {
    const q = $("search").value.trim();
    if (!q) { $("people").replaceChildren(); return; }
    fetch(root.dataset.searchUrl + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
      .then(r => r.json())
      .then(body => {
        const items = body.people.map(person => {
          const li = document.createElement("li");
          li.className = "list-group-item d-flex justify-content-between align-items-center gap-2";
          const text = document.createElement("div");
          const name = document.createElement("div");
          name.className = "fw-semibold";
          name.textContent = person.delegate.name + (person.delegate.name_local ? " · " + person.delegate.name_local : "");
          const meta = document.createElement("div");
          meta.className = "small text-body-secondary";
          meta.textContent = (person.city_name[document.documentElement.lang] || person.city_name.en) + " · " +
            (labels.roles[person.delegate.role] || person.delegate.role) +
            (person.checked_in ? " · " + labels.already.replace("{time}", person.checked_in_at_text) : "");
          text.append(name, meta);
          const button = document.createElement("button");
          button.type = "button";
          button.className = "btn btn-success btn-lg";
          button.textContent = labels.check_in;
          button.dataset.delegate = person.delegate.id;
          button.addEventListener("click", () => checkIn({delegate: person.delegate.id}).then(search));
          li.append(text, button);
          return li;
        });
        if (!items.length) {
          const li = document.createElement("li");
          li.className = "list-group-item text-body-secondary";
          li.textContent = labels.nobody;
          items.push(li);
        }
        $("people").replaceChildren(...items);
      }).catch(() => {});
  }
  $("search").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 250); });
  $("search-form").addEventListener("submit", event => { event.preventDefault(); search(); });

  // --- the camera --------------------------------------------------------------------------
  const video = $("camera"), canvas = $("frame");
  ZXingWASM.prepareZXingModule({
    overrides: {locateFile: (path, prefix) => path.endsWith(".wasm") ? root.dataset.wasmUrl : prefix + path},
    fireImmediately: true,
  });

  function decodeLoop() {
    if (video.readyState >= 2 && video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const context = canvas.getContext("2d", {willReadFrequently: true});
      context.drawImage(video, 0, 0);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      ZXingWASM.readBarcodes(image, {formats: ["QRCode"], tryHarder: true, maxNumberOfSymbols: 1})
        .then(results => {
          const hit = results.find(r => r.isValid && r.text);
          const now = Date.now();
          // The same badge in front of the camera is one scan, not one per frame.
          if (hit && (hit.text !== lastCode || now - lastCodeAt > 5000)) {
            lastCode = hit.text; lastCodeAt = now;
            return checkIn({code: hit.text});
          }
        })
        .catch(() => {})
        .finally(() => setTimeout(decodeLoop, 200));
      return;
    }
    setTimeout(decodeLoop, 200);
  }

  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      $("camera-state").textContent = labels.no_camera;
      return;
    }
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
      .then(stream => {
        video.srcObject = stream;
        video.play().catch(() => {});
        $("start-camera").classList.add("d-none");
        $("camera-state").textContent = labels.scanning;
        root.dataset.camera = "on";
      })
      .catch(() => { $("camera-state").textContent = labels.no_camera; });
  }
  $("start-camera").addEventListener("click", startCamera);
  startCamera();
  decodeLoop();
})();
