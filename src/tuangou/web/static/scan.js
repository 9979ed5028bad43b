/* The pickup counter's camera: read the member's QR and verify it as a typed code.
   Where the browser has BarcodeDetector, frames are read here and the code is put into the
   code form and sent. Elsewhere a frame is drawn onto a canvas every ~0.7 s and posted as a
   JPEG to the server, which decodes it (CSRF token and one-time key from the scan form);
   it answers {found: false} until a frame shows a QR, then where the result is shown.
   No library is loaded: without a camera, the photo field and the typed code remain. */
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  var start = document.getElementById("scan-start");
  if (!form || !start || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  var box = document.getElementById("scanner");
  var video = document.getElementById("scan-video");
  var status = document.getElementById("scan-status");
  var stop = document.getElementById("scan-stop");
  var codeForm = document.querySelector("form.verify");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 2097152;
  var stream = null;
  var timer = null;
  var busy = false;
  var detector = null;
  start.hidden = false;

  function say(text) { status.textContent = text; }

  function halt() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    box.hidden = true;
    start.hidden = false;
  }

  function submitCode(text) {
    halt();
    var input = codeForm.querySelector("input[name=code]");
    input.value = text.trim();
    codeForm.submit();
  }

  function next() { timer = setTimeout(tick, 700); }

  function frameBlob(done) {
    var w = video.videoWidth, h = video.videoHeight;
    if (!w || !h) { done(null); return; }
    var scale = Math.min(1, 1280 / Math.max(w, h));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) { done(blob && blob.size <= maxBytes ? blob : null); },
      "image/jpeg", 0.85);
  }

  function sendFrame() {
    frameBlob(function (blob) {
      if (!blob || !stream) { busy = false; if (stream) next(); return; }
      var data = new FormData(form);
      data.set("image", blob, "frame.jpg");
      fetch(form.action, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      }).then(function (answer) {
        busy = false;
        if (answer.found) { halt(); window.location.assign(answer.next); return; }
        if (stream) next();
      }).catch(function () {
        busy = false;
        halt();
        say(form.getAttribute("data-no-camera"));
        box.hidden = false;
      });
    });
  }

  function tick() {
    timer = null;
    if (!stream || busy) return;
    busy = true;
    if (detector) {
      detector.detect(video).then(function (found) {
        busy = false;
        if (found.length && found[0].rawValue) { submitCode(found[0].rawValue); return; }
        next();
      }).catch(function () { detector = null; busy = false; next(); });
    } else {
      sendFrame();
    }
  }

  function begin() {
    start.hidden = true;
    box.hidden = false;
    say(form.getAttribute("data-searching"));
    var ready = Promise.resolve();
    if ("BarcodeDetector" in window) {
      ready = window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") >= 0) {
          detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        }
      }).catch(function () { detector = null; });
    }
    ready.then(function () {
      return navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment" }, audio: false
      });
    }).then(function (s) {
      stream = s;
      video.srcObject = s;
      return video.play();
    }).then(next).catch(function () {
      halt();
      box.hidden = false;
      stop.hidden = true;
      say(form.getAttribute("data-no-camera"));
    });
  }

  start.addEventListener("click", begin);
  stop.addEventListener("click", halt);
  window.addEventListener("pagehide", halt);
})();
