// fetalhc page: several images (or zips of images) at once through POST /batch.
// One table row per image (thumbnail, HC, verdict, error), a "Keep" box per row, the mean HC of the
// kept calibrated rows, and the table as CSV. One chosen image keeps the single-image road (app.js);
// without JavaScript the picker takes one image only.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("measure-form"), input = $("image"), section = $("batch"), page = window.fetalhcPage;
  if (!form || !section || !page) return;
  const tbody = section.querySelector("tbody"), meanBox = $("batch-mean"), chosen = $("batch-chosen");
  const SENT_FIELDS = ["pixel_size_mm", "ga_weeks", "ga_days"]; // what applies to every image
  let thumbUrls = [], shown = null; // shown: {answer, kept: [bool per row]}

  input.multiple = true;
  input.accept += ",.zip,application/zip";

  const isZip = (file) => /\.zip$/i.test(file.name) || /zip/i.test(file.type);
  const isBatch = () => input.files.length > 1 || Array.from(input.files).some(isZip);

  // --- choosing files ----------------------------------------------------------------------
  function clearTable() {
    thumbUrls.forEach((u) => URL.revokeObjectURL(u));
    thumbUrls = [];
    shown = null;
    tbody.replaceChildren();
    section.hidden = true;
  }

  function onChosen() {
    clearTable();
    const batch = isBatch();
    chosen.hidden = !batch;
    if (!batch) return;
    $("preview").hidden = true; // app.js previews one image; several are listed instead
    const files = Array.from(input.files), zips = files.filter(isZip).length;
    chosen.textContent = files.length + (files.length === 1 ? " file" : " files") + " chosen"
      + (zips ? " (" + zips + (zips === 1 ? " zip" : " zips") + ")" : "")
      + ": measured together, one row per image.";
  }
  // After app.js's own listeners (this script loads after it): a drop sets input.files without a change event.
  input.addEventListener("change", onChosen);
  $("dropzone").addEventListener("drop", (e) => { if (e.dataTransfer.files.length) onChosen(); });
  document.addEventListener("fetalhc:result", () => { clearTable(); chosen.hidden = true; });

  // --- the table -----------------------------------------------------------------------------
  const cell = (tag, text, className) => Object.assign(document.createElement(tag), { textContent: text || "", className: className || "" });

  // The thumbnail is made here from the chosen file; a zip's images are never unpacked in the browser.
  function thumbnail(row, files, fileUrls) {
    const file = files[row.upload];
    if (row.entry !== null) return cell("span", "zip, image " + (row.entry + 1), "thumb placeholder");
    if (!fileUrls[row.upload]) {
      fileUrls[row.upload] = URL.createObjectURL(file);
      thumbUrls.push(fileUrls[row.upload]);
    }
    const img = Object.assign(document.createElement("img"), { className: "thumb", alt: "Image " + (row.index + 1) });
    img.onerror = () => img.replaceWith(cell("span", "no preview", "thumb placeholder")); // DICOM, TIFF
    img.src = fileUrls[row.upload];
    return img;
  }

  function verdictCell(row) {
    const td = cell("td");
    if (row.status !== "success") return td;
    td.append(cell("span", row.image_quality, "badge badge-" + row.image_quality.toLowerCase()));
    if (row.alerts.length) {
      const list = cell("ul", "", "alerts");
      row.alerts.forEach((a) => {
        const li = cell("li");
        li.dataset.code = a.code;
        li.append(cell("strong", "Alert:"), " " + a.reason);
        list.append(li);
      });
      td.append(list);
    }
    return td;
  }

  function keepCell(index) {
    const td = cell("td"), label = cell("label", "", "keep");
    const box = Object.assign(document.createElement("input"), { type: "checkbox", checked: true, id: "keep-" + index });
    const text = cell("span", "Kept");
    box.setAttribute("aria-label", "Keep image " + (index + 1));
    box.addEventListener("change", () => {
      shown.kept[index] = box.checked;
      text.textContent = box.checked ? "Kept" : "Left out";
      box.closest("tr").classList.toggle("excluded", !box.checked);
      showMean();
    });
    label.append(box, " ", text);
    td.append(label);
    return td;
  }

  function render(answer, files) {
    const fileUrls = [];
    shown = { answer, kept: answer.results.map(() => true) };
    tbody.replaceChildren(...answer.results.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.status = row.status;
      const image = cell("td");
      image.append(thumbnail(row, files, fileUrls));
      const hc = row.status === "success" ? row.circumference + " " + row.circumference_unit : "";
      tr.append(cell("th", String(row.index + 1)), image, cell("td", hc, "batch-hc"), verdictCell(row),
        cell("td", row.status === "success" ? "" : row.error.message, "batch-error"), keepCell(row.index));
      tr.firstChild.scope = "row";
      return tr;
    }));
    $("batch-request-id").textContent = answer.request_id;
    showMean();
    section.hidden = false;
    section.focus();
    section.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  // Mean and sample SD of the kept rows measured in mm (pixels of different images do not average).
  function showMean() {
    const kept = shown.answer.results.filter((row, i) => shown.kept[i] && row.status === "success");
    const mm = kept.filter((row) => row.circumference_mm !== null).map((row) => row.circumference_mm);
    const inPixels = kept.length - mm.length;
    const note = inPixels ? " " + inPixels + " kept " + (inPixels === 1 ? "image is" : "images are")
      + " in pixels (no pixel size) and not averaged." : "";
    if (!mm.length) {
      meanBox.textContent = "No kept image has an HC in mm, so there is no mean." + note;
      return;
    }
    const n = mm.length, mean = mm.reduce((a, b) => a + b, 0) / n;
    const sd = n > 1 ? Math.sqrt(mm.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : null;
    meanBox.replaceChildren("Mean HC of the kept images: ", cell("strong", mean.toFixed(2) + " mm", "batch-mean-value"),
      " (SD " + (sd === null ? "needs two images" : sd.toFixed(2) + " mm") + ", n = " + n + ")." + note);
  }

  // --- the CSV: the server's flat form of each record, with whether the row was kept ------------
  // String(true) is "true": "included" is spelled as the server's cells are (fetalhc/record_csv.py).
  function csvText() {
    const quote = (v) => {
      const s = v === null || v === undefined ? "" : String(v);
      return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    };
    const { columns, rows } = shown.answer.table;
    const lines = [["included", ...columns]].concat(rows.map((r, i) => [shown.kept[i], ...r]));
    return lines.map((line) => line.map(quote).join(",")).join("\n") + "\n";
  }

  $("batch-csv").addEventListener("click", () => {
    const link = Object.assign(document.createElement("a"), { download: "fetalhc-batch.csv" });
    link.href = URL.createObjectURL(new Blob([csvText()], { type: "text/csv" }));
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  });

  // --- submitting: before app.js's own submit listener, which measures one image -------------
  async function measure(exporting) {
    if (exporting) {
      page.showError("FHIR, DICOM SR and the PDF report take one image at a time: choose a single image.");
      return;
    }
    const files = Array.from(input.files);
    const data = new FormData();
    SENT_FIELDS.forEach((name) => data.set(name, form.elements[name].value));
    // The files' own names (often a patient's) never leave the browser.
    files.forEach((f) => data.append("images", f, isZip(f) ? "upload.zip" : "upload"));
    page.showError("");
    page.clearResult();
    clearTable();
    page.setBusy(true);
    try {
      const response = await fetch(form.dataset.batchAction, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": form.elements.csrf_token.value },
      });
      let body;
      try { body = await response.json(); } catch (_) { body = null; }
      if (body && body.status === "success") render(body, files);
      else page.showError(body && body.message ? body.message
        : `The server answered with an unexpected error (HTTP ${response.status}). Retry in a moment.`);
    } catch (_) {
      page.showError("The server could not be reached. Check the connection and retry.");
    } finally {
      page.setBusy(false);
    }
  }

  document.addEventListener("submit", (e) => {
    if (e.target !== form || !isBatch()) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    measure(Boolean(e.submitter && e.submitter !== $("submit")));
  }, true);
})();
