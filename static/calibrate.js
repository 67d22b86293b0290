// Two-point calibration: the pixel size from two points on the chosen image's depth scale or ruler
// and the distance between them, typed in mm or cm. It fills the form's own pixel_size_mm field, so
// the measurement uses it like a typed pixel size. The points are kept in pixels of the ORIGINAL
// image: the SVG over the shown image has the image's natural size as its viewBox, so however the
// dialog scales the image, a click maps back to original pixels (the server measures in those).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const dialog = $("calibrate-dialog"), openButton = $("calibrate-open");
  if (!dialog || !openButton || typeof dialog.showModal !== "function") return; // the typed field stays
  const form = $("measure-form"), preview = $("preview-img");
  const pixelField = $("pixel_size_mm"), source = $("pixel-source"), openHint = $("calibrate-open-hint");
  const img = $("calibrate-img"), svg = $("calibrate-svg"), line = $("calibrate-line");
  const marks = [$("calibrate-p1"), $("calibrate-p2")];
  const coordinates = [[$("calibrate-x1"), $("calibrate-y1")], [$("calibrate-x2"), $("calibrate-y2")]];
  const distance = $("calibrate-distance"), unit = $("calibrate-unit"), status = $("calibrate-status");
  const apply = $("calibrate-apply");
  const MM_PER_UNIT = { mm: 1, cm: 10 };
  const MIN_POINT_DISTANCE_PX = 5; // closer points make the pixel size mostly click error

  let size = null;         // the chosen image's natural size, once the browser has shown it
  let imageSrc = null;     // the preview's blob URL the points belong to
  let points = [null, null];
  let calibration = null;  // what the pixel field holds when it came from here: {src, mm, px, pixelSize}
  let resultShown = false;

  openButton.closest(".calibrate-open").hidden = false;

  // --- which image: the preview app.js shows (a chosen or dropped file) ------------------------
  function setAvailable(on, hint) {
    openButton.disabled = !on;
    openHint.textContent = hint;
    openHint.hidden = !hint;
  }
  setAvailable(false, openHint.textContent);

  preview.addEventListener("load", () => {
    if (preview.src === imageSrc) return;
    imageSrc = preview.src;
    size = { width: preview.naturalWidth, height: preview.naturalHeight };
    points = [null, null];
    coordinates.flat().forEach((input) => { input.value = ""; input.max = ""; });
    coordinates.forEach(([x, y]) => { x.max = size.width; y.max = size.height; });
    setAvailable(true, "");
    if (calibration) {
      showSource("Pixel size from two points on the previously chosen image, " + describe(calibration)
        + ". Check that it applies to this image, or calibrate again.");
    }
  });
  // app.js removes the preview's source for a new file and for formats the browser cannot show.
  new MutationObserver(() => {
    if (!preview.getAttribute("src")) {
      size = null; imageSrc = null;
      setAvailable(false, "Calibration needs an image the browser can show: PNG, JPEG or BMP.");
    }
  }).observe(preview, { attributes: true, attributeFilter: ["src"] });
  preview.addEventListener("error", () => {
    size = null; imageSrc = null;
    setAvailable(false, "This image cannot be shown in the browser: type the pixel size instead.");
  });

  // --- the points: clicks on the image or typed coordinates -------------------------------------
  function setAttributes(el, values) {
    Object.entries(values).forEach(([k, v]) => el.setAttribute(k, v));
  }

  function draw() {
    const radius = Math.max(size.width, size.height) / 90;
    points.forEach((p, i) => {
      marks[i].toggleAttribute("hidden", p === null);
      if (p === null) return;
      setAttributes(marks[i].querySelector("circle"), { cx: p.x, cy: p.y, r: radius });
      setAttributes(marks[i].querySelector("text"), { x: p.x + radius * 1.2, y: p.y - radius * 1.2,
        "font-size": radius * 2.4 });
    });
    const both = points[0] !== null && points[1] !== null;
    line.toggleAttribute("hidden", !both);
    if (both) setAttributes(line, { x1: points[0].x, y1: points[0].y, x2: points[1].x, y2: points[1].y });
  }

  const round1 = (v) => String(Math.round(v * 10) / 10);

  function setPoint(i, p) {
    points[i] = p;
    coordinates[i][0].value = round1(p.x);
    coordinates[i][1].value = round1(p.y);
  }

  svg.addEventListener("click", (e) => {
    // Screen to image pixels through the SVG's own transform (its viewBox is the natural size).
    const at = new DOMPoint(e.clientX, e.clientY).matrixTransform(svg.getScreenCTM().inverse());
    const p = { x: Math.min(Math.max(at.x, 0), size.width), y: Math.min(Math.max(at.y, 0), size.height) };
    const dist = (q) => Math.hypot(q.x - p.x, q.y - p.y);
    let i = points.indexOf(null);
    if (i < 0) i = dist(points[0]) <= dist(points[1]) ? 0 : 1; // a third click moves the nearer point
    setPoint(i, p);
    draw();
    update();
  });

  coordinates.forEach(([x, y], i) => [x, y].forEach((input) => input.addEventListener("input", () => {
    const px = x.valueAsNumber, py = y.valueAsNumber;
    points[i] = Number.isFinite(px) && Number.isFinite(py) ? { x: px, y: py } : null;
    draw();
    update();
  })));
  distance.addEventListener("input", update);
  unit.addEventListener("change", update);

  // --- the pixel size they give --------------------------------------------------------------
  const formatPixelSize = (v) => String(Number(v.toPrecision(6)));
  const describe = (c) => c.mm.toFixed(1) + " mm over " + c.px.toFixed(1) + " px";

  function current() {
    if (points[0] === null || points[1] === null) return null;
    const px = Math.hypot(points[1].x - points[0].x, points[1].y - points[0].y);
    const mm = distance.valueAsNumber * MM_PER_UNIT[unit.value];
    return { px, mm: Number.isFinite(mm) && mm > 0 ? mm : null };
  }

  function update() {
    const c = current();
    let message, ok = false;
    if (points[0] === null && points[1] === null) message = "Click the first point.";
    else if (c === null) {
      const i = points[0] === null ? 0 : 1;
      message = `Point ${2 - i} is set. Click point ${i + 1}.`;
    } else if (c.px < MIN_POINT_DISTANCE_PX) {
      message = "The points are too close together: choose two points farther apart on the scale.";
    } else if (c.mm === null) {
      message = `${c.px.toFixed(1)} px between the points. Type the distance between them.`;
    } else {
      // The plausible range is the form field's own (the server's settings), not a second copy.
      const pixelSize = c.mm / c.px, low = Number(pixelField.min), high = Number(pixelField.max);
      if (pixelSize < low || pixelSize > high) {
        message = `${formatPixelSize(pixelSize)} mm per pixel is outside the plausible ${low} to ${high} mm: `
          + "check the points and the distance's unit.";
      } else {
        message = `${describe(c)}: ${formatPixelSize(pixelSize)} mm per pixel.`;
        ok = true;
      }
    }
    status.textContent = message;
    apply.disabled = !ok;
  }

  function showSource(text) {
    source.textContent = text;
    source.hidden = !text;
  }

  function open() {
    if (!size) return;
    img.src = imageSrc;
    svg.setAttribute("viewBox", `0 0 ${size.width} ${size.height}`);
    draw();
    update();
    dialog.showModal();
  }

  openButton.addEventListener("click", open);
  // The uncalibrated result's "Calibrate from the image" opens the dialog where it can.
  const uncalibratedLink = document.querySelector("#uncalibrated a");
  if (uncalibratedLink) uncalibratedLink.addEventListener("click", (e) => {
    if (openButton.disabled) return; // the link still leads to the typed field
    e.preventDefault();
    open();
  });
  $("calibrate-cancel").addEventListener("click", () => dialog.close());

  apply.addEventListener("click", () => {
    const c = current();
    calibration = { src: imageSrc, mm: c.mm, px: c.px, pixelSize: formatPixelSize(c.mm / c.px) };
    pixelField.value = calibration.pixelSize;
    showSource("Pixel size from two points on the image, " + describe(calibration) + ".");
    dialog.close();
    // A result on the screen was measured without this pixel size: measure again with it.
    if (resultShown) form.requestSubmit($("submit"));
    else pixelField.focus();
  });

  // A pixel size typed by hand is no longer the one from the points.
  pixelField.addEventListener("input", (e) => {
    if (!e.isTrusted) return;
    calibration = null;
    showSource("");
  });

  // --- the result: say where its pixel size came from ------------------------------------------
  const resultNote = Object.assign(document.createElement("p"), { id: "result-calibration", className: "hint" });
  resultNote.hidden = true;
  $("rows").after(resultNote);

  document.addEventListener("fetalhc:result", (e) => {
    resultShown = true;
    const answer = e.detail.answer;
    const fromHere = calibration !== null && calibration.src === imageSrc && answer.pixel_size_source === "form"
      && pixelField.value === calibration.pixelSize;
    resultNote.hidden = !fromHere;
    if (!fromHere) return;
    resultNote.textContent = "Pixel size from two points on the image, " + describe(calibration) + ".";
    // The server counts the pixels of the file as it reads it; the points are in the browser's.
    if (size && (answer.image.width !== size.width || answer.image.height !== size.height)) {
      resultNote.textContent += ` Caution: the server read this image as ${answer.image.width} x `
        + `${answer.image.height} pixels, the browser as ${size.width} x ${size.height}; `
        + "type the scanner's pixel size instead.";
    }
  });
  document.addEventListener("fetalhc:cleared", () => {
    resultShown = false;
    resultNote.hidden = true;
  });
})();
