// fetalhc page: the growth chart beside a result and the "Download PDF report" button.
// The chart is the server's (GET /chart.svg, fetalhc/report/chart.py); nothing is computed here.
// Hooks: the "fetalhc:result" and "fetalhc:cleared" events of static/app.js, and
// window.fetalhcChart.update(record) for a record that changed on the page (an edited ellipse).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const figure = $("growth-chart"), form = $("measure-form"), pdfButton = $("dl-pdf"), pdfStatus = $("pdf-status");
  const hadlockOffer = $("chart-hadlock"), hadlockButton = $("chart-hadlock-button");
  if (!figure || !form || !pdfButton) return;

  // The shown result: its record, the image it came from and the form fields it was measured with.
  let shown = null;
  let chartRequest = 0;

  function hideChart() {
    figure.hidden = true;
    figure.replaceChildren();
  }

  // Without an entered age, the user may choose the HC's own Hadlock age for the chart.
  function hadlockWeeks(record) {
    const hadlock = record && record.gestational_age && record.gestational_age.hadlock;
    const inside = hadlock && hadlock.ga_weeks !== null && hadlock.ga_weeks >= Number(figure.dataset.firstWeek)
      && hadlock.ga_weeks <= Number(figure.dataset.lastWeek);
    return inside && record.circumference_mm !== null && !record.centile ? hadlock.ga_weeks : null;
  }

  // The server draws a chart only where the record places the HC on the standard (a z-score), or at
  // the Hadlock age when the user asks for it.
  async function showChart(record, weeks) {
    const request = ++chartRequest;
    const centile = record && record.centile;
    const offered = hadlockWeeks(record);
    if (hadlockOffer) hadlockOffer.hidden = offered === null || weeks !== undefined;
    if (weeks === undefined) {
      if (!centile || centile.z === null || record.circumference_mm === null) { hideChart(); return; }
      weeks = centile.ga_weeks;
    }
    const query = new URLSearchParams({ hc_mm: String(record.circumference_mm), ga_weeks: String(weeks) });
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
    if (hadlockOffer) hadlockOffer.hidden = true;
    pdfButton.hidden = true;
    setPdfStatus("");
  });

  pdfButton.addEventListener("click", downloadPdf);
  if (hadlockButton) {
    hadlockButton.addEventListener("click", () => {
      if (shown && hadlockWeeks(shown.record) !== null) showChart(shown.record, hadlockWeeks(shown.record));
    });
  }

  window.fetalhcChart = {
    // A record that replaced the shown one on the page (e.g. an edited ellipse): chart and report follow it.
    update(record) {
      if (shown) shown.record = record;
      showChart(record);
    },
  };
})();
