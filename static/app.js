// fetalhc page: drop zone, preview, fetch + JSON rendering, client-side downloads.
// Without this file the form posts normally and the server renders the same result.
"use strict";
(function () {
  document.documentElement.classList.add("js");

  const $ = (id) => document.getElementById(id);
  const form = $("measure-form");
  if (!form) return;
  const input = $("image"), zone = $("dropzone"), submit = $("submit"), busy = $("busy");
  const errorBox = $("error"), result = $("result");
  const frameField = $("frame-field"), frameInput = $("frame");
  let blobUrls = [];
  let shownRecord = null; // the record the page shows, without its overlay image

  // --- choosing a file -------------------------------------------------------------------
  async function isDicom(file) {
    if (/\.dcm$/i.test(file.name) || file.type === "application/dicom") return true;
    const magic = new Uint8Array(await file.slice(128, 132).arrayBuffer());
    return String.fromCharCode(...magic) === "DICM";
  }

  function setFrameField(show) {
    frameField.hidden = !show;
    frameInput.disabled = !show; // a hidden frame number is not sent
  }

  async function showPreview() {
    const file = input.files[0];
    clearResult(); // a newly chosen image never sits beside the previous image's result
    const img = $("preview-img"), note = $("preview-note");
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.removeAttribute("src");
    $("preview").hidden = !file;
    if (!file) return;
    $("file-name").textContent = file.name + " (" + (file.size / 1e6).toFixed(1) + " MB)";
    const dicom = await isDicom(file);
    setFrameField(dicom || /\.tiff?$/i.test(file.name));
    const showNote = (text) => { img.hidden = Boolean(text); note.hidden = !text; note.textContent = text; };
    if (dicom) {
      showNote("DICOM selected: no preview in the browser; the server reads the image and its calibration.");
    } else {
      showNote("");
      img.onerror = () => showNote("No preview for this format; it can still be measured.");
      img.src = URL.createObjectURL(file); // stays in the browser
    }
  }

  input.addEventListener("change", showPreview);
  ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => {
    e.preventDefault(); zone.classList.add("dragover");
  }));
  ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, () => zone.classList.remove("dragover")));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    if (!e.dataTransfer.files.length) return;
    input.files = e.dataTransfer.files;
    showPreview();
  });
  setFrameField(false);

  // --- rendering a result: the rows come with it (the record's summary, fetalhc/record.py) ---
  function fillList(el, items, make) {
    el.replaceChildren(...items.map(make));
  }

  function saveBlob(blob, name) {
    const link = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: name });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  function blobLink(id, text, type) {
    const url = URL.createObjectURL(new Blob([text], { type }));
    blobUrls.push(url);
    $(id).href = url;
    $(id).hidden = false;
  }

  // The values of a record: headline, verdict, alerts, rows and downloads. static/edit.js shows the
  // server's record of an edited ellipse through it too.
  function showValues(r) {
    blobUrls.forEach((u) => URL.revokeObjectURL(u));
    blobUrls = [];
    $("hc-value").textContent = r.circumference + " " + r.circumference_unit;
    $("hc-label").textContent = "Head circumference" + (r.calibrated ? "" : ", in image pixels (not calibrated)");
    // The record's first summary row is the interval when the model has one.
    const interval = r.circumference_interval_px !== null ? r.summary[0] : null;
    $("hc-interval").textContent = interval ? interval.label.replace("HC ", "") + " " + interval.value : "";
    $("hc-interval").hidden = interval === null;
    $("uncalibrated").hidden = r.calibrated;
    const badge = $("quality-badge");
    badge.textContent = r.image_quality;
    badge.className = "badge badge-" + r.image_quality.toLowerCase();
    $("confidence").textContent = r.confidence === null ? "not measured for an edited ellipse" : r.confidence.toFixed(2);
    fillList($("alerts"), r.alerts, (a) => {
      const li = document.createElement("li");
      li.dataset.code = a.code;
      li.append(Object.assign(document.createElement("strong"), { textContent: "Alert:" }), " " + a.reason);
      return li;
    });
    $("alerts").hidden = r.alerts.length === 0;
    fillList($("quality-flags"), r.quality_flags, (f) => Object.assign(document.createElement("li"), { textContent: f }));
    fillList($("rows"), r.summary, ({ label, value, note }) => {
      const div = document.createElement("div");
      div.append(Object.assign(document.createElement("dt"), { textContent: label }),
        Object.assign(document.createElement("dd"), { textContent: value, className: note ? "note" : "" }));
      return div;
    });
    const record = Object.assign({}, r);
    delete record.overlay_png_base64;
    blobLink("dl-json", JSON.stringify(record, null, 2), "application/json");
    shownRecord = record;
    $("dl-csv").hidden = false;
    $("request-id").textContent = r.request_id;
  }
  window.fetalhcPage = { showValues };

  // The CSV of the shown record is the server's flat form of it (POST /csv, fetalhc/record_csv.py):
  // the page keeps no copy of that form, and an edited record's CSV is made the same way.
  $("dl-csv").addEventListener("click", async () => {
    try {
      const response = await fetch($("dl-csv").dataset.action, {
        method: "POST", body: JSON.stringify(shownRecord), credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "text/csv, application/json" },
      });
      if (response.ok) { saveBlob(await response.blob(), "fetalhc-result.csv"); return; }
      let body;
      try { body = await response.json(); } catch (_) { body = null; }
      showError(body && body.message ? body.message
        : `The server answered with an unexpected error (HTTP ${response.status}). Retry in a moment.`);
    } catch (_) {
      showError("The server could not be reached. Check the connection and retry.");
    }
  });

  function render(r) {
    showValues(r);
    const png = "data:image/png;base64," + r.overlay_png_base64;
    // Its size before it loads: the page's height is then known, and the scroll to the result lands.
    Object.assign($("overlay-img"), { width: r.image.width, height: r.image.height });
    $("overlay-img").src = png;
    $("dl-png").href = png;
    result.hidden = false;
    result.focus();
    result.scrollIntoView({ block: "start", behavior: "smooth" });
    // Other page modules (edit, chart, batch, calibrate) hook in here instead of into render().
    document.dispatchEvent(new CustomEvent("fetalhc:result", { detail: { answer: r, file: input.files[0] } }));
  }

  // Hides the shown result, if any, and tells the other page modules that it is gone.
  function clearResult() {
    if (result.hidden) return;
    result.hidden = true;
    document.dispatchEvent(new CustomEvent("fetalhc:cleared"));
  }

  // --- submitting ------------------------------------------------------------------------
  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
    if (!message) return;
    // The error sits above the form: bring it into view and give it the focus, or it may appear
    // off screen and look as if nothing happened.
    errorBox.focus({ preventScroll: true });
    errorBox.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  function setBusy(on) {
    submit.disabled = on;
    busy.hidden = !on;
    form.setAttribute("aria-busy", on ? "true" : "false");
  }

  // static/batch.js shows the answer of several images with the same error box and busy sign.
  window.fetalhcPage = Object.assign(window.fetalhcPage || {}, { showError, setBusy, clearResult });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = input.files[0];
    if (!file) { showError("Choose an ultrasound image first."); return; }
    showError("");
    clearResult(); // never leave the previous image's result beside a new attempt
    const data = new FormData(form);
    data.set("image", file, "upload"); // the file's own name (often a patient's) never leaves the browser
    // "FHIR" and "DICOM SR" buttons: the same post with format=, saved as a file; errors stay JSON.
    const exportAs = e.submitter && e.submitter.dataset.export;
    if (exportAs) data.set("format", exportAs);
    setBusy(true);
    try {
      const response = await fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": form.elements.csrf_token.value },
      });
      if (exportAs && response.ok) {
        saveBlob(await response.blob(), exportAs === "sr" ? "fetalhc-sr.dcm" : "fetalhc-fhir.json");
        return;
      }
      let body;
      try { body = await response.json(); } catch (_) { body = null; }
      if (body && body.status === "success") render(body);
      else showError(body && body.message ? body.message
        : `The server answered with an unexpected error (HTTP ${response.status}). Retry in a moment.`);
    } catch (_) {
      showError("The server could not be reached. Check the connection and retry.");
    } finally {
      setBusy(false);
    }
  });
})();
