// 附近: "use my location" asks the browser for its position (WGS-84) and sends it as such;
// the server converts it to GCJ-02. Without geolocation the button stays hidden and the
// point is typed.
(function () {
  "use strict";
  var button = document.getElementById("locate");
  var form = document.getElementById("nearby-form");
  if (!button || !form || !navigator.geolocation) return;
  var status = document.getElementById("locate-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    status.textContent = button.dataset.asking;
    navigator.geolocation.getCurrentPosition(
      function (pos) {
        form.elements.lat.value = pos.coords.latitude.toFixed(6);
        form.elements.lng.value = pos.coords.longitude.toFixed(6);
        form.elements.coord.value = "wgs84";
        form.submit();
      },
      function () {
        button.disabled = false;
        status.textContent = button.dataset.denied;
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  });
  // A point typed by hand is GCJ-02, as map apps give it.
  ["lat", "lng"].forEach(function (name) {
    form.elements[name].addEventListener("input", function () {
      form.elements.coord.value = "gcj02";
    });
  });
})();
