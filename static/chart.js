// fetalhc page: the growth chart beside a result and the "Download PDF report" button.
// The chart is the server's (GET /chart.svg, fetalhc/report/chart.py); nothing is computed here.
// Hooks: the "fetalhc:result" and "fetalhc:cleared" events of static/app.js, and
// window.fetalhcChart.update(record) for a record that changed on the page (an edited ellipse).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const figure = $("growth-chart"), form = $("measure-form"), pdfButton = $("dl-pdf"), pdfStatus = $("pdf-status");
  if (!figure || !form || !pdfButton) return;

  // The shown result: its record, the image it came from and the form fields it was measured with.
  let shown = null;
  let chartRequest = 0;

  function hideChart() {
    figure.hidden = true;
    figure.replaceChildren();
  }

  // The server draws a chart only where the record places the HC on the standard (a z-score).
  async function showChart(record) {
    const request = ++chartRequest;
    const centile = record && record.centile;
    if (!centile || centile.z === null || record.circumference_mm === null) { hideChart(); return; }
    const query = new URLSearchParams({ hc_mm: String(record.circumference_mm), ga_weeks: String(centile.ga_weeks) });
    try {
      const response = await fetch(figure.dataset.src + "?" + query, { credentials: "same-origin" });
      const text = response.ok ? await response.text() : null;
      if (request !== chartRequest) return; // a newer result is on its way
      const svg = text && new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
      if (!svg || svg.localName !== "svg") { hideChart(); return; }
      figure.replaceChildren(document.importNode(svg, true));
      figure.hidden = false;
    } catch (_) {
      if (request === chartRequest) hideChart();
    }
  }

  function setPdfStatus(message) {
    pdfStatus.textContent = message;
    pdfStatus.hidden = !message;
  }

  function fileNameOf(response) {
    const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    return match ? match[1] : "fetalhc-report.pdf";
  }

  // The report of the shown result: its image and the fields it was measured with, the exam label as
  // typed now, and the ellipse when it was edited on the page.
  async function downloadPdf() {
    if (!shown) return;
    const data = new FormData();
    shown.fields.forEach(([name, value]) => data.append(name, value));
    data.set("image", shown.file, "upload"); // the file's own name never leaves the browser
    data.set("format", "pdf");
    data.set("exam_label", form.elements.exam_label.value);
    if (shown.record.ellipse_source === "edited") data.set("ellipse", JSON.stringify(shown.record.ellipse));
    pdfButton.disabled = true;
    setPdfStatus("Making the PDF report…");
    try {
      const response = await fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { Accept: "application/pdf", "X-CSRFToken": form.elements.csrf_token.value },
      });
      if (!response.ok) {
        let body = null;
        try { body = await response.json(); } catch (_) { /* not JSON: the generic message below */ }
        setPdfStatus(body && body.message ? body.message
          : `The server could not make the report (HTTP ${response.status}). Retry in a moment.`);
        return;
      }
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await response.blob());
      link.download = fileNameOf(response);
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
      setPdfStatus("");
    } catch (_) {
      setPdfStatus("The server could not be reached. Check the connection and retry.");
    } finally {
      pdfButton.disabled = false;
    }
  }

  document.addEventListener("fetalhc:result", (e) => {
    const { answer, file } = e.detail;
    // The fields as measured (not the file, sent by itself; not format, which the report sets).
    const fields = [...new FormData(form)].filter(([name, value]) =>
      typeof value === "string" && !["image", "format", "exam_label", "ellipse"].includes(name));
    shown = { record: answer, file, fields };
    pdfButton.hidden = !file;
    setPdfStatus("");
    showChart(answer);
  });

  document.addEventListener("fetalhc:cleared", () => {
    shown = null;
    chartRequest++;
    hideChart();
    pdfButton.hidden = true;
    setPdfStatus("");
  });

  pdfButton.addEventListener("click", downloadPdf);

  window.fetalhcChart = {
    // A record that replaced the shown one on the page (e.g. an edited ellipse): chart and report follow it.
    update(record) {
      if (shown) shown.record = record;
      showChart(record);
    },
  };
})();
