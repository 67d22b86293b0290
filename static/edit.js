// fetalhc page: accept or edit the fitted ellipse. The ellipse of a result is drawn over its image with
// handles for the centre, each semi-axis and the rotation, moved with a mouse, a finger or a pen (pointer
// events), or from the keyboard (Tab to a handle, arrow keys move it, Shift for steps of 10). Every change
// asks the server for the record of the new ellipse (POST /ellipse), which static/app.js shows: the page
// computes nothing but where the handles are. "Reset" goes back to the automatic fit, "Accept" fixes the
// shown record and locks the handles.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const form = $("measure-form"), img = $("overlay-img");
  if (!form || !img || !window.fetalhcPage) return;
  const SVG = "http://www.w3.org/2000/svg";
  const INTERVAL_MS = 120; // at most one request this often while a handle moves; the last place is always sent
  const HANDLE_PX = 9; // handle radius on screen, whatever the image's scale
  const ROTATE_GAP_PX = 28; // the rotation handle sits this far beyond the end of the major axis
  const KEYS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  const HANDLES = {
    center: "Ellipse centre: arrow keys move it (Shift: 10 pixels)",
    major: "End of the long axis (OFD): right or up lengthens it, left or down shortens it",
    minor: "End of the short axis (BPD): right or up lengthens it, left or down shortens it",
    rotate: "Rotation: right or down turns the ellipse clockwise, left or up anticlockwise (Shift: 10 degrees)",
  };

  let edit = null; // the shown result's editor state; null when no result is shown

  const el = (name, attrs, parent) => {
    const node = document.createElementNS(SVG, name);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (parent) parent.append(node);
    return node;
  };
  const rad = (deg) => (deg * Math.PI) / 180;
  const fmt = (x) => (Math.round(x * 100) / 100).toString();

  // --- the request: the shown result's image, calibration and gestational age, with the ellipse now ----
  function requestBody(e) {
    const a = edit.automatic, body = { ellipse: e, image: {}, automatic: a.ellipse };
    ["width", "height", "format", "frame", "n_frames"].forEach((k) => { if (a.image[k] !== null) body.image[k] = a.image[k]; });
    if (a.pixel_size_mm !== null) {
      // As measured: the typed value itself when it was typed (the answer's is rounded to 6 decimals).
      const typed = Number(edit.fields.pixel_size_mm);
      body.pixel_size_mm = a.pixel_size_source === "form" && typed > 0 ? typed : a.pixel_size_mm;
      if (a.pixel_size_source === "dicom") body.pixel_size_y_mm = a.pixel_size_y_mm;
      body.pixel_size_source = a.pixel_size_source;
    }
    if (edit.fields.ga_weeks) body.ga_weeks = Number(edit.fields.ga_weeks);
    if (edit.fields.ga_weeks && edit.fields.ga_days) body.ga_days = Number(edit.fields.ga_days);
    return body;
  }

  async function send() {
    const state = edit, seq = ++state.sent, ellipse = Object.assign({}, state.ellipse);
    state.lastSent = performance.now();
    setStatus("Measuring the edited ellipse…");
    let answer = null, message = "";
    try {
      const response = await fetch(new URL("ellipse", form.action), {
        method: "POST", credentials: "same-origin", body: JSON.stringify(requestBody(ellipse)),
        headers: { Accept: "application/json", "Content-Type": "application/json",
                   "X-CSRFToken": form.elements.csrf_token.value },
      });
      const body = await response.json().catch(() => null);
      if (body && body.status === "success") answer = body;
      else message = body && body.message ? body.message : `The server answered HTTP ${response.status}.`;
    } catch (_) {
      message = "The server could not be reached. Check the connection and retry.";
    }
    if (edit !== state || seq <= state.applied) return; // another result, a newer answer or a reset is shown
    state.applied = seq;
    if (answer) show(answer, ellipse, "edited");
    else { state.failed = true; setStatus("Not measured: " + message); syncButtons(); }
  }

  // Sends now, or once INTERVAL_MS has passed since the last request; the answer comes through send().
  function schedule() {
    const state = edit;
    clearTimeout(state.timer);
    const wait = INTERVAL_MS - (performance.now() - state.lastSent);
    state.pending = new Promise((resolve) => {
      state.timer = setTimeout(() => { state.timer = null; send().then(resolve); }, Math.max(0, wait));
    });
  }

  function show(record, ellipse, source) {
    edit.record = record;
    edit.failed = false;
    edit.stage.dataset.ellipse = JSON.stringify(ellipse); // the ellipse whose record is shown
    edit.stage.dataset.source = source;
    // The rows, alerts and flags above the image change with the record: the page scrolls by as much,
    // so that the image stays where the hand (or the eye) is.
    const top = edit.stage.getBoundingClientRect().top;
    window.fetalhcPage.showValues(record);
    const shift = edit.stage.getBoundingClientRect().top - top;
    if (shift) window.scrollBy({ top: shift, behavior: "instant" });
    if (window.fetalhcChart) window.fetalhcChart.update(record);
    setStatus(source === "edited" ? `Edited: HC ${record.circumference} ${record.circumference_unit}` : "");
    syncButtons();
  }

  // --- drawing -----------------------------------------------------------------------------------
  function handlePoint(name, e, scale) {
    const t = rad(e.angle_deg), c = Math.cos(t), s = Math.sin(t);
    if (name === "center") return [e.center_x_px, e.center_y_px];
    if (name === "major") return [e.center_x_px + e.semi_major_px * c, e.center_y_px + e.semi_major_px * s];
    if (name === "minor") return [e.center_x_px - e.semi_minor_px * s, e.center_y_px + e.semi_minor_px * c];
    const r = e.semi_major_px + ROTATE_GAP_PX * scale;
    return [e.center_x_px + r * c, e.center_y_px + r * s];
  }

  // Image pixels per screen pixel: handles keep their size on screen however the image is scaled.
  const screenScale = () => edit.automatic.image.width / (img.clientWidth || edit.automatic.image.width);

  function draw() {
    const { ellipse: e, layer, handles, shapes } = edit;
    const scale = screenScale();
    const at = `rotate(${e.angle_deg} ${e.center_x_px} ${e.center_y_px})`;
    [shapes.halo, shapes.line].forEach((node) => {
      node.setAttribute("cx", e.center_x_px); node.setAttribute("cy", e.center_y_px);
      node.setAttribute("rx", e.semi_major_px); node.setAttribute("ry", e.semi_minor_px);
      node.setAttribute("transform", at);
    });
    Object.entries(handles).forEach(([name, h]) => {
      const [x, y] = handlePoint(name, e, scale);
      h.setAttribute("cx", x); h.setAttribute("cy", y); h.setAttribute("r", HANDLE_PX * scale);
      if (name !== "center") {
        const spoke = shapes[name];
        spoke.setAttribute("x1", e.center_x_px); spoke.setAttribute("y1", e.center_y_px);
        spoke.setAttribute("x2", x); spoke.setAttribute("y2", y);
      }
    });
    handles.center.setAttribute("aria-description", `at x ${fmt(e.center_x_px)}, y ${fmt(e.center_y_px)} pixels`);
    const { width, height } = edit.automatic.image, angle = ((e.angle_deg % 360) + 360) % 360;
    [["major", e.semi_major_px, `semi-major axis ${fmt(e.semi_major_px)} pixels`, Math.hypot(width, height)],
     ["minor", e.semi_minor_px, `semi-minor axis ${fmt(e.semi_minor_px)} pixels`, Math.hypot(width, height)],
     ["rotate", angle, `angle ${fmt(angle)} degrees`, 360]].forEach(([name, value, text, max]) => {
      const h = handles[name];
      h.setAttribute("aria-valuenow", fmt(value)); h.setAttribute("aria-valuetext", text);
      h.setAttribute("aria-valuemin", name === "rotate" ? "0" : "1"); h.setAttribute("aria-valuemax", fmt(max));
    });
    layer.classList.toggle("locked", edit.accepted);
    layer.dataset.ellipse = JSON.stringify(e); // the ellipse drawn (the stage's is the one measured)
  }

  // --- moving a handle -----------------------------------------------------------------------------
  function moveTo(name, x, y) {
    const e = edit.ellipse, { width, height } = edit.automatic.image;
    const limit = Math.hypot(width, height);
    const dx = x - e.center_x_px, dy = y - e.center_y_px, t = rad(e.angle_deg);
    if (name === "center") { // the centre stays on the image, as the server requires
      e.center_x_px = Math.min(Math.max(x, 0), width - 1);
      e.center_y_px = Math.min(Math.max(y, 0), height - 1);
    } else if (name === "major") {
      e.semi_major_px = Math.min(Math.max(dx * Math.cos(t) + dy * Math.sin(t), 1), limit);
    } else if (name === "minor") {
      e.semi_minor_px = Math.min(Math.max(-dx * Math.sin(t) + dy * Math.cos(t), 1), limit);
    } else {
      e.angle_deg = (((Math.atan2(dy, dx) * 180) / Math.PI) + 360) % 360;
    }
    changed();
  }

  function changed() {
    edit.moved = true;
    draw();
    schedule();
  }

  function onKey(name, event) {
    const dir = KEYS[event.key];
    if (!dir || edit.accepted) return;
    event.preventDefault(); // the arrow keys move the handle, not the page
    const step = event.shiftKey ? 10 : 1, e = edit.ellipse;
    if (name === "center") {
      moveTo("center", e.center_x_px + dir[0] * step, e.center_y_px + dir[1] * step);
      return;
    }
    const more = dir[0] > 0 || dir[1] < 0 ? 1 : -1; // right or up: more
    if (name === "rotate") e.angle_deg += (dir[0] > 0 || dir[1] > 0 ? 1 : -1) * step; // right or down: clockwise
    else {
      const key = name === "major" ? "semi_major_px" : "semi_minor_px";
      const { width, height } = edit.automatic.image;
      e[key] = Math.min(Math.max(e[key] + more * step, 1), Math.hypot(width, height));
    }
    changed();
  }

  function imagePoint(event) {
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(edit.layer.getScreenCTM().inverse());
    return [point.x, point.y];
  }

  function makeHandle(name, layer) {
    // The semi-axes and the rotation are one number each (sliders); the centre moves in two directions.
    const h = el("circle", { class: `edit-handle edit-handle-${name}`, tabindex: "0", "aria-label": HANDLES[name],
                             role: name === "center" ? "button" : "slider", "aria-roledescription": "handle",
                             "data-handle": name }, layer);
    h.addEventListener("pointerdown", (event) => {
      if (edit.accepted) return;
      event.preventDefault();
      h.focus({ preventScroll: true }); // taking a handle selects it for the keyboard too
      h.setPointerCapture(event.pointerId);
      // Where on the handle it was taken: the handle keeps that offset instead of jumping under the pointer.
      const [px, py] = imagePoint(event), [hx, hy] = handlePoint(name, edit.ellipse, screenScale());
      edit.dragging = { name, dx: hx - px, dy: hy - py };
    });
    h.addEventListener("pointermove", (event) => {
      const drag = edit.dragging;
      if (!drag || drag.name !== name || !h.hasPointerCapture(event.pointerId)) return;
      const [px, py] = imagePoint(event);
      moveTo(name, px + drag.dx, py + drag.dy);
    });
    const stop = (event) => {
      if (h.hasPointerCapture(event.pointerId)) h.releasePointerCapture(event.pointerId);
      edit.dragging = null;
    };
    h.addEventListener("pointerup", stop);
    h.addEventListener("pointercancel", stop);
    h.addEventListener("keydown", (event) => onKey(name, event));
    return h;
  }

  // --- the editor of one result ---------------------------------------------------------------------
  function stage() {
    if (img.parentElement.classList.contains("edit-stage")) return img.parentElement;
    const wrapper = document.createElement("div");
    wrapper.className = "edit-stage";
    img.before(wrapper);
    wrapper.append(img);
    return wrapper;
  }

  function setStatus(text) {
    if (edit) edit.status.textContent = text;
  }

  function syncButtons() {
    edit.reset.disabled = !edit.moved && !edit.accepted;
    edit.accept.disabled = edit.accepted || edit.failed;
    edit.accept.textContent = edit.accepted ? "Accepted" : "Accept";
    Object.values(edit.handles).forEach((h) => {
      if (edit.accepted) { h.setAttribute("tabindex", "-1"); h.setAttribute("aria-disabled", "true"); }
      else { h.setAttribute("tabindex", "0"); h.removeAttribute("aria-disabled"); }
    });
  }

  function toolbar() {
    const tools = document.createElement("div");
    tools.className = "edit-tools";
    const hint = Object.assign(document.createElement("p"), { className: "hint", id: "edit-hint", textContent:
      "Drag a handle of the white ellipse to fit the skull's outer edge, or Tab to a handle and use the arrow keys " +
      "(Shift: larger steps). The amber ellipse is the automatic fit." });
    const reset = Object.assign(document.createElement("button"), { type: "button", id: "edit-reset",
                                                                     className: "secondary", textContent: "Reset" });
    const accept = Object.assign(document.createElement("button"), { type: "button", id: "edit-accept",
                                                                      textContent: "Accept" });
    const status = Object.assign(document.createElement("span"), { id: "edit-status", className: "edit-status" });
    status.setAttribute("role", "status");
    tools.append(hint, reset, accept, status);
    reset.addEventListener("click", resetEdit);
    accept.addEventListener("click", acceptEdit);
    return { tools, reset, accept, status };
  }

  function start(answer) {
    stop();
    const wrapper = stage();
    const { width, height } = answer.image;
    const layer = el("svg", { class: "edit-layer", viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none",
                              role: "group", "aria-label": "Editable head ellipse", "aria-describedby": "edit-hint" });
    const shapes = { halo: el("ellipse", { class: "edit-ellipse-halo" }, layer),
                     line: el("ellipse", { class: "edit-ellipse" }, layer) };
    ["major", "minor", "rotate"].forEach((name) => { shapes[name] = el("line", { class: `edit-spoke edit-spoke-${name}` }, layer); });
    const handles = {};
    Object.keys(HANDLES).forEach((name) => { handles[name] = makeHandle(name, layer); });
    wrapper.append(layer);
    const { tools, reset, accept, status } = toolbar();
    wrapper.after(tools);
    const fields = Object.fromEntries([...new FormData(form)].filter(([, v]) => typeof v === "string"));
    edit = { automatic: answer, record: answer, ellipse: Object.assign({}, answer.ellipse), fields, layer, shapes,
             handles, stage: wrapper, tools, reset, accept, status, sent: 0, applied: 0, lastSent: -Infinity,
             timer: null, pending: Promise.resolve(), accepted: false, failed: false, moved: false, dragging: null,
             resize: new ResizeObserver(() => edit && draw()) };
    edit.resize.observe(img);
    wrapper.dataset.ellipse = JSON.stringify(answer.ellipse);
    wrapper.dataset.source = "automatic";
    draw();
    syncButtons();
  }

  function stop() {
    if (!edit) return;
    clearTimeout(edit.timer);
    edit.resize.disconnect();
    edit.layer.remove();
    edit.tools.remove();
    edit = null;
  }

  function resetEdit() {
    clearTimeout(edit.timer);
    edit.timer = null;
    edit.applied = edit.sent; // an answer still on its way is for an ellipse no longer shown
    edit.accepted = false;
    edit.moved = false;
    edit.ellipse = Object.assign({}, edit.automatic.ellipse);
    draw();
    show(edit.automatic, edit.automatic.ellipse, "automatic");
    setStatus("Back to the automatic fit.");
  }

  async function acceptEdit() {
    const state = edit;
    if (state.timer) { // the last move may not be measured yet: measure it now
      clearTimeout(state.timer);
      state.timer = null;
      await send();
    } else {
      await state.pending;
    }
    if (edit !== state || state.failed) return;
    state.accepted = true;
    state.dragging = null;
    draw();
    syncButtons();
    state.reset.focus(); // the handles are gone; Reset is what can follow
    const record = state.record;
    setStatus(record.ellipse_source === "edited"
      ? `Accepted: the edited ellipse, HC ${record.circumference} ${record.circumference_unit}.`
      : "Accepted: the automatic fit.");
  }

  document.addEventListener("fetalhc:result", (event) => start(event.detail.answer));
  document.addEventListener("fetalhc:cleared", stop);
})();
