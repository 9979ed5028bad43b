// A small map to pick a point on: square Web Mercator tiles from the operator's provider
// (TUANGOU_MAP_TILE_URL), dragged to move, + and − to zoom, a tap sets the point. It only fills
// the latitude and longitude fields, which stay the way to type a point without the map.
(function () {
  "use strict";
  var SIZE = 256, MIN_ZOOM = 3, MAX_ZOOM = 18, LIMIT = 85.05112878;

  function toPixel(lat, lon, z) {
    var scale = SIZE * Math.pow(2, z);
    var s = Math.sin(Math.max(-LIMIT, Math.min(LIMIT, lat)) * Math.PI / 180);
    return {
      x: (lon + 180) / 360 * scale,
      y: (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale
    };
  }

  function toLatLon(x, y, z) {
    var scale = SIZE * Math.pow(2, z);
    var n = Math.PI - 2 * Math.PI * y / scale;
    return {
      lat: 180 / Math.PI * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n))),
      lon: x / scale * 360 - 180
    };
  }

  function number(input) {
    var v = parseFloat((input.value || "").replace(",", "."));
    return isFinite(v) ? v : null;
  }

  function start(view) {
    var tiles = view.querySelector(".map-tiles"), marker = view.querySelector(".map-marker");
    var latIn = document.getElementById(view.dataset.lat);
    var lonIn = document.getElementById(view.dataset.lon);
    var stored = document.getElementById("map-stored");
    var template = view.dataset.tiles;
    var center = view.dataset.center.split(",").map(parseFloat);
    var zoom = parseInt(view.dataset.zoom, 10) || 4;
    var point = null;
    if (number(latIn) !== null && number(lonIn) !== null) {
      point = { lat: number(latIn), lon: number(lonIn) };
      center = [point.lat, point.lon];
      zoom = Math.max(zoom, 15);
    }
    var middle = toPixel(center[0], center[1], zoom);
    var shown = {};
    view.hidden = false;

    function draw() {
      var w = view.clientWidth, h = view.clientHeight, n = Math.pow(2, zoom);
      var left = middle.x - w / 2, top = middle.y - h / 2, wanted = {};
      for (var tx = Math.floor(left / SIZE); tx <= Math.floor((left + w) / SIZE); tx++) {
        for (var ty = Math.floor(top / SIZE); ty <= Math.floor((top + h) / SIZE); ty++) {
          if (ty < 0 || ty >= n) continue;
          var key = zoom + "/" + tx + "/" + ty, img = shown[key];
          if (!img) {
            img = document.createElement("img");
            img.alt = ""; img.draggable = false; img.width = SIZE; img.height = SIZE;
            img.src = template.replace("{z}", zoom).replace("{x}", ((tx % n) + n) % n)
              .replace("{y}", ty);
            tiles.appendChild(img);
            shown[key] = img;
          }
          img.style.left = (tx * SIZE - left) + "px";
          img.style.top = (ty * SIZE - top) + "px";
          wanted[key] = true;
        }
      }
      Object.keys(shown).forEach(function (key) {
        if (!wanted[key]) { tiles.removeChild(shown[key]); delete shown[key]; }
      });
      if (point) {
        var p = toPixel(point.lat, point.lon, zoom);
        marker.style.left = (p.x - left) + "px"; marker.style.top = (p.y - top) + "px";
        marker.hidden = false;
      } else {
        marker.hidden = true;
      }
    }

    function say() {
      var lat = number(latIn), lon = number(lonIn);
      if (stored) stored.textContent = lat !== null && lon !== null ? lat + ", " + lon : "—";
    }

    function setZoom(to) {
      to = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, to));
      var c = toLatLon(middle.x, middle.y, zoom);
      zoom = to; middle = toPixel(c.lat, c.lon, zoom); draw();
    }

    view.querySelectorAll("button[data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () { setZoom(zoom + parseInt(b.dataset.zoom, 10)); });
    });

    var drag = null;
    tiles.addEventListener("pointerdown", function (e) {
      drag = { x: e.clientX, y: e.clientY, mx: middle.x, my: middle.y, moved: false };
      tiles.setPointerCapture(e.pointerId);
    });
    tiles.addEventListener("pointermove", function (e) {
      if (!drag) return;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 6) drag.moved = true;
      if (drag.moved) { middle = { x: drag.mx - dx, y: drag.my - dy }; draw(); }
    });
    tiles.addEventListener("pointerup", function (e) {
      if (drag && !drag.moved) {
        var box = view.getBoundingClientRect();
        var at = toLatLon(middle.x - view.clientWidth / 2 + e.clientX - box.left,
          middle.y - view.clientHeight / 2 + e.clientY - box.top, zoom);
        point = { lat: +at.lat.toFixed(6), lon: +at.lon.toFixed(6) };
        latIn.value = point.lat; lonIn.value = point.lon;
        say(); draw();
      }
      drag = null;
    });
    tiles.addEventListener("pointercancel", function () { drag = null; });

    [latIn, lonIn].forEach(function (input) {
      input.addEventListener("input", function () {
        var lat = number(latIn), lon = number(lonIn);
        if (lat !== null && lon !== null && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
          point = { lat: lat, lon: lon };
          middle = toPixel(lat, lon, zoom);
        }
        say(); draw();
      });
    });
    window.addEventListener("resize", draw);
    draw();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var view = document.getElementById("map-view");
    if (view && view.dataset.tiles) { start(view); return; }
    // No map: what will be stored still follows the typed coordinates.
    var stored = document.getElementById("map-stored");
    var fields = document.querySelectorAll("input[data-coordinate]");
    if (!stored || fields.length !== 2) return;
    fields.forEach(function (input) {
      input.addEventListener("input", function () {
        var lat = number(fields[0]), lon = number(fields[1]);
        stored.textContent = lat !== null && lon !== null ? lat + ", " + lon : "—";
      });
    });
  });
})();
